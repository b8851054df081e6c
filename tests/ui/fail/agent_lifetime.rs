use agentix::prelude::*;

#[derive(Agent)]
struct Borrower<'a> {
    name: &'a str,
}

fn main() {}
