//! The router as a user drives it: broadcast by pattern, batches in order,
//! and every message it cannot deliver accounted for with its reason.

use std::time::Duration;

use agentix::{
    actors::router::{
        EndReason, Publish, RouterConfig, RouterRef, TopicProblem, UndeliveredFilter,
        UndeliveredReason,
    },
    prelude::*,
};
use support::{probe, receive, swarm};

mod support;

#[agentix::test]
async fn each_subscriber_gets_what_its_pattern_matches_in_publish_order() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (all, mut all_rx) = probe(&swarm, "all").await;
    let (eu, mut eu_rx) = probe(&swarm, "eu").await;
    let (btc, mut btc_rx) = probe(&swarm, "btc").await;
    router.subscribe("market.>", &all).await.unwrap();
    router.subscribe("market.eu.*", &eu).await.unwrap();
    router.subscribe("market.*.btc", &btc).await.unwrap();
    let topics = [
        "market.eu.btc",
        "market.us.btc",
        "market.eu.eth",
        "market.us.eth",
    ];
    for n in 0..100u64 {
        router.publish(topics[n as usize % 4], n).unwrap();
    }
    let flat = |batches: Vec<Vec<u64>>| batches.into_iter().flatten().collect::<Vec<_>>();
    assert_eq!(
        flat(receive(&mut all_rx, 100).await),
        (0..100).collect::<Vec<_>>()
    );
    let expected_eu: Vec<u64> = (0..100).filter(|n| n % 4 == 0 || n % 4 == 2).collect();
    assert_eq!(flat(receive(&mut eu_rx, 50).await), expected_eu);
    let expected_btc: Vec<u64> = (0..100).filter(|n| n % 4 < 2).collect();
    assert_eq!(flat(receive(&mut btc_rx, 50).await), expected_btc);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_burst_arrives_in_batches_no_larger_than_the_maximum() {
    let swarm = swarm();
    let config = RouterConfig::default().max_batch(16);
    let router = RouterRef::<u64>::start(&swarm, config).await.unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("ticks.>", &sub).await.unwrap();
    // Published from inside an arbiter in one go, so the router finds them
    // all waiting in its mailbox; on two topics that reach the same
    // subscriber, so they share batches.
    let burst = router.clone();
    swarm
        .spawn("publisher", move || Publisher {
            router: burst.clone(),
        })
        .await
        .unwrap()
        .burst(1000)
        .await
        .unwrap();
    let batches = receive(&mut rx, 1000).await;
    let flat: Vec<u64> = batches.iter().flatten().copied().collect();
    assert_eq!(flat, (0..1000).collect::<Vec<_>>(), "in order, none lost");
    assert!(
        batches.iter().all(|b| b.len() <= 16),
        "never above the maximum"
    );
    assert!(
        batches.len() < 1000 / 4,
        "batched: {} batches for 1000 messages",
        batches.len()
    );
    swarm.shutdown().await.unwrap();
}

/// Publishes a burst from its own arbiter.
#[derive(Agent)]
#[agent(mailbox = 4)]
struct Publisher {
    router: RouterRef<u64>,
}

#[handlers]
impl Publisher {
    #[handle]
    fn burst(&mut self, n: u64) -> impl std::future::Future<Output = ()> + 'static {
        let router = self.router.clone();
        async move {
            for i in 0..n {
                let topic = if i % 2 == 0 { "ticks.a" } else { "ticks.b" };
                let publish = Publish::new(topic.try_into().unwrap(), i);
                router.send_wait(publish).await.unwrap();
            }
        }
    }
}

