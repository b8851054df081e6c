//! Every asynchronous handler shape compiles and answers.
use agentix::actix::fut::{ActorFuture, ActorFutureExt, WrapFuture};
use agentix::prelude::*;
use std::future::Future;

#[derive(Agent, Default)]
struct Waiter {
    calls: u32,
}

#[handlers]
impl Waiter {
    /// A plain future.
    #[handle]
    fn later(&mut self, value: u32) -> impl Future<Output = u32> + 'static {
        async move { value * 2 }
    }

    /// A plain future with a fallible output, and `Send`.
    #[handle]
    fn parse(&mut self, text: String) -> impl Future<Output = Result<u32, std::num::ParseIntError>> + Send + 'static {
        async move { text.parse() }
    }

    /// An actor future that uses the state after awaiting.
    #[handle]
    fn count(&mut self) -> impl ActorFuture<Self, Output = u32> + 'static {
        async {}.into_actor(self).map(|(), this, _ctx| {
            this.calls += 1;
            this.calls
        })
    }

    /// A concurrent async handler, with the context.
    #[handle(concurrent)]
    fn name_later(&mut self, ctx: &mut AgentContext<Self>) -> impl Future<Output = String> + 'static {
        let name = ctx.name().to_string();
        async move { name }
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    let waiter = swarm.spawn("waiter", Waiter::default).await?;
    assert_eq!(waiter.later(21).await?, 42);
    assert_eq!(waiter.parse("7".into()).await.unwrap(), 7);
    assert!(waiter.parse("x".into()).await.unwrap_err().into_handler_error().is_some());
    assert_eq!(waiter.count().await?, 1);
    assert_eq!(waiter.name_later().await?, "waiter");
    swarm.shutdown().await?;
    Ok(())
}
