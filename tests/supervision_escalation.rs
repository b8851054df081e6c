//! Restart intensity and escalation: exactly N restarts in T are allowed, the
//! next one makes the supervisor give up and fail to its parent, which
//! applies its own strategy, up to the root, whose give-up is reported.

mod support;

use std::time::Duration;

use agentix::{AgentStatus, Event, ShutdownError, prelude::*};
use support::{
    PROMPTLY, is, next_event, within,
    worker::{Journal, Worker, worker},
};

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

#[agentix::test]
async fn exactly_the_intensity_is_allowed_and_the_next_restart_makes_the_root_give_up() {
    let swarm = swarm();
    let journal = Journal::default();
    let mut events = swarm.events();
    let root = swarm
        .supervisor("root")
        .intensity(Intensity::new(2, HOUR))
        .child(ChildSpec::new("a", worker("a", &journal)))
        .start()
        .await
        .unwrap();
    let a = root.child::<Worker>("a").unwrap();
    for restart in 1..=2 {
        a.fail().await.unwrap_err();
        assert_eq!(
            a.incarnation().await.unwrap(),
            restart,
            "restart {restart} is allowed"
        );
    }
    a.fail().await.unwrap_err();

    let reason = within(PROMPTLY, "the root's end", root.stopped()).await;
    let ExitReason::Escalated(escalation) = &reason else {
        panic!("{reason}")
    };
    assert_eq!(escalation.supervisor().as_str(), "root");
    assert_eq!(escalation.child().as_str(), "a");
    assert_eq!(escalation.intensity(), Intensity::new(2, HOUR));
    assert_eq!(
        escalation.cause().failure().unwrap().panic_text(),
        "a failed on purpose"
    );
    assert!(reason.to_string().contains("gave up"), "{reason}");
    next_event(&mut events, "the give-up", |e| {
        is(e, "root", |k| matches!(k, Event::GaveUp { .. }))
    })
    .await;
    assert!(within(PROMPTLY, "a's end", a.stopped()).await == ExitReason::Shutdown);
    assert_eq!(a.restarts(), 2);

    let err = swarm.shutdown().await.unwrap_err();
    let ShutdownError::GaveUp { escalations, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(escalations[0].child().as_str(), "a");
    assert!(
        err.to_string().contains("root supervisor(s) gave up"),
        "{err}"
    );
}

#[agentix::test]
async fn a_three_level_escalation_restarts_the_subtree_then_reaches_the_root() {
    let swarm = swarm();
    let journal = Journal::default();
    let mut events = swarm.events();
    let leaf = SupervisorSpec::new("leaf")
        .intensity(Intensity::new(0, HOUR))
        .child(ChildSpec::new("w", worker("w", &journal)));
    let mid = SupervisorSpec::new("mid")
        .intensity(Intensity::new(0, HOUR))
        .supervisor(leaf);
    let root = swarm
        .supervisor("root")
        .intensity(Intensity::new(1, HOUR))
        .supervisor(mid)
        .start()
        .await
        .unwrap();
    let mid = root.supervisor("mid").unwrap();
    let leaf = mid.supervisor("leaf").unwrap();
    let w = leaf.child::<Worker>("w").unwrap();

    // leaf gives up, mid gives up, root restarts mid: the whole subtree in place.
    w.fail().await.unwrap_err();
    for supervisor in ["leaf", "mid"] {
        next_event(&mut events, "an escalation", |e| {
            is(e, supervisor, |k| matches!(k, Event::Escalated { .. }))
        })
        .await;
    }
    next_event(&mut events, "mid restarted", |e| {
        is(e, "mid", |k| matches!(k, Event::Restarted { .. }))
    })
    .await;
    assert_eq!(
        w.incarnation().await.unwrap(),
        1,
        "w answers at the same address"
    );
    assert_eq!((mid.restarts(), leaf.restarts(), w.restarts()), (1, 1, 1));

    // Again: now the root is over its intensity and gives up.
    w.fail().await.unwrap_err();
    let reason = within(PROMPTLY, "the root's end", root.stopped()).await;
    let ExitReason::Escalated(escalation) = reason else {
        panic!()
    };
    assert_eq!(escalation.child().as_str(), "mid");
    assert!(
        matches!(escalation.cause(), ExitReason::Escalated(_)),
        "mid escalated to it"
    );
    // Every supervisor stops its children when it ends: nothing is left.
    within(PROMPTLY, "w's end", w.stopped()).await;
    within(PROMPTLY, "leaf's end", leaf.stopped()).await;
    within(PROMPTLY, "mid's end", mid.stopped()).await;
    assert!(matches!(
        swarm.shutdown().await,
        Err(ShutdownError::GaveUp { .. })
    ));
}

#[agentix::test]
async fn a_supervisor_restart_restarts_its_subtree_in_place() {
    let swarm = swarm();
    let journal = Journal::default();
    let team = SupervisorSpec::new("team")
        .child(ChildSpec::new("x", worker("x", &journal)))
        .child(ChildSpec::new("y", worker("y", &journal)));
    let root = swarm
        .supervisor("root")
        .strategy(Strategy::OneForAll)
        .supervisor(team)
        .child(ChildSpec::new("z", worker("z", &journal)))
        .start()
        .await
        .unwrap();
    let team = root.supervisor("team").unwrap();
    let x = team.child::<Worker>("x").unwrap();
    x.record(1).await.unwrap();
    let mut events = swarm.events();
    root.child::<Worker>("z").unwrap().fail().await.unwrap_err();
    let mut waiting = vec!["x", "y", "z"];
    while !waiting.is_empty() {
        let event = next_event(&mut events, "the subtree restart", |e| {
            matches!(e.event(), Event::Started)
        })
        .await;
        waiting.retain(|id| *id != event.agent().as_str());
    }
    assert_eq!(team.restarts(), 1);
    assert_eq!(
        x.incarnation().await.unwrap(),
        1,
        "same address, new incarnation"
    );
    assert!(
        x.seen().await.unwrap().is_empty(),
        "fresh state from the factory"
    );
    assert_eq!(
        team.children().iter().map(|c| c.status).collect::<Vec<_>>(),
        [AgentStatus::Running; 2]
    );
    swarm.shutdown().await.unwrap();
}
