use agentix::prelude::*;

#[derive(Agent, Default)]
struct Quiet;

struct Unknown;

impl agentix::actix::Message for Unknown {
    type Result = ();
}

fn send(quiet: &QuietRef) {
    let _ = quiet.tell(Unknown);
}

fn main() {}
