//! The options every way of starting an agent shares behave alike in every
//! builder: a setting out of its limits fails a spawn, a child spec and a
//! supervisor spec the same way, and a child's ask timeout is its deadline
//! as a spawned agent's is.

mod support;

use std::{future::Future, time::Duration};

use agentix::{AskError, ConfigError, SpawnError, prelude::*};
use support::{PROMPTLY, within};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Worker;

#[handlers]
impl Worker {
    /// Holds the mailbox until `gate` opens or closes.
    #[handle]
    fn hold(&mut self, gate: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }

    #[handle]
    fn ping(&mut self) -> u32 {
        7
    }
}

fn swarm() -> Swarm {
    // A default deadline no test would wait out: only the child's applies.
    let config = SwarmConfig::default()
        .arbiters(2)
        .ask_timeout(Duration::from_secs(3600));
    Swarm::start(config).unwrap()
}

/// Starts a root supervisor `root` with `child` alone; why the child
/// failed. (A failed root stops in its own time: each call names its own.)
async fn tree_error(swarm: &Swarm, root: &str, child: ChildSpec<Worker>) -> SpawnError {
    let started = swarm.supervisor(root).child(child).start();
    child_cause(within(PROMPTLY, "the tree's start", started).await)
}

/// What a supervisor said of its one child that failed to start.
fn child_cause<T: std::fmt::Debug>(started: Result<T, SpawnError>) -> SpawnError {
    match started.unwrap_err() {
        SpawnError::Child { cause, .. } => *cause,
        other => panic!("not a child's failure: {other:?}"),
    }
}

#[agentix::test]
async fn the_same_unworkable_option_fails_a_spawn_and_a_child_alike() {
    let swarm = swarm();
    let zero_mailbox = SpawnError::Config(ConfigError::ZeroMailbox);
    let spawned = swarm.agent(Worker::default).mailbox(0).spawn().await;
    assert_eq!(spawned.unwrap_err(), zero_mailbox);
    let child = ChildSpec::new("w", Worker::default).mailbox(0);
    assert_eq!(tree_error(&swarm, "root-1", child).await, zero_mailbox);

    let zero_budget = SpawnError::Config(ConfigError::ZeroBudget);
    let spawned = swarm.agent(Worker::default).budget(0).spawn().await;
    assert_eq!(spawned.unwrap_err(), zero_budget);
    let child = ChildSpec::new("w", Worker::default).budget(0);
    assert_eq!(tree_error(&swarm, "root-2", child).await, zero_budget);

    let zero_timeout = SpawnError::Config(ConfigError::ZeroTimeout {
        setting: "ask_timeout",
    });
    let spawned = (swarm.agent(Worker::default))
        .ask_timeout(Duration::ZERO)
        .spawn()
        .await;
    assert_eq!(spawned.unwrap_err(), zero_timeout);
    let child = ChildSpec::new("w", Worker::default).ask_timeout(Duration::ZERO);
    assert_eq!(tree_error(&swarm, "root-3", child).await, zero_timeout);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_arbiter_the_swarm_lacks_fails_every_builder_alike() {
    let swarm = swarm();
    let no_such = SpawnError::NoSuchArbiter {
        index: 9,
        arbiters: 2,
    };
    let spawned = swarm.agent(Worker::default).on_arbiter(9).spawn().await;
    assert_eq!(spawned.unwrap_err(), no_such);
    let child = ChildSpec::new("w", Worker::default).on_arbiter(9);
    assert_eq!(tree_error(&swarm, "root-4", child).await, no_such);
    let root = swarm.supervisor("root").on_arbiter(9).start();
    assert_eq!(root.await.unwrap_err(), no_such);
    let nested = swarm
        .supervisor("top")
        .supervisor(SupervisorSpec::new("nested").on_arbiter(9))
        .start();
    assert_eq!(child_cause(nested.await), no_such);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_childs_ask_timeout_is_the_deadline_of_asks_to_it() {
    let swarm = swarm();
    let after = Duration::from_millis(20);
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("held", Worker::default).ask_timeout(after))
        .start()
        .await
        .unwrap();
    let held = root.child::<Worker>("held").unwrap();
    let (open, gate) = oneshot::channel();
    held.tell(Hold { gate }).unwrap();
    let err = within(PROMPTLY, "the child's deadline", held.ping())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AskError::Timeout { after: t, .. } if *t == after),
        "{err:?}"
    );
    drop(open);
    assert_eq!(held.ping().await.unwrap(), 7);
    swarm.shutdown().await.unwrap();
}
