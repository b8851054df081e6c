use agentix::prelude::*;
use std::future::Future;

#[derive(Agent, Default)]
struct Fetcher;

#[handlers]
impl Fetcher {
    #[handle]
    fn fetch(&mut self, url: String) -> impl Future<Output = usize> {
        async move { url.len() }
    }
}

fn main() {}
