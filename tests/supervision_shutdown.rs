//! Ordered shutdown: per level, children stop in reverse start order, each
//! within its shutdown timeout or by force, and the report says which.

mod support;

use std::{sync::mpsc, time::Duration};

use agentix::prelude::*;
use support::{
    PROMPTLY, within,
    worker::{Journal, worker},
};
use tokio::sync::oneshot;

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

fn names(list: &[agentix::AgentName]) -> Vec<&str> {
    list.iter().map(|name| name.as_str()).collect()
}

#[agentix::test]
async fn a_tree_stops_level_by_level_in_reverse_start_order() {
    let swarm = swarm();
    let journal = Journal::default();
    let team = SupervisorSpec::new("team")
        .child(ChildSpec::new("x", worker("x", &journal)))
        .child(ChildSpec::new("y", worker("y", &journal)).depends_on(["x"]));
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("a", worker("a", &journal)))
        .supervisor(team.depends_on(["a"]))
        .child(ChildSpec::new("b", worker("b", &journal)).depends_on(["team"]))
        .start()
        .await
        .unwrap();
    let report = root.shutdown().await;
    assert_eq!(names(&report.stopped), ["b", "y", "x", "team", "a", "root"]);
    assert!(report.forced.is_empty());
    assert_eq!(
        journal.with_prefix("stop"),
        ["stop b", "stop y", "stop x", "stop a"]
    );
    swarm.shutdown().await.unwrap();
}

/// Blocks its arbiter thread in a handler, as stuck blocking code would.
#[derive(Agent, Default)]
struct Stuck;

#[handlers]
impl Stuck {
    #[handle]
    fn block(&mut self, entered: oneshot::Sender<()>, for_at_most: Duration) {
        let _ = entered.send(());
        let (_keep, never) = mpsc::channel::<()>();
        let _ = never.recv_timeout(for_at_most);
    }
}

#[agentix::test]
async fn a_child_that_does_not_stop_in_time_is_stopped_by_force() {
    let swarm = swarm();
    let journal = Journal::default();
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("a", worker("a", &journal)))
        .child(ChildSpec::new("stuck", Stuck::default).shutdown_timeout(Duration::from_millis(30)))
        .start()
        .await
        .unwrap();
    let stuck = root.child::<Stuck>("stuck").unwrap();
    let (entered, blocked) = oneshot::channel();
    stuck
        .tell(Block {
            entered,
            for_at_most: Duration::from_millis(400),
        })
        .unwrap();
    within(PROMPTLY, "the handler to block", blocked)
        .await
        .unwrap();
    let report = root.shutdown().await;
    assert_eq!(names(&report.forced), ["stuck"]);
    assert_eq!(names(&report.stopped), ["a", "root"]);
    // Forced: no stopping hooks, but it does end once its handler returns.
    assert_eq!(
        within(PROMPTLY, "its end", stuck.stopped()).await,
        ExitReason::Shutdown
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_swarm_stops_its_root_trees_then_its_loose_agents_and_reports_both() {
    let swarm = swarm();
    let journal = Journal::default();
    swarm
        .supervisor("root")
        .child(ChildSpec::new("a", worker("a", &journal)))
        .start()
        .await
        .unwrap();
    // Held: an agent nobody can address any more stops by itself.
    let _loose = swarm
        .spawn("loose", worker("loose", &journal))
        .await
        .unwrap();
    let report = swarm.shutdown().await.unwrap();
    assert_eq!(names(&report.stopped), ["a", "root", "loose"]);
    assert!(report.forced.is_empty());
    assert_eq!(report.arbiters, 2);
}
