//! The router's dead-letter agent: one per router, shared by its shards,
//! bounded, and outliving the router it serves.

use agentix::actors::router::{RouterConfig, RouterRef, UndeliveredFilter, UndeliveredReason};

mod support;

fn payloads(letters: &[agentix::actors::router::Undelivered<u64>]) -> Vec<u64> {
    letters.iter().map(|l| *l.envelope.payload()).collect()
}

#[agentix::test]
async fn the_dead_letters_keep_the_newest_and_count_every_one() {
    let swarm = support::swarm();
    let config = RouterConfig::default().undelivered(3);
    let router = RouterRef::<u64>::start(&swarm, config).await.unwrap();
    for n in 1..=5 {
        router.publish("nobody.home", n).unwrap();
    }
    let kept = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(payloads(&kept), [3, 4, 5]);
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(counts[&UndeliveredReason::NoSubscriber], 5);
    assert_eq!(router.dead_letters().kind(), "dead_letters");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn the_dead_letters_outlive_a_stopped_router_and_a_refused_redrive_keeps_them() {
    let swarm = support::swarm();
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    for n in 1..=3 {
        router.publish("nobody.home", n).unwrap();
    }
    let kept = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(payloads(&kept), [1, 2, 3]);
    router.agent().stop();
    router.agent().stopped().await;
    let kept = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(
        payloads(&kept),
        [1, 2, 3],
        "still answered without the router"
    );
    let redriven = router.redrive(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(redriven, 0, "nowhere to route them");
    let kept = router.undelivered(UndeliveredFilter::all()).await.unwrap();
    assert_eq!(payloads(&kept), [1, 2, 3], "still kept, in order");
    let counts = router.undelivered_counts().await.unwrap();
    assert_eq!(
        counts[&UndeliveredReason::NoSubscriber],
        3,
        "a refused redrive counts nothing twice: {counts:?}"
    );
    swarm.shutdown().await.unwrap();
}
