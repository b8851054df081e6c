//! The router's at-least-once delivery under random subscriber crashes,
//! stops, stalls, full mailboxes and lost or late deliveries: every
//! published message reaches every subscriber at least once, or is kept as
//! undelivered for it with a reason. A subscriber that stops for good is
//! owed what was routed before the router found it gone (`RouterRef::ended`).

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use crate::spawn_traced;

use agentix::{
    actix,
    actors::router::{
        Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions, UndeliveredFilter,
    },
    prelude::*,
    testkit::{
        FaultKind, FaultTest, Report, Scene, Shape, Step, Trace, eventually, no_lost_messages,
        quiescent, shutdown_completes,
    },
};

const SUBSCRIBERS: [&str; 3] = ["s0", "s1", "s2"];
const MESSAGES: u64 = 40;

/// Records each payload it is handed, then acknowledges the batch.
#[derive(Agent)]
struct Subscriber {
    name: &'static str,
    trace: Trace,
}

impl actix::Handler<Batch<u64>> for Subscriber {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        for payload in batch.payloads() {
            self.trace.handled(self.name, *payload);
        }
        batch.ack();
    }
}

fn options() -> SubscribeOptions {
    let retry = Retry::default()
        .ack_timeout(Duration::from_millis(20))
        .retries(8)
        .backoff(Duration::from_millis(1), Duration::from_millis(5));
    SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry))
}

async fn workload(scene: &Scene) -> Result<(), String> {
    let swarm = scene.swarm();
    let router = RouterRef::<u64>::start(swarm, RouterConfig::default().max_batch(8))
        .await
        .map_err(|err| err.to_string())?;
    for name in SUBSCRIBERS {
        let make = |name, trace| Subscriber { name, trace };
        let subscriber = spawn_traced(scene, name, make).await?;
        (router.subscribe_as("feed.>", &subscriber, |batch| batch, options()))
            .await
            .map_err(|err| err.to_string())?;
    }
    for id in 1..=MESSAGES {
        let topic = if id % 2 == 0 { "feed.even" } else { "feed.odd" };
        router
            .publish(topic, id)
            .map_err(|_| format!("publish {id} refused"))?;
    }
    settle(&router, scene.trace()).await
}

/// Waits until each subscriber got, or the router kept as undelivered for
/// it, every message it is owed: all of them, or, for one that stopped for
/// good, those routed before the router found it gone. Then records them
/// as sent, so the invariants check exactly that. The router keeps its own
/// dead letters; they are copied into the trace.
async fn settle(router: &RouterRef<u64>, trace: &Trace) -> Result<(), String> {
    let mut recorded = BTreeSet::new();
    let mut owed = BTreeMap::new();
    let mut failed = None;
    eventually(Duration::from_secs(3), async || {
        let step = async {
            copy_undelivered(router, trace, &mut recorded).await?;
            owed = owed_to(router).await?;
            Ok::<_, String>(accounted(trace, &owed))
        };
        step.await.unwrap_or_else(|err| {
            failed = Some(err);
            true
        })
    })
    .await;
    for (name, until) in owed {
        for id in 1..=until {
            trace.sent(name, id);
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Up to which message each subscriber is owed. One router shard and one
/// publisher number the messages as the workload does, from 1.
async fn owed_to(router: &RouterRef<u64>) -> Result<BTreeMap<&'static str, u64>, String> {
    let ended = router.ended().await.map_err(|err| err.to_string())?;
    let owed = SUBSCRIBERS.map(|name| {
        let end = ended.iter().find(|end| end.subscriber.as_str() == name);
        (name, end.map_or(MESSAGES, |end| end.routed_until))
    });
    Ok(owed.into())
}

/// Whether every message owed is handled or dead-lettered in the trace.
fn accounted(trace: &Trace, owed: &BTreeMap<&'static str, u64>) -> bool {
    let mut done = BTreeSet::new();
    for step in trace.steps() {
        match step {
            Step::Handled { by, id } => done.insert((by, id)),
            Step::DeadLetter {
                to, id: Some(id), ..
            } => done.insert((to, id)),
            _ => false,
        };
    }
    (owed.iter()).all(|(name, until)| (1..=*until).all(|id| done.contains(&(name.to_string(), id))))
}

/// Records the router's undelivered messages not recorded yet.
async fn copy_undelivered(
    router: &RouterRef<u64>,
    trace: &Trace,
    recorded: &mut BTreeSet<(String, u64)>,
) -> Result<(), String> {
    let letters =
        (router.undelivered(UndeliveredFilter::all()).await).map_err(|err| err.to_string())?;
    for letter in letters {
        let to = letter.subscriber.map(|name| name.as_str().to_owned());
        let to = to.ok_or("an undelivered message names no subscriber")?;
        let id = *letter.envelope.payload();
        if letter.envelope.id() != id {
            return Err(format!(
                "message {id} was numbered {}",
                letter.envelope.id()
            ));
        }
        if recorded.insert((to.clone(), id)) {
            trace.record(Step::DeadLetter {
                to,
                id: Some(id),
                reason: format!("{:?}", letter.reason),
            });
        }
    }
    Ok(())
}

pub(crate) fn run(cases: u32) -> Report {
    let shape = Shape::new(SUBSCRIBERS, MESSAGES / 4)
        .kinds([
            FaultKind::Panic,
            FaultKind::Stop,
            FaultKind::Stall,
            FaultKind::FullMailbox,
            FaultKind::DropDelivery,
            FaultKind::DelayDelivery,
        ])
        .faults(0..=5)
        .max_ms(10);
    FaultTest::new("router")
        .cases(cases)
        .invariants(vec![no_lost_messages(), quiescent(), shutdown_completes()])
        .check(shape.plans(), workload)
}
