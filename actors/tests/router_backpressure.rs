//! Backpressure: a stalled subscriber slows nobody under a dropping policy,
//! and holds the publishers back under the blocking one; nothing is lost
//! either way without being counted.

use std::time::Duration;

use agentix::{
    actix,
    actors::router::{
        Batch, OverflowPolicy, Publish, RouterConfig, RouterRef, SubscribeOptions,
        UndeliveredReason,
    },
    prelude::*,
};
use support::{probe, receive};
use tokio::sync::mpsc;

mod support;

/// Blocks its arbiter in the first batch until the test says so.
#[derive(Agent)]
#[agent(mailbox = 2)]
struct Stalled {
    gate: std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
    batches: mpsc::UnboundedSender<Vec<u64>>,
}

impl actix::Handler<Batch<u64>> for Stalled {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let _ = self.gate.lock().unwrap().recv();
        let _ = self.batches.send(batch.payloads().copied().collect());
    }
}

#[agentix::test]
async fn a_stalled_subscriber_slows_nobody_and_its_queue_stays_bounded() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(3)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default().max_batch(8))
        .await
        .unwrap();
    let (open, gate) = std::sync::mpsc::channel();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
    let (stalled_tx, mut stalled_rx) = mpsc::unbounded_channel();
    let stalled = swarm
        .agent(move || Stalled {
            gate: gate.clone(),
            batches: stalled_tx.clone(),
        })
        .name("stalled")
        .on_arbiter(2)
        .spawn()
        .await
        .unwrap();
    let (healthy, mut healthy_rx) = probe(&swarm, "healthy").await;
    let options = SubscribeOptions::default().queue(100, OverflowPolicy::DropOldest);
    router
        .subscribe_as("t", &stalled, |batch| batch, options)
        .await
        .unwrap();
    router.subscribe("t", &healthy).await.unwrap();
    for n in 0..1000u64 {
        router
            .send_wait(Publish::new("t".try_into().unwrap(), n))
            .await
            .unwrap();
    }
    let healthy_got = receive(&mut healthy_rx, 1000).await.concat();
    assert_eq!(healthy_got, (0..1000).collect::<Vec<_>>());
    // The stalled one holds at most its mailbox and its queue; the rest was
    // dropped oldest first, and counted.
    let counts = router.undelivered_counts().await.unwrap();
    let overflow = counts[&UndeliveredReason::Overflow];
    assert!(overflow > 0, "overflow counted");
    for _ in 0..1000 {
        if open.send(()).is_err() {
            break;
        }
    }
    let mut stalled_got: Vec<u64> = Vec::new();
    while (stalled_got.len() as u64) + overflow < 1000 {
        let batch = tokio::time::timeout(Duration::from_secs(5), stalled_rx.recv())
            .await
            .expect("the stalled subscriber catches up")
            .unwrap();
        stalled_got.extend(batch);
    }
    assert_eq!(
        stalled_got.len() as u64 + overflow,
        1000,
        "each message delivered or counted"
    );
    assert!(stalled_got.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(stalled_got.last(), Some(&999), "the freshest kept");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_blocking_subscriber_holds_the_publishers_back_and_loses_nothing() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(3)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default().max_batch(4))
        .await
        .unwrap();
    let (open, gate) = std::sync::mpsc::channel();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stalled = swarm
        .agent(move || Stalled {
            gate: gate.clone(),
            batches: tx.clone(),
        })
        .name("stalled")
        .on_arbiter(2)
        .spawn()
        .await
        .unwrap();
    let options = SubscribeOptions::default().queue(10, OverflowPolicy::Block);
    router
        .subscribe_as("t", &stalled, |batch| batch, options)
        .await
        .unwrap();
    // Publish without waiting until the router's mailbox refuses: the
    // router has stopped taking messages for the stalled subscriber.
    let mut sent = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match router.send(Publish::new("t".try_into().unwrap(), sent)) {
            Ok(()) => sent += 1,
            Err(agentix::actors::router::PublishError::Send(err)) if err.is_full() => break,
            Err(err) => panic!("{err}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "never held back");
        if sent.is_multiple_of(64) {
            tokio::task::yield_now().await;
        }
    }
    for _ in 0..sent {
        if open.send(()).is_err() {
            break;
        }
    }
    let got = receive(&mut rx, sent as usize).await.concat();
    assert_eq!(got, (0..sent).collect::<Vec<_>>(), "everything, in order");
    let counts = router.undelivered_counts().await.unwrap();
    assert!(
        counts.values().all(|n| *n == 0),
        "nothing dropped: {counts:?}"
    );
    drop(open);
    swarm.shutdown().await.unwrap();
}