#[agentix::test]
async fn a_message_nobody_subscribes_to_is_kept_as_undelivered() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    router.publish("nobody.listens", 7).unwrap();
    let letters = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, UndeliveredReason::NoSubscriber);
    assert_eq!(*letters[0].envelope.payload(), 7);
    assert_eq!(letters[0].envelope.topic().as_str(), "nobody.listens");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_expired_message_is_not_delivered_but_kept_as_expired() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (sub, mut rx) = probe(&swarm, "sub").await;
    router.subscribe("t", &sub).await.unwrap();
    let topic = || "t".try_into().unwrap();
    router
        .send(Publish::new(topic(), 1).ttl(Duration::ZERO))
        .unwrap();
    router
        .send(Publish::new(topic(), 2).ttl(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(receive(&mut rx, 1).await, [[2]]);
    let expired = UndeliveredFilter::all().reason(UndeliveredReason::Expired);
    let letters = router.undelivered(expired).await.unwrap();
    assert_eq!(
        letters
            .iter()
            .map(|l| *l.envelope.payload())
            .collect::<Vec<_>>(),
        [1]
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_subscriber_that_stopped_is_removed_and_its_messages_kept_as_closed() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (gone, _gone_rx) = probe(&swarm, "gone").await;
    let (stays, mut stays_rx) = probe(&swarm, "stays").await;
    router.subscribe("t", &gone).await.unwrap();
    let stays_id = router.subscribe("t", &stays).await.unwrap();
    gone.quit().await.unwrap();
    gone.stopped().await;
    router.publish("t", 1).unwrap();
    router.publish("t", 2).unwrap();
    assert_eq!(receive(&mut stays_rx, 2).await.concat(), [1, 2]);
    // The batch that found it gone is kept; whatever came after had no
    // subscription of it any more.
    let closed = UndeliveredFilter::all().reason(UndeliveredReason::Closed);
    let letters = router.undelivered(closed).await.unwrap();
    assert!(!letters.is_empty());
    assert!(
        letters
            .iter()
            .all(|l| l.subscriber.as_ref().map(|s| s.as_str()) == Some("gone"))
    );
    // The router says where the subscription ended: what was routed to it
    // until then is exactly what is kept for it.
    let ended = router.ended().await.unwrap();
    let [end] = &ended[..] else {
        panic!("one subscription ended: {ended:?}")
    };
    assert_eq!(
        (end.subscriber.as_str(), end.reason),
        ("gone", EndReason::Stopped)
    );
    let mut kept: Vec<u64> = letters.iter().map(|l| l.envelope.id()).collect();
    kept.sort_unstable();
    assert_eq!(kept, (1..=end.routed_until).collect::<Vec<_>>());
    // Removed from the index too: with `stays` gone as well, nobody listens.
    assert!(router.unsubscribe(stays_id).await.unwrap());
    let ended = router.ended().await.unwrap();
    let last = ended
        .last()
        .map(|e| (e.subscriber.as_str(), e.reason, e.routed_until));
    assert_eq!(last, Some(("stays", EndReason::Unsubscribed, 2)));
    assert!(!router.unsubscribe(stays_id).await.unwrap(), "only once");
    router.publish("t", 3).unwrap();
    let nobody = UndeliveredFilter::all().reason(UndeliveredReason::NoSubscriber);
    let letters = router.undelivered(nobody).await.unwrap();
    assert_eq!(
        letters
            .iter()
            .map(|l| *l.envelope.payload())
            .collect::<Vec<_>>(),
        [3]
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn undelivered_messages_can_be_redriven_once_someone_listens() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    router.publish("late.topic", 5).unwrap();
    router.publish("late.topic", 6).unwrap();
    let (sub, mut rx) = probe(&swarm, "late").await;
    router.subscribe("late.>", &sub).await.unwrap();
    let redriven = router.redrive(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(redriven, 2);
    assert_eq!(receive(&mut rx, 2).await.concat(), [5, 6]);
    assert!(
        router
            .undelivered(UndeliveredFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn invalid_topics_and_patterns_are_errors_naming_the_problem() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (sub, _rx) = probe(&swarm, "sub").await;
    let err = router.publish("a..b", 1).unwrap_err();
    let agentix::actors::router::PublishError::Topic(err) = err else {
        panic!("{err}")
    };
    assert_eq!(err.problem(), &TopicProblem::EmptyToken { position: 2 });
    let err = router.subscribe("a.>.b", &sub).await.unwrap_err();
    assert!(
        err.to_string().contains("may only be the last token"),
        "{err}"
    );
    let as_crate_error: agentix::Error = router.publish("a.*", 1).unwrap_err().into();
    assert!(
        as_crate_error.to_string().contains("wildcard"),
        "{as_crate_error}"
    );
    swarm.shutdown().await.unwrap();
}

/// Handles deliveries one at a time through the macro.
#[derive(Agent)]
struct OneByOne {
    seen: tokio::sync::mpsc::UnboundedSender<Vec<u64>>,
}

impl OneByOne {
    fn on_delivery(
        &mut self,
        envelope: &agentix::actors::router::Envelope<u64>,
        _: &mut AgentContext<Self>,
    ) {
        let _ = self.seen.send(vec![*envelope.payload()]);
    }
}

agentix::actors::handle_deliveries!(OneByOne: u64 => on_delivery);

#[agentix::test]
async fn a_per_delivery_handler_sees_each_message_in_order() {
    let swarm = swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sub = swarm
        .spawn("one-by-one", move || OneByOne { seen: tx.clone() })
        .await
        .unwrap();
    router.subscribe("t", &sub).await.unwrap();
    for n in 0..50 {
        router.publish("t", n).unwrap();
    }
    let got = receive(&mut rx, 50).await;
    assert!(
        got.iter().all(|one| one.len() == 1),
        "one call per delivery"
    );
    assert_eq!(got.concat(), (0..50).collect::<Vec<_>>());
    swarm.shutdown().await.unwrap();
}
