use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(mailbox = 8, priority = "high")]
struct Counter;

fn main() {}
