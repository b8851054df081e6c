use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(mailbox = 0)]
struct Counter;

fn main() {}
