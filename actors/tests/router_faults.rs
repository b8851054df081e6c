//! Fault plans reach the router's deliveries (feature `testkit`): a dropped
//! delivery is sent again once its acknowledgement is overdue, a delayed
//! one arrives after later ones, and a subscriber whose mailbox a plan
//! fills gets its mail from the router's queue once it has room.

use std::time::Duration;

use agentix::{
    actix,
    actors::router::{
        Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions, UndeliveredFilter,
    },
    prelude::*,
    testkit::{Fault, FaultPlan, eventually},
};
use tokio::sync::mpsc;

/// Acknowledges every batch and reports (payload, attempt) per delivery.
#[derive(Agent)]
struct Acker {
    seen: mpsc::UnboundedSender<Vec<(u64, u32)>>,
}

impl actix::Handler<Batch<u64>> for Acker {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let _ = (self.seen).send(batch.iter().map(|e| (*e.payload(), e.attempt())).collect());
        batch.ack();
    }
}

type Seen = mpsc::UnboundedReceiver<Vec<(u64, u32)>>;

/// A swarm, a router, and a subscriber `acker` not subscribed yet.
async fn set_up() -> (Swarm, RouterRef<u64>, AckerRef, Seen) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let acker = swarm
        .spawn("acker", move || Acker { seen: tx.clone() })
        .await
        .unwrap();
    (swarm, router, acker, rx)
}

async fn next(rx: &mut Seen) -> Vec<(u64, u32)> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("the subscriber is alive")
}

fn at_least_once(ack_timeout: Duration) -> SubscribeOptions {
    let retry = Retry::default()
        .ack_timeout(ack_timeout)
        .backoff(Duration::from_millis(1), Duration::from_millis(5));
    SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry))
}

#[agentix::test]
async fn a_dropped_delivery_is_sent_again_when_its_acknowledgement_is_overdue() {
    let (swarm, router, sub, mut rx) = set_up().await;
    let options = at_least_once(Duration::from_millis(50));
    (router.subscribe_as("t", &sub, |batch| batch, options))
        .await
        .unwrap();
    let injection = swarm
        .inject(FaultPlan::new(vec![Fault::DropDelivery {
            agent: "acker".into(),
            nth: 1,
        }]))
        .expect("a valid plan");
    router.publish("t", 7).unwrap();
    assert_eq!(next(&mut rx).await, [(7, 2)], "the second attempt arrives");
    assert_eq!(injection.fired().len(), 1);
    let lost = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert!(lost.is_empty(), "nothing given up: {lost:?}");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_delayed_delivery_arrives_after_later_ones() {
    let (swarm, router, sub, mut rx) = set_up().await;
    router.subscribe("t", &sub).await.unwrap();
    let injection = swarm
        .inject(FaultPlan::new(vec![Fault::DelayDelivery {
            agent: "acker".into(),
            nth: 1,
            delay_ms: 30,
        }]))
        .expect("a valid plan");
    router.publish("t", 1).unwrap();
    // Published once the first is on its way, so the second travels in a
    // delivery of its own.
    let fired = eventually(Duration::from_secs(5), async || {
        !injection.fired().is_empty()
    });
    assert!(fired.await, "the first delivery is delayed");
    router.publish("t", 2).unwrap();
    let first = next(&mut rx).await;
    let second = next(&mut rx).await;
    assert_eq!((first, second), (vec![(2, 1)], vec![(1, 1)]), "reordered");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_subscriber_whose_mailbox_reads_full_gets_its_mail_once_it_has_room() {
    let (swarm, router, sub, mut rx) = set_up().await;
    router.subscribe("t", &sub).await.unwrap();
    let injection = swarm
        .inject(FaultPlan::new(vec![Fault::FullMailbox {
            agent: "acker".into(),
            from: 1,
            count: 3,
        }]))
        .expect("a valid plan");
    router.publish("t", 1).unwrap();
    let got: Vec<u64> = next(&mut rx).await.iter().map(|(p, _)| *p).collect();
    assert_eq!(got, [1], "queued in the router, handed over on a retry");
    assert_eq!(injection.fired().len(), 3, "three refused tells");
    swarm.shutdown().await.unwrap();
}
