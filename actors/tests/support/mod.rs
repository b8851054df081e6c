//! What the router tests share: a probe subscriber that reports each batch,
//! and a wait for deliveries whose failure says how many arrived.
#![allow(dead_code, clippy::mod_module_files)]

use std::time::Duration;

use agentix::{actix, actors::router::Batch, prelude::*};
use tokio::sync::mpsc;

/// Reports every batch it handles: its payloads, in order.
#[derive(Agent)]
pub(crate) struct Probe {
    batches: mpsc::UnboundedSender<Vec<u64>>,
}

impl actix::Handler<Batch<u64>> for Probe {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let _ = self.batches.send(batch.payloads().copied().collect());
    }
}

#[handlers]
impl Probe {
    #[handle]
    pub(crate) fn quit(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.stop();
    }
}

pub(crate) async fn probe(
    swarm: &Swarm,
    name: &str,
) -> (ProbeRef, mpsc::UnboundedReceiver<Vec<u64>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let agent = swarm
        .spawn(name, move || Probe {
            batches: tx.clone(),
        })
        .await
        .unwrap();
    (agent, rx)
}

/// A probe on arbiter `arbiter`.
pub(crate) async fn probe_on(
    swarm: &Swarm,
    name: &str,
    arbiter: usize,
) -> (ProbeRef, mpsc::UnboundedReceiver<Vec<u64>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let agent = (swarm.agent(move || Probe {
        batches: tx.clone(),
    }))
    .name(name)
    .on_arbiter(arbiter)
    .spawn()
    .await
    .unwrap();
    (agent, rx)
}

/// Collects batches until `count` payloads have arrived.
pub(crate) async fn receive<T>(
    rx: &mut mpsc::UnboundedReceiver<Vec<T>>,
    count: usize,
) -> Vec<Vec<T>> {
    let mut batches = Vec::new();
    let mut seen = 0;
    while seen < count {
        let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {seen} of {count} deliveries arrived"))
            .expect("the probe is alive");
        seen += batch.len();
        batches.push(batch);
    }
    batches
}

pub(crate) fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}
