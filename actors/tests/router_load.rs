//! The router under sustained publishing: subscribers on its own arbiter
//! are served, acknowledgements are collected while publishing goes on, and
//! what is in flight to a subscriber is bounded, so its overflow policy
//! decides what survives a stall.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use agentix::{
    actix,
    actors::router::{
        Batch, DEFAULT_IN_FLIGHT, DeliveryMode, OverflowPolicy, Publish, Retry, RouterConfig,
        RouterRef, SubscribeOptions, Topic, UndeliveredReason,
    },
    prelude::*,
};
use tokio::sync::oneshot;

/// Counts what it receives and acknowledges every batch; can hold its
/// mailbox on a gate.
#[derive(Agent)]
struct Counter {
    seen: Arc<AtomicU64>,
    /// Every payload, in arrival order, when recording.
    payloads: Option<Recorded>,
}

impl actix::Handler<Batch<u64>> for Counter {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        if let Some(payloads) = &self.payloads {
            payloads.lock().extend(batch.payloads().copied());
        }
        self.seen.fetch_add(batch.len() as u64, Ordering::Relaxed);
        batch.ack();
    }
}

#[handlers]
impl Counter {
    /// Holds the mailbox until the gate opens; says when it holds.
    #[handle]
    fn hold(
        &mut self,
        holding: oneshot::Sender<()>,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = holding.send(());
            let _ = gate.await;
        }
    }
}

/// Every payload a counter received, in arrival order.
type Recorded = Arc<parking_lot::Mutex<Vec<u64>>>;

fn counter(
    swarm: &Swarm,
    arbiter: usize,
    recording: bool,
) -> (
    agentix::Spawn<'_, Counter>,
    Arc<AtomicU64>,
    Option<Recorded>,
) {
    let seen = Arc::new(AtomicU64::new(0));
    let payloads = recording.then(Arc::default);
    let (s, p) = (seen.clone(), payloads.clone());
    let spawn = swarm.agent(move || Counter {
        seen: s.clone(),
        payloads: p.clone(),
    });
    (spawn.on_arbiter(arbiter), seen, payloads)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let reached = agentix::testkit::eventually(Duration::from_secs(10), async || done()).await;
    assert!(reached, "timed out waiting for {what}");
}

#[agentix::test]
async fn subscribers_on_the_routers_arbiter_are_served_while_publishing_goes_on() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (spawn, seen, _) = counter(&swarm, 0, false);
    let subscriber = spawn.spawn().await.unwrap();
    router.subscribe("t", &subscriber).await.unwrap();
    let topic = Topic::new("t").unwrap();
    // This thread publishes as fast as the router takes it; the
    // subscriber shares the router's thread.
    let mut published = 0_u64;
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        while seen.load(Ordering::Relaxed) < 20_000 {
            published += 1;
            let publish = Publish::new(topic.clone(), published);
            router.send_wait(publish).await.unwrap();
        }
    })
    .await;
    let seen = seen.load(Ordering::Relaxed);
    // Starved, it got nothing until the router's mailbox ran dry: 20,000
    // deliveries took 2.7 M publishes without the budget.
    assert!(
        served.is_ok() && published <= 120_000,
        "the subscriber got {seen} of {published} while publishing went on"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn acknowledged_batches_are_released_while_publishing_goes_on() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (spawn, seen, _) = counter(&swarm, 1, false);
    let subscriber = spawn.spawn().await.unwrap();
    let options = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(Retry::default()));
    router
        .subscribe_as("t", &subscriber, |batch| batch, options)
        .await
        .unwrap();
    let topic = Topic::new("t").unwrap();
    const MESSAGES: u64 = 200_000;
    let mut held_max = 0;
    for n in 1..=MESSAGES {
        router
            .send_wait(Publish::new(topic.clone(), n))
            .await
            .unwrap();
        if n % 1_000 == 0 {
            held_max = held_max.max(router.stats().counts().held_for_ack);
        }
    }
    wait_until("every message delivered", || {
        seen.load(Ordering::Relaxed) == MESSAGES
    })
    .await;
    assert!(
        held_max <= DEFAULT_IN_FLIGHT as u64,
        "held {held_max} for acknowledgement, above the in-flight bound"
    );
    wait_until("the acknowledgements collected", || {
        router.stats().counts().held_for_ack == 0
    })
    .await;
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_drop_oldest_subscriber_gets_the_freshest_messages_after_a_stall() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (spawn, seen, payloads) = counter(&swarm, 1, true);
    let subscriber = spawn.spawn().await.unwrap();
    const IN_FLIGHT: usize = 256;
    const QUEUE: usize = 4_096;
    let options = SubscribeOptions::default()
        .in_flight(IN_FLIGHT)
        .queue(QUEUE, OverflowPolicy::DropOldest);
    router
        .subscribe_as("t", &subscriber, |batch| batch, options)
        .await
        .unwrap();
    let ((open, gate), (holding, held)) = (oneshot::channel(), oneshot::channel());
    subscriber.tell(Hold { holding, gate }).unwrap();
    tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the subscriber holds its mailbox")
        .unwrap();
    let topic = Topic::new("t").unwrap();
    const MESSAGES: u64 = 100_000;
    for n in 1..=MESSAGES {
        router
            .send_wait(Publish::new(topic.clone(), n))
            .await
            .unwrap();
    }
    let overflow = || async {
        // Asks every shard to flush and post first: all is routed by then.
        let counts = router.undelivered_counts().await.unwrap();
        counts[&UndeliveredReason::Overflow]
    };
    wait_until("every publish routed", || {
        router.stats().counts().published == MESSAGES
    })
    .await;
    assert!(overflow().await > 0, "the stall overflowed the queue");
    let _ = open.send(());
    let accounted = agentix::testkit::eventually(Duration::from_secs(10), async || {
        seen.load(Ordering::Relaxed) + overflow().await >= MESSAGES
    })
    .await;
    assert!(accounted, "every message received or counted as dropped");
    let payloads = payloads.unwrap().lock().clone();
    let freshest = MESSAGES - QUEUE as u64;
    let stale = payloads.iter().filter(|n| **n <= freshest).count();
    assert!(
        stale <= IN_FLIGHT,
        "{stale} of {} received are older than the newest {QUEUE}",
        payloads.len()
    );
    let newest: Vec<u64> = payloads.iter().copied().filter(|n| *n > freshest).collect();
    assert_eq!(newest, (freshest + 1..=MESSAGES).collect::<Vec<_>>());
    swarm.shutdown().await.unwrap();
}
