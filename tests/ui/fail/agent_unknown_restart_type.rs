use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(restart = "always")]
struct Worker;

fn main() {}
