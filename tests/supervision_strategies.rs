//! Supervision strategies and restart types, the child table, and dynamic
//! children, through the public API.

mod support;

use agentix::{AgentStatus, Event, SpawnError, TreeError, prelude::*};
use support::{
    PROMPTLY, is, next_event, within,
    worker::{Journal, Worker, WorkerRef, worker},
};

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

async fn three_workers(swarm: &Swarm, strategy: Strategy, journal: &Journal) -> SupervisorRef {
    swarm
        .supervisor("root")
        .strategy(strategy)
        .child(ChildSpec::new("a", worker("a", journal)))
        .child(ChildSpec::new("b", worker("b", journal)))
        .child(ChildSpec::new("c", worker("c", journal)))
        .start()
        .await
        .unwrap()
}

fn child(root: &SupervisorRef, id: &str) -> WorkerRef {
    root.child::<Worker>(id).expect("a worker child")
}

async fn incarnations(root: &SupervisorRef) -> Vec<u32> {
    let mut out = Vec::new();
    for id in ["a", "b", "c"] {
        out.push(child(root, id).incarnation().await.unwrap());
    }
    out
}

/// Waits until `ids` have each started again after a restart.
async fn restarted(events: &mut agentix::Events, ids: &[&str]) {
    let mut waiting: Vec<&str> = ids.to_vec();
    while !waiting.is_empty() {
        let event = next_event(events, "the group restart", |e| {
            matches!(e.event(), Event::Started)
        })
        .await;
        waiting.retain(|id| *id != event.agent().as_str());
    }
}

