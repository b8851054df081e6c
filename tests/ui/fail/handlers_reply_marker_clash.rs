use agentix::prelude::*;

#[derive(Agent)]
struct Slot<T: Send> {
    value: Option<T>,
}

#[handlers]
impl<T: Send> Slot<T> {
    // `T` is named by the reply only, so the message needs its `_reply`
    // field, which the parameter already takes.
    #[handle]
    fn swap(&mut self, _reply: u8) -> Option<T> {
        self.value.take()
    }
}

fn main() {}
