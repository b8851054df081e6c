//! Backoff between restarts of a child: delays grow as configured, the child
//! keeps its address while it waits, and messages sent meanwhile reach the
//! new incarnation in order, within the mailbox bound.
//!
//! The delays themselves are computed by pure code tested with a seeded
//! generator (`runtime/src/supervision/backoff.rs`); here the checks are
//! one-sided in real time (never sooner than the delay), so a slow machine
//! cannot make them fail.

mod support;

use std::time::{Duration, Instant};

use agentix::{AgentStatus, Event, prelude::*};
use support::{
    is, next_event,
    worker::{Journal, Record, Worker, worker},
};

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

fn backoff(min_ms: u64, max_ms: u64) -> Backoff {
    Backoff::exponential(Duration::from_millis(min_ms), Duration::from_millis(max_ms))
        .factor(2.0)
        .jitter(0.0)
}

#[agentix::test]
async fn restart_delays_grow_by_the_backoff_and_are_announced() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .intensity(Intensity::new(10, Duration::from_secs(3600)))
        .backoff(backoff(20, 60))
        .child(ChildSpec::new("a", worker("a", &journal)))
        .start()
        .await
        .unwrap();
    let a = root.child::<Worker>("a").unwrap();
    let mut events = swarm.events();
    for (attempt, expected_ms) in [(1, 20), (2, 40), (3, 60)] {
        let failed_at = Instant::now();
        a.fail().await.unwrap_err();
        let event = next_event(&mut events, "the restart", |e| {
            is(e, "a", |k| matches!(k, Event::Restarted { .. }))
        })
        .await;
        let expected = Duration::from_millis(expected_ms);
        assert_eq!(
            event.event(),
            &Event::Restarted {
                attempt,
                delay: expected
            }
        );
        assert_eq!(a.incarnation().await.unwrap(), attempt);
        assert!(
            failed_at.elapsed() >= expected,
            "answered before its backoff of {expected:?}"
        );
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn messages_sent_during_backoff_reach_the_new_incarnation_in_order() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .backoff(backoff(300, 300))
        .child(ChildSpec::new("a", worker("a", &journal)))
        .start()
        .await
        .unwrap();
    let a = root.child::<Worker>("a").unwrap();
    let mut events = swarm.events();
    a.fail().await.unwrap_err();
    next_event(&mut events, "the backoff", |e| {
        is(e, "a", |k| matches!(k, Event::Restarted { .. }))
    })
    .await;
    assert_eq!(
        a.status(),
        AgentStatus::Restarting,
        "still waiting out its backoff"
    );
    for n in 1..=5 {
        a.tell(Record { n }).unwrap();
    }
    assert_eq!(a.seen().await.unwrap(), [1, 2, 3, 4, 5]);
    assert_eq!(a.incarnation().await.unwrap(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_child_waiting_out_its_backoff_keeps_its_mailbox_bound() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .backoff(backoff(500, 500))
        .child(ChildSpec::new("a", worker("a", &journal)).mailbox(3))
        .start()
        .await
        .unwrap();
    let a = root.child::<Worker>("a").unwrap();
    let mut events = swarm.events();
    a.fail().await.unwrap_err();
    next_event(&mut events, "the backoff", |e| {
        is(e, "a", |k| matches!(k, Event::Restarted { .. }))
    })
    .await;
    let mut accepted = 0;
    let refused = loop {
        match a.tell(Record { n: accepted }) {
            Ok(()) => accepted += 1,
            Err(err) => break err,
        }
        assert!(accepted <= 3, "the bound was ignored during backoff");
    };
    assert_eq!(accepted, 3);
    assert!(refused.is_full());
    assert_eq!(
        refused.into_inner().n,
        3,
        "the refused message is handed back"
    );
    assert_eq!(a.seen().await.unwrap(), [0, 1, 2]);
    swarm.shutdown().await.unwrap();
}
