use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle]
    fn describe() -> &'static str {
        "counter"
    }
}

fn main() {}
