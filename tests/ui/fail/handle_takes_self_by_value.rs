use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle]
    fn finish(self) {}
}

fn main() {}
