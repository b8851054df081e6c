use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter {
    total: u64,
}

#[handlers]
impl Counter {
    #[handle]
    fn total(&self) -> u64 {
        self.total
    }
}

fn main() {}
