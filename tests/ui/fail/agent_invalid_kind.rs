use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(kind = "price feed")]
struct Feed;

fn main() {}