#[agentix::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = three_workers(&swarm, Strategy::OneForOne, &journal).await;
    child(&root, "b").fail().await.unwrap_err();
    assert_eq!(incarnations(&root).await, [0, 1, 0]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn one_for_all_restarts_every_child_when_one_fails() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = three_workers(&swarm, Strategy::OneForAll, &journal).await;
    let mut events = swarm.events();
    child(&root, "b").fail().await.unwrap_err();
    restarted(&mut events, &["a", "b", "c"]).await;
    assert_eq!(incarnations(&root).await, [1, 1, 1]);
    // The others were stopped newest first; then all started again (one
    // layer: concurrently).
    let stops = journal.with_prefix("stop");
    assert_eq!(stops, ["stop b", "stop c", "stop a"]);
    let mut restarts = journal.with_prefix("start").split_off(3);
    restarts.sort();
    assert_eq!(restarts, ["start a 1", "start b 1", "start c 1"]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = three_workers(&swarm, Strategy::RestForOne, &journal).await;
    let mut events = swarm.events();
    child(&root, "b").fail().await.unwrap_err();
    restarted(&mut events, &["b", "c"]).await;
    assert_eq!(incarnations(&root).await, [0, 1, 1]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn each_restart_type_decides_after_a_normal_stop_and_after_a_failure() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .child(
            ChildSpec::new("permanent", worker("permanent", &journal)).restart(Restart::Permanent),
        )
        .child(
            ChildSpec::new("transient", worker("transient", &journal)).restart(Restart::Transient),
        )
        .child(ChildSpec::new("flaky", worker("flaky", &journal)).restart(Restart::Transient))
        .child(
            ChildSpec::new("temporary", worker("temporary", &journal)).restart(Restart::Temporary),
        )
        .start()
        .await
        .unwrap();

    let permanent = child(&root, "permanent");
    permanent.quit().await.unwrap();
    assert_eq!(
        permanent.incarnation().await.unwrap(),
        1,
        "permanent: restarted after a normal stop"
    );

    let transient = child(&root, "transient");
    transient.quit().await.unwrap();
    assert_eq!(
        within(PROMPTLY, "its end", transient.stopped()).await,
        ExitReason::Normal
    );
    assert!(matches!(
        transient.incarnation().await,
        Err(AskError::Closed { .. })
    ));

    let flaky = child(&root, "flaky");
    flaky.fail().await.unwrap_err();
    assert_eq!(
        flaky.incarnation().await.unwrap(),
        1,
        "transient: restarted after a failure"
    );

    let temporary = child(&root, "temporary");
    temporary.fail().await.unwrap_err();
    let reason = within(PROMPTLY, "its end", temporary.stopped()).await;
    assert!(reason.is_failure());
    assert_eq!(temporary.status(), AgentStatus::Failed);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn the_supervisor_reports_its_children_their_state_and_restart_counts() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = three_workers(&swarm, Strategy::OneForOne, &journal).await;
    child(&root, "a").fail().await.unwrap_err();
    child(&root, "a").incarnation().await.unwrap();
    let children = root.children();
    let table: Vec<(&str, AgentStatus, u32)> = children
        .iter()
        .map(|c| (c.id.as_str(), c.status, c.restarts))
        .collect();
    assert_eq!(
        table,
        [
            ("a", AgentStatus::Running, 1),
            ("b", AgentStatus::Running, 0),
            ("c", AgentStatus::Running, 0)
        ]
    );
    assert!(children.iter().all(|c| c.kind == "worker"));
    assert!(root.child::<Worker>("nobody").is_none());
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn children_can_be_added_and_removed_at_run_time() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = three_workers(&swarm, Strategy::OneForOne, &journal).await;
    let extra = root
        .spawn("extra", worker("extra", &journal))
        .await
        .unwrap();
    extra.record(7).await.unwrap();
    assert_eq!(
        root.child::<Worker>("extra").unwrap().seen().await.unwrap(),
        [7]
    );
    extra.fail().await.unwrap_err();
    assert_eq!(
        extra.incarnation().await.unwrap(),
        1,
        "a dynamic child is supervised too"
    );

    let duplicate = root
        .spawn("extra", worker("extra", &journal))
        .await
        .unwrap_err();
    assert!(
        matches!(
            duplicate,
            SpawnError::Tree(TreeError::DuplicateChild { .. })
        ),
        "{duplicate}"
    );
    let orphan = root
        .add(ChildSpec::new("orphan", worker("orphan", &journal)).depends_on(["nobody"]))
        .await
        .unwrap_err();
    assert!(orphan.to_string().contains("`nobody`"), "{orphan}");

    assert!(root.remove("extra").await);
    assert_eq!(
        within(PROMPTLY, "its end", extra.stopped()).await,
        ExitReason::Shutdown
    );
    let ids: Vec<String> = root.children().iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(!root.remove("extra").await, "already gone");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn every_lifecycle_step_is_published_as_an_event() {
    let swarm = swarm();
    let journal = Journal::default();
    let mut events = swarm.events();
    let root = three_workers(&swarm, Strategy::OneForOne, &journal).await;
    next_event(&mut events, "a started", |e| {
        is(e, "a", |k| matches!(k, Event::Started))
    })
    .await;
    child(&root, "a").fail().await.unwrap_err();
    let failed = next_event(&mut events, "a failed", |e| {
        is(e, "a", |k| matches!(k, Event::Failed { .. }))
    })
    .await;
    assert_eq!(failed.supervisor().map(|s| s.as_str()), Some("root"));
    let Event::Failed { reason } = failed.event() else {
        unreachable!()
    };
    assert_eq!(
        reason.failure().unwrap().panic_text(),
        "a failed on purpose"
    );
    let restarted = next_event(&mut events, "a restarted", |e| {
        is(e, "a", |k| matches!(k, Event::Restarted { .. }))
    })
    .await;
    assert!(matches!(
        restarted.event(),
        Event::Restarted { attempt: 1, .. }
    ));
    swarm.shutdown().await.unwrap();
    let stopped = next_event(&mut events, "a stopped", |e| {
        is(e, "a", |k| matches!(k, Event::Stopped { .. }))
    })
    .await;
    assert!(matches!(
        stopped.event(),
        Event::Stopped {
            reason: ExitReason::Shutdown
        }
    ));
}
