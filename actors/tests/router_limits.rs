//! The router at the edges of what it accepts: time-to-live counted from
//! the publisher's call, durations too long for the clock, sizes beyond
//! their maximum, queue-group names breaking the rules. Each gets its
//! documented behaviour or a typed error, never a panic, a restart or an
//! abort.

mod support;

use std::time::Duration;

use agentix::{
    ConfigError, SpawnError, actix,
    actors::router::{
        Batch, DeliveryMode, GroupNameProblem, GroupStrategy, MAX_DEDUP_WINDOW, MAX_GROUP_NAME_LEN,
        MAX_SHARDS, Publish, Retry, RouterConfig, RouterRef, SubscribeError, SubscribeOptions,
        UndeliveredFilter, UndeliveredReason,
    },
    prelude::*,
};
use support::{probe, receive};
use tokio::sync::{mpsc, oneshot};

/// Holds its arbiter's thread until released: nothing else there runs,
/// the router included.
#[derive(Agent, Default)]
struct Hog;

#[handlers]
impl Hog {
    #[handle]
    fn hold(&mut self, holding: oneshot::Sender<()>, release: std::sync::mpsc::Receiver<()>) {
        let _ = holding.send(());
        // Blocking on purpose: this is the busy router's mailbox wait.
        let _ = release.recv();
    }
}

/// Refuses every batch, then reports each (payload, attempt) it refused.
#[derive(Agent)]
struct Refuser {
    seen: mpsc::UnboundedSender<(u64, u32)>,
}

impl actix::Handler<Batch<u64>> for Refuser {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let refused: Vec<_> = batch.iter().map(|e| (*e.payload(), e.attempt())).collect();
        batch.nack();
        for one in refused {
            let _ = self.seen.send(one);
        }
    }
}

fn topic() -> agentix::actors::router::Topic {
    "t".try_into().unwrap()
}

async fn kept(router: &RouterRef<u64>, reason: UndeliveredReason) -> Vec<u64> {
    let filter = UndeliveredFilter::all().reason(reason);
    let letters = router.undelivered(filter).await.unwrap();
    letters.iter().map(|l| *l.envelope.payload()).collect()
}

