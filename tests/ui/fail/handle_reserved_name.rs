use agentix::prelude::*;

#[derive(Agent, Default)]
struct Counter;

// `tell` was always reserved; `queued` and `activity` are the names the
// macros once let through (they would shadow `AgentRef::queued` and
// `AgentRef::activity`).
#[handlers]
impl Counter {
    #[handle]
    fn tell(&mut self, text: String) -> String {
        text
    }

    #[handle]
    fn queued(&mut self) -> u64 {
        0
    }

    #[handle]
    fn activity(&mut self) {}
}

fn main() {}
