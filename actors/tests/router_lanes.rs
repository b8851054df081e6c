//! Priority lanes and de-duplication through the router.

use agentix::{
    actix,
    actors::router::{Batch, Priority, Publish, RouterConfig, RouterRef, UndeliveredReason},
    prelude::*,
};
use support::receive;
use tokio::sync::mpsc;

mod support;

/// Reports each batch: (priority, payload) per delivery.
#[derive(Agent)]
struct Probe {
    batches: mpsc::UnboundedSender<Vec<(Priority, u64)>>,
}

impl actix::Handler<Batch<u64>> for Probe {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let seen = batch.iter().map(|e| (e.priority(), *e.payload())).collect();
        let _ = self.batches.send(seen);
    }
}

/// Publishes a mixed burst in one handler call: on a one-arbiter swarm the
/// router runs only afterwards and finds the whole burst waiting.
#[derive(Agent)]
struct Publisher {
    router: RouterRef<u64>,
}

#[handlers]
impl Publisher {
    #[handle]
    fn burst(&mut self, messages: Vec<(Priority, u64)>) {
        for (priority, n) in messages {
            let publish = Publish::new("t".try_into().unwrap(), n).priority(priority);
            self.router.send(publish).unwrap();
        }
    }
}

#[agentix::test]
async fn critical_goes_at_once_and_the_other_lanes_flush_highest_first() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let probe = swarm
        .spawn("probe", move || Probe {
            batches: tx.clone(),
        })
        .await
        .unwrap();
    router.subscribe("t", &probe).await.unwrap();
    let publisher = swarm
        .spawn("publisher", move || Publisher {
            router: router.clone(),
        })
        .await
        .unwrap();
    let lanes = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Critical,
    ];
    // Smaller than a turn's first stretch (16 messages, whatever the
    // clock says): the router takes the whole burst in one turn, and the
    // open batches leave at its end.
    let burst: Vec<(Priority, u64)> = (0..12).map(|n| (lanes[n as usize % 4], n)).collect();
    publisher.burst(burst).await.unwrap();
    let batches = receive(&mut rx, 12).await;
    let order: Vec<(Priority, u64)> = batches.iter().flatten().copied().collect();
    let lane = |p: Priority| order.iter().filter(move |(q, _)| *q == p).map(|(_, n)| *n);
    // Every critical message left on its own, before anything else.
    assert!(
        batches[..3]
            .iter()
            .all(|b| b.len() == 1 && b[0].0 == Priority::Critical)
    );
    // Then the lanes, highest first, each in publish order.
    let priorities: Vec<Priority> = order.iter().map(|(p, _)| *p).collect();
    assert!(priorities.is_sorted(), "lanes out of order: {priorities:?}");
    for p in lanes {
        let mine: Vec<u64> = lane(p).collect();
        assert_eq!(mine.len(), 3);
        assert!(mine.is_sorted(), "{p:?} in publish order");
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_message_id_seen_within_the_window_is_delivered_once() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let config = RouterConfig::default().dedup_window(100);
    let router = RouterRef::<u64>::start(&swarm, config).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let probe = swarm
        .spawn("probe", move || Probe {
            batches: tx.clone(),
        })
        .await
        .unwrap();
    router.subscribe("t", &probe).await.unwrap();
    for (id, n) in [(1, 10), (1, 11), (2, 20), (1, 12)] {
        router
            .send(Publish::new("t".try_into().unwrap(), n).id(id))
            .unwrap();
    }
    let got: Vec<u64> = receive(&mut rx, 2)
        .await
        .concat()
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(got, [10, 20]);
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(counts[&UndeliveredReason::Duplicate], 2);
    swarm.shutdown().await.unwrap();
}
