use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

impl Counter {
    #[handle]
    fn ping(&mut self) {}
}

fn main() {}
