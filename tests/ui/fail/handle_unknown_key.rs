use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle(priority = 3)]
    fn ping(&mut self) {}
}

fn main() {}
