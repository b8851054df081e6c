use agentix::prelude::*;

#[derive(Agent, Default)]
struct Greeter;

#[handlers]
impl Greeter {
    #[handle]
    fn greet(&mut self, name: &str) -> String {
        format!("hello {name}")
    }
}

fn main() {}
