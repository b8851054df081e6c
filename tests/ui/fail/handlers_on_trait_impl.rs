use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

trait Ping {
    fn ping(&mut self);
}

#[handlers]
impl Ping for Counter {
    #[handle]
    fn ping(&mut self) {}
}

fn main() {}
