use agentix::prelude::*;

#[derive(Agent, Default)]
struct Holder<T: Unpin + 'static> {
    value: Option<T>,
}

fn main() {}
