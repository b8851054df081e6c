use agentix::prelude::*;

#[derive(Agent, Default)]
struct Store;

#[handlers]
impl Store {
    #[handle]
    fn put<T: Send + 'static>(&mut self, value: T) {
        let _ = value;
    }
}

fn main() {}
