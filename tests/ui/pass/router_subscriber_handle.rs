//! A router subscriber written with `#[handle]` methods only: sync and
//! async methods taking the batch are subscribed with `subscribe_as`, as
//! its documentation promises; no hand-written `Handler<Batch<M>>`.
use agentix::actors::router::{Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions};
use agentix::prelude::*;
use std::future::Future;

#[derive(Agent, Default)]
struct Ledger {
    total: u64,
}

#[handlers]
impl Ledger {
    #[handle]
    fn sum(&mut self, batch: Batch<u64>) {
        self.total += batch.payloads().sum::<u64>();
    }

    #[handle]
    fn audit(&mut self, batch: Batch<u64>) -> impl Future<Output = ()> + 'static {
        async move { batch.ack() }
    }

    #[handle]
    fn total(&mut self) -> u64 {
        self.total
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    let ledger = swarm.spawn("ledger", Ledger::default).await?;
    router
        .subscribe_as("sales.>", &ledger, |batch| Sum { batch }, SubscribeOptions::default())
        .await?;
    let at_least_once = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(Retry::default()));
    router
        .subscribe_as("audit.>", &ledger, |batch| Audit { batch }, at_least_once)
        .await?;
    router.publish("sales.eu", 5)?;
    let counted = agentix::testkit::eventually(std::time::Duration::from_secs(5), async || {
        ledger.total().await.is_ok_and(|total| total == 5)
    })
    .await;
    assert!(counted);
    swarm.shutdown().await?;
    Ok(())
}
