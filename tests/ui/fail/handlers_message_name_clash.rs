use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle]
    fn get_total(&mut self) -> u64 {
        0
    }

    #[handle]
    fn get__total(&mut self) -> u64 {
        1
    }
}

fn main() {}
