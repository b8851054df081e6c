use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

#[handlers]
impl Counter {
    #[handle]
    fn tell(&mut self, text: String) -> String {
        text
    }
}

fn main() {}
