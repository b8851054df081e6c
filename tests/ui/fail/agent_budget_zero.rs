use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(budget = 0)]
struct Counter;

fn main() {}
