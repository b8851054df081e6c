//! A router sharded over arbiters: subscriptions on every shard, each
//! publisher through one, its order kept; questions answered for all.

use std::future::Future;

use agentix::{
    actors::router::{Publish, RouterConfig, RouterRef, UndeliveredFilter, UndeliveredReason},
    prelude::*,
};
use support::{probe, probe_on, receive};

mod support;

/// Publishes through the reference it cloned in its factory, as an agent
/// publishing would.
#[derive(Agent)]
struct Publisher {
    router: RouterRef<u64>,
}

#[handlers]
impl Publisher {
    /// `from..from + count` on `t.n`, each with its number as its id,
    /// waiting for room in the router's mailbox (a plain send may find it
    /// full while the other publisher fills it too).
    #[handle]
    fn feed(&mut self, from: u64, count: u64) -> impl Future<Output = ()> + 'static {
        let router = self.router.clone();
        async move {
            for n in from..from + count {
                let publish = Publish::new("t.n".try_into().unwrap(), n).id(n + 1);
                router.send_wait(publish).await.unwrap();
            }
        }
    }
}

#[agentix::test]
async fn publishers_in_agents_on_each_arbiter_keep_their_order_and_deduplication() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let config = RouterConfig::default().dedup_window(10_000);
    let router = RouterRef::<u64>::start_sharded(&swarm, config, 2)
        .await
        .unwrap();
    let mut inboxes = Vec::new();
    for arbiter in 0..2 {
        let (sub, rx) = probe_on(&swarm, &format!("sub-{arbiter}"), arbiter).await;
        router.subscribe("t.>", &sub).await.unwrap();
        inboxes.push(rx);
    }
    let mut publishers = Vec::new();
    for arbiter in 0..2 {
        let router = router.clone();
        let publisher = (swarm.agent(move || Publisher {
            router: router.clone(),
        }))
        .on_arbiter(arbiter)
        .spawn()
        .await
        .unwrap();
        publishers.push(publisher);
    }
    // Each publisher sends its numbers twice: the second time, every id is
    // one its shard (the same: one per reference) has seen.
    for _ in 0..2 {
        publishers[0].feed(0, 300).await.unwrap();
        publishers[1].feed(1000, 300).await.unwrap();
    }
    for mut rx in inboxes {
        let got: Vec<u64> = receive(&mut rx, 600).await.concat();
        let from_0: Vec<u64> = got.iter().copied().filter(|n| *n < 1000).collect();
        let from_1: Vec<u64> = got.iter().copied().filter(|n| *n >= 1000).collect();
        assert_eq!(from_0, (0..300).collect::<Vec<_>>(), "once each, in order");
        assert_eq!(
            from_1,
            (1000..1300).collect::<Vec<_>>(),
            "once each, in order"
        );
    }
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(
        counts[&UndeliveredReason::Duplicate],
        600,
        "every second publish caught on the shard that saw the first"
    );
    let others: u64 = (counts.iter())
        .filter(|(reason, _)| **reason != UndeliveredReason::Duplicate)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(others, 0, "nothing else given up");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn publishers_on_different_shards_reach_every_subscriber_in_their_own_order() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let router = RouterRef::<u64>::start_sharded(&swarm, RouterConfig::default(), 2)
        .await
        .unwrap();
    assert_eq!(router.shards(), 2);
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("t.>", &sub).await.unwrap();
    let (a, b) = (router.clone(), router.clone());
    assert_ne!(
        a.shard(),
        b.shard(),
        "clones publish through different shards"
    );
    assert_ne!(a.agent().name(), b.agent().name());
    for n in 0..500 {
        a.publish("t.a", n).unwrap();
        b.publish("t.b", 1000 + n).unwrap();
    }
    let got: Vec<u64> = receive(&mut rx, 1000).await.concat();
    let from_a: Vec<u64> = got.iter().copied().filter(|n| *n < 1000).collect();
    let from_b: Vec<u64> = got.iter().copied().filter(|n| *n >= 1000).collect();
    assert_eq!(from_a, (0..500).collect::<Vec<_>>(), "a's order kept");
    assert_eq!(from_b, (1000..1500).collect::<Vec<_>>(), "b's order kept");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn undelivered_messages_and_unsubscribes_cover_every_shard() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let router = RouterRef::<u64>::start_sharded(&swarm, RouterConfig::default(), 2)
        .await
        .unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    let id = router.subscribe("t", &sub).await.unwrap();
    let (a, b) = (router.clone(), router.clone());
    a.publish("t", 1).unwrap();
    b.publish("t", 2).unwrap();
    let mut got = receive(&mut rx, 2).await.concat();
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    assert!(router.unsubscribe(id).await.unwrap());
    a.publish("t", 3).unwrap();
    b.publish("t", 4).unwrap();
    let nobody = UndeliveredFilter::all().reason(UndeliveredReason::NoSubscriber);
    let letters = router.undelivered(nobody.clone()).await.unwrap();
    let mut payloads: Vec<u64> = letters.iter().map(|l| *l.envelope.payload()).collect();
    payloads.sort_unstable();
    assert_eq!(
        payloads,
        [3, 4],
        "gone from both shards, kept by the router's one dead-letter agent"
    );
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(
        counts[&UndeliveredReason::NoSubscriber],
        2,
        "counts summed over the shards"
    );
    router.subscribe("t", &sub).await.unwrap();
    assert_eq!(router.redrive(nobody).await.unwrap(), 2);
    let mut again = receive(&mut rx, 2).await.concat();
    again.sort_unstable();
    assert_eq!(again, [3, 4]);
    swarm.shutdown().await.unwrap();
}