#[agentix::test]
async fn ttl_counts_from_publish_not_from_routing() {
    // One arbiter: while the hog holds it, the router takes nothing.
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("t", &sub).await.unwrap();
    let hog = swarm.spawn("hog", Hog::default).await.unwrap();
    let (holding, held) = oneshot::channel();
    let (release, hold_until) = std::sync::mpsc::channel();
    hog.tell(Hold {
        holding,
        release: hold_until,
    })
    .unwrap();
    held.await.expect("the hog holds the arbiter");
    let ttl = Duration::from_millis(20);
    let published = std::time::Instant::now();
    router.send(Publish::new(topic(), 1).ttl(ttl)).unwrap();
    router.send(Publish::new(topic(), 2)).unwrap();
    // The router takes them only once the ttl has passed in its mailbox.
    while published.elapsed() <= ttl {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();
    assert_eq!(receive(&mut rx, 1).await, [[2]], "only the one without ttl");
    assert_eq!(kept(&router, UndeliveredReason::Expired).await, [1]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_ttl_of_duration_max_is_delivered_without_a_restart() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("t", &sub).await.unwrap();
    router
        .send(Publish::new(topic(), 1).ttl(Duration::MAX))
        .unwrap();
    router
        .send_wait(Publish::new(topic(), 2).ttl(Duration::MAX))
        .await
        .unwrap();
    let got: Vec<u64> = receive(&mut rx, 2).await.concat();
    assert_eq!(got, [1, 2]);
    assert_eq!(router.agent().restarts(), 0);
    assert!(kept(&router, UndeliveredReason::Expired).await.is_empty());
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_backoff_of_duration_max_puts_the_retry_off_without_a_restart() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, mut seen) = mpsc::unbounded_channel();
    let refuser = swarm
        .spawn("refuser", move || Refuser { seen: tx.clone() })
        .await
        .unwrap();
    let retry = Retry::default()
        .ack_timeout(Duration::MAX)
        .backoff(Duration::MAX, Duration::MAX);
    // A least-busy group settles its members' answers before each pick:
    // the refusal is scheduled for its retry as the next publish is routed.
    let options = SubscribeOptions::default()
        .delivery(DeliveryMode::AtLeastOnce(retry))
        .group("refusers", GroupStrategy::LeastBusy);
    router
        .subscribe_as("t", &refuser, |batch| batch, options)
        .await
        .unwrap();
    router.publish("t", 1).unwrap();
    let next = async |seen: &mut mpsc::UnboundedReceiver<(u64, u32)>| {
        let got = tokio::time::timeout(Duration::from_secs(5), seen.recv()).await;
        got.expect("a delivery in time")
            .expect("the refuser is alive")
    };
    assert_eq!(next(&mut seen).await, (1, 1), "refused");
    router.publish("t", 2).unwrap();
    assert_eq!(next(&mut seen).await, (2, 1), "routed after the settle");
    assert_eq!(router.agent().restarts(), 0);
    // The gauge is set by the router's next acknowledgement check.
    let held = agentix::testkit::eventually(Duration::from_secs(5), async || {
        router.stats().counts().held_for_ack == 2
    })
    .await;
    assert!(held, "1 waits 30 years: {:?}", router.stats().counts());
    assert!(seen.try_recv().is_err(), "no retry yet");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_backoff_of_duration_max_with_no_retries_left_is_kept_as_exhausted() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, _seen) = mpsc::unbounded_channel();
    let refuser = swarm
        .spawn("refuser", move || Refuser { seen: tx.clone() })
        .await
        .unwrap();
    let retry = Retry::default()
        .retries(0)
        .backoff(Duration::MAX, Duration::MAX);
    let options = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry));
    router
        .subscribe_as("t", &refuser, |batch| batch, options)
        .await
        .unwrap();
    router.publish("t", 7).unwrap();
    let mut exhausted = Vec::new();
    let given_up = agentix::testkit::eventually(Duration::from_secs(5), async || {
        exhausted = kept(&router, UndeliveredReason::RetriesExhausted).await;
        !exhausted.is_empty()
    })
    .await;
    assert!(given_up, "never given up");
    assert_eq!(exhausted, [7]);
    assert_eq!(router.agent().restarts(), 0);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn dedup_window_above_maximum_is_a_config_error() {
    let swarm = support::swarm();
    for window in [MAX_DEDUP_WINDOW + 1, 1 << 40, usize::MAX] {
        let config = RouterConfig::default().dedup_window(window);
        let err = RouterRef::<u64>::start(&swarm, config).await.unwrap_err();
        assert_eq!(
            err,
            SpawnError::Config(ConfigError::TooLarge {
                setting: "dedup_window",
                requested: window,
                max: MAX_DEDUP_WINDOW,
            })
        );
        assert!(err.to_string().contains("dedup_window"), "{err}");
    }
    // The maximum itself starts at once: the window grows as ids come.
    let config = RouterConfig::default().dedup_window(MAX_DEDUP_WINDOW);
    let router = RouterRef::<u64>::start(&swarm, config).await.unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("t", &sub).await.unwrap();
    for id in [1, 1, 2] {
        router.send(Publish::new(topic(), id).id(id)).unwrap();
    }
    assert_eq!(receive(&mut rx, 2).await.concat(), [1, 2]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn shard_count_above_maximum_is_a_config_error() {
    let swarm = support::swarm();
    for shards in [MAX_SHARDS + 1, 1 << 40, usize::MAX] {
        let err = RouterRef::<u64>::start_sharded(&swarm, RouterConfig::default(), shards)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SpawnError::Config(ConfigError::TooLarge {
                setting: "shards",
                requested: shards,
                max: MAX_SHARDS,
            })
        );
    }
    let router = RouterRef::<u64>::start_sharded(&swarm, RouterConfig::default(), 0)
        .await
        .unwrap();
    assert_eq!(router.shards(), 1, "at least one");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_invalid_queue_group_name_is_refused_with_a_typed_error() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (sub, _rx) = probe(&swarm, "sub").await;
    let long = "g".repeat(10_000);
    let cases = [
        ("", GroupNameProblem::Empty),
        ("pay workers", GroupNameProblem::BadChar { at: 3 }),
        (long.as_str(), GroupNameProblem::TooLong { len: 10_000 }),
    ];
    for (name, problem) in cases {
        let options = SubscribeOptions::default().group(name, GroupStrategy::RoundRobin);
        let err = router
            .subscribe_as("t", &sub, |batch| batch, options)
            .await
            .unwrap_err();
        match err {
            SubscribeError::Group(err) => assert_eq!(err.problem(), problem),
            other => panic!("expected a group name error, got {other:?}"),
        }
    }
    router.publish("t", 1).unwrap();
    assert_eq!(
        kept(&router, UndeliveredReason::NoSubscriber).await,
        [1],
        "no refused subscription was made"
    );
    let fine = "g".repeat(MAX_GROUP_NAME_LEN);
    let options = SubscribeOptions::default().group(&fine, GroupStrategy::RoundRobin);
    router
        .subscribe_as("t", &sub, |batch| batch, options)
        .await
        .unwrap();
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn undelivered_counts_are_a_map_with_every_reason() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    router.publish("nobody", 1).unwrap();
    router.publish("nobody", 2).unwrap();
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        UndeliveredReason::ALL,
        "every reason, in a fixed order"
    );
    assert_eq!(counts[&UndeliveredReason::NoSubscriber], 2);
    assert_eq!(counts.values().sum::<u64>(), 2);
    swarm.shutdown().await.unwrap();
}
