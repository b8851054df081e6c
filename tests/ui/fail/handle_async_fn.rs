use agentix::prelude::*;

#[derive(Agent, Default)]
struct Fetcher;

#[handlers]
impl Fetcher {
    #[handle]
    async fn fetch(&mut self, url: String) -> usize {
        url.len()
    }
}

fn main() {}
