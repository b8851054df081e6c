//! Names are unique among the live agents of a swarm: events, fault plans
//! and the registry know agents by name, so a second live agent with a name
//! is refused (as Erlang's registered names and Akka's sibling names are),
//! supervisors' children included. A restart keeps the name; a stop for good
//! frees it.

use std::time::Duration;

use agentix::prelude::*;

const PROMPTLY: Duration = Duration::from_secs(5);

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    #[handle]
    fn ping(&mut self) -> u32 {
        7
    }

    #[handle]
    fn fail(&mut self) {
        panic!("asked to fail");
    }

    #[handle]
    fn quit(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.stop();
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

fn name_taken(err: &SpawnError, expected: &str) -> bool {
    matches!(err, SpawnError::NameTaken { name } if name.as_str() == expected)
}

#[agentix::test]
async fn second_live_agent_with_same_name_is_refused() {
    let swarm = swarm();
    let first = swarm.spawn("worker", Worker::default).await.unwrap();
    let err = swarm.spawn("worker", Worker::default).await.unwrap_err();
    assert!(name_taken(&err, "worker"), "{err:?}");
    assert!(err.to_string().contains("`worker`"), "{err}");
    assert_eq!(first.ping().await.unwrap(), 7, "the first is untouched");
    assert_eq!(swarm.agents(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_name_is_free_again_once_its_agent_has_stopped_for_good() {
    let swarm = swarm();
    let first = swarm.spawn("worker", Worker::default).await.unwrap();
    first.quit().await.unwrap();
    tokio::time::timeout(PROMPTLY, first.stopped())
        .await
        .expect("the first worker stops");
    let second = swarm.spawn("worker", Worker::default).await.unwrap();
    assert_eq!(second.ping().await.unwrap(), 7);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_restarted_agent_keeps_its_name() {
    agentix::testkit::quiet_injected_panics();
    let swarm = swarm();
    let first = swarm
        .agent(Worker::default)
        .name("worker")
        .restart(Restart::Permanent)
        .spawn()
        .await
        .unwrap();
    first.fail().await.unwrap_err();
    assert_eq!(first.ping().await.unwrap(), 7, "restarted at its address");
    let err = swarm.spawn("worker", Worker::default).await.unwrap_err();
    assert!(name_taken(&err, "worker"), "{err:?}");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_supervisor_child_cannot_take_the_name_of_a_live_agent() {
    let swarm = swarm();
    // Held: an agent nobody holds a reference to stops, and frees its name.
    let _db = swarm.spawn("db", Worker::default).await.unwrap();
    let err = swarm
        .supervisor("root")
        .child(ChildSpec::new("db", Worker::default))
        .start()
        .await
        .unwrap_err();
    let SpawnError::Child { child, cause, .. } = &err else {
        panic!("expected the child's failure, got {err:?}");
    };
    assert_eq!(child.as_str(), "db");
    assert!(name_taken(cause, "db"), "{cause:?}");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_spawn_cannot_take_the_name_of_a_supervisor_child_until_the_tree_stops() {
    let swarm = swarm();
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("db", Worker::default))
        .start()
        .await
        .unwrap();
    let err = swarm.spawn("db", Worker::default).await.unwrap_err();
    assert!(name_taken(&err, "db"), "{err:?}");
    let err = swarm.spawn("root", Worker::default).await.unwrap_err();
    assert!(
        name_taken(&err, "root"),
        "supervisors hold names too: {err:?}"
    );
    root.shutdown().await;
    let db = swarm.spawn("db", Worker::default).await.unwrap();
    assert_eq!(db.ping().await.unwrap(), 7);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn two_supervisors_cannot_both_have_a_child_of_one_name() {
    let swarm = swarm();
    let _left = swarm
        .supervisor("left")
        .child(ChildSpec::new("worker-1", Worker::default))
        .start()
        .await
        .unwrap();
    let err = swarm
        .supervisor("right")
        .child(ChildSpec::new("worker-1", Worker::default))
        .start()
        .await
        .unwrap_err();
    let SpawnError::Child { cause, .. } = &err else {
        panic!("expected the child's failure, got {err:?}");
    };
    assert!(name_taken(cause, "worker-1"), "{cause:?}");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn generated_names_skip_a_name_chosen_by_hand() {
    let swarm = swarm();
    // Spawn ids count from 1, and an unnamed agent is `<kind>-<id>`: these
    // two take the names the next two generated ones would have.
    let _two = swarm.spawn("worker-2", Worker::default).await.unwrap();
    let _three = swarm.spawn("worker-3", Worker::default).await.unwrap();
    let unnamed = swarm.agent(Worker::default).spawn().await.unwrap();
    assert_eq!(unnamed.name().as_str(), "worker-4");
    assert_eq!(swarm.agents(), 3);
    swarm.shutdown().await.unwrap();
}
