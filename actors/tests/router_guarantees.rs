//! At-least-once delivery through the public API: subscribers that panic,
//! never answer, or answer late lose nothing: every message is delivered or
//! kept as undelivered with its reason.

use std::{collections::BTreeSet, time::Duration};

use agentix::{
    actix,
    actors::router::{
        Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions, UndeliveredFilter,
        UndeliveredReason,
    },
    prelude::*,
};
use tokio::sync::mpsc;

/// What a subscriber saw: (payload, attempt) per delivery.
type Seen = mpsc::UnboundedSender<Vec<(u64, u32)>>;

fn seen(batch: &Batch<u64>) -> Vec<(u64, u32)> {
    batch.iter().map(|e| (*e.payload(), e.attempt())).collect()
}

/// Panics on the first attempt of any batch holding a multiple of 10 plus 3.
#[derive(Agent)]
struct Flaky {
    seen: Seen,
}

impl actix::Handler<Batch<u64>> for Flaky {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let unlucky = batch
            .iter()
            .any(|e| e.attempt() == 1 && *e.payload() % 10 == 3);
        assert!(!unlucky, "flaky subscriber fails");
        let _ = self.seen.send(seen(&batch));
        batch.ack();
    }
}

/// Takes batches and never answers; keeps them, so they time out.
#[derive(Agent)]
struct Silent {
    seen: Seen,
    kept: Vec<Batch<u64>>,
}

impl actix::Handler<Batch<u64>> for Silent {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let _ = self.seen.send(seen(&batch));
        if batch.iter().all(|e| e.attempt() > 1) {
            batch.ack();
        } else {
            self.kept.push(batch);
        }
    }
}

/// Refuses everything.
#[derive(Agent)]
struct Refuser;

impl actix::Handler<Batch<u64>> for Refuser {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        batch.nack();
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

fn at_least_once(retry: Retry) -> SubscribeOptions {
    SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry))
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Vec<(u64, u32)>>, what: &str) -> Vec<(u64, u32)> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("the subscriber is alive")
}

#[agentix::test]
async fn what_a_panicking_subscriber_dropped_is_delivered_again() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let flaky = swarm
        .agent(move || Flaky { seen: tx.clone() })
        .name("flaky")
        .intensity(Intensity::new(1000, Duration::from_secs(1)))
        .spawn()
        .await
        .unwrap();
    let retry = Retry::default().backoff(Duration::from_millis(1), Duration::from_millis(5));
    router
        .subscribe_as("t", &flaky, |batch| batch, at_least_once(retry))
        .await
        .unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for n in 0..100 {
        router.publish("t", n).unwrap();
    }
    let mut got = BTreeSet::new();
    let mut retried = BTreeSet::new();
    while got.len() < 100 {
        for (payload, attempt) in next(&mut rx, "the deliveries").await {
            got.insert(payload);
            if attempt > 1 {
                retried.insert(payload);
            }
        }
    }
    std::panic::set_hook(hook);
    assert_eq!(got, (0..100).collect(), "every message delivered");
    assert!(
        (0..100)
            .filter(|n| n % 10 == 3)
            .all(|n| retried.contains(&n))
    );
    assert!(flaky.restarts() > 0, "it did panic");
    let counts = router.undelivered_counts().await.unwrap();
    assert!(
        counts.values().all(|n| *n == 0),
        "nothing given up: {counts:?}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_unanswered_batch_is_sent_again_after_the_ack_timeout() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let silent = swarm
        .spawn("silent", move || Silent {
            seen: tx.clone(),
            kept: Vec::new(),
        })
        .await
        .unwrap();
    let retry = Retry::default()
        .ack_timeout(Duration::from_millis(50))
        .backoff(Duration::from_millis(1), Duration::from_millis(1));
    router
        .subscribe_as("t", &silent, |batch| batch, at_least_once(retry))
        .await
        .unwrap();
    router.publish("t", 1).unwrap();
    assert_eq!(next(&mut rx, "the first delivery").await, [(1, 1)]);
    assert_eq!(next(&mut rx, "the retry").await, [(1, 2)]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_message_refused_every_time_is_given_up_after_its_retries() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let refuser = swarm.spawn("refuser", || Refuser).await.unwrap();
    let retry = Retry::default()
        .retries(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(2));
    router
        .subscribe_as("t", &refuser, |batch| batch, at_least_once(retry))
        .await
        .unwrap();
    for n in 0..5 {
        router.publish("t", n).unwrap();
    }
    let exhausted = UndeliveredFilter::all().reason(UndeliveredReason::RetriesExhausted);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let letters = loop {
        let letters = router.undelivered(exhausted.clone()).await.unwrap();
        if letters.len() == 5 {
            break letters;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} given up",
            letters.len()
        );
        tokio::task::yield_now().await;
    };
    let mut payloads: Vec<_> = letters.iter().map(|l| *l.envelope.payload()).collect();
    payloads.sort_unstable();
    assert_eq!(payloads, [0, 1, 2, 3, 4]);
    assert!(
        letters.iter().all(|l| l.envelope.attempt() == 4),
        "first try and three retries"
    );
    assert!(
        letters
            .iter()
            .all(|l| l.subscriber.as_ref().map(|s| s.as_str()) == Some("refuser"))
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_retry_past_the_deadline_is_kept_as_expired_instead() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let refuser = swarm.spawn("refuser", || Refuser).await.unwrap();
    // The first retry comes 50 ms after the refusal; the message lives 20.
    let retry = Retry::default().backoff(Duration::from_millis(50), Duration::from_millis(50));
    router
        .subscribe_as("t", &refuser, |batch| batch, at_least_once(retry))
        .await
        .unwrap();
    let publish = agentix::actors::router::Publish::new("t".try_into().unwrap(), 9)
        .ttl(Duration::from_millis(20));
    router.send(publish).unwrap();
    let expired = UndeliveredFilter::all().reason(UndeliveredReason::Expired);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let letters = loop {
        let letters = router.undelivered(expired.clone()).await.unwrap();
        if !letters.is_empty() {
            break letters;
        }
        assert!(tokio::time::Instant::now() < deadline, "never expired");
        tokio::task::yield_now().await;
    };
    assert_eq!(*letters[0].envelope.payload(), 9);
    assert_eq!(letters[0].envelope.attempt(), 2, "expired on its retry");
    let exhausted = UndeliveredFilter::all().reason(UndeliveredReason::RetriesExhausted);
    assert!(router.undelivered(exhausted).await.unwrap().is_empty());
    swarm.shutdown().await.unwrap();
}
