use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle(concurrent)]
    fn ping(&mut self) {}
}

fn main() {}
