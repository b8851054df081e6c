//! A swarm dropped without `shutdown` still ends its arbiter threads, with or
//! without supervisors. Alone in its binary: it counts threads.

mod support;

use std::{sync::mpsc, thread::ThreadId};

use agentix::prelude::*;
use support::{PROMPTLY, ThreadExitProbe};

#[derive(Agent, Default)]
#[agent(restart = "permanent")]
struct Probe;

#[handlers]
impl Probe {
    /// Reports on `exited` when this agent's arbiter thread exits.
    #[handle]
    fn watch_thread(&mut self, exited: mpsc::Sender<ThreadId>) -> ThreadId {
        ThreadExitProbe::install(exited)
    }
}

/// Starts a swarm of two arbiters with a probe on each (under a root
/// supervisor if `supervised`), and drops it without a shutdown. Returns
/// the arbiters' threads.
async fn start_and_drop(supervised: bool, exited: &mpsc::Sender<ThreadId>) -> Vec<ThreadId> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let mut probes = Vec::new();
    if supervised {
        let root = swarm
            .supervisor("root")
            .child(ChildSpec::new("p0", Probe::default).on_arbiter(0))
            .child(ChildSpec::new("p1", Probe::default).on_arbiter(1))
            .start()
            .await
            .unwrap();
        probes.extend(["p0", "p1"].map(|id| root.child::<Probe>(id).unwrap()));
    } else {
        for arbiter in 0..2 {
            let spawn = swarm.agent(Probe::default).on_arbiter(arbiter);
            probes.push(spawn.spawn().await.unwrap());
        }
    }
    let mut threads = Vec::new();
    for probe in &probes {
        threads.push(probe.watch_thread(exited.clone()).await.unwrap());
    }
    drop(probes);
    drop(swarm);
    threads
}

#[agentix::test]
async fn a_dropped_swarm_ends_its_threads_with_or_without_supervisors() {
    let (exited, exits) = mpsc::channel();
    let mut threads = Vec::new();
    for round in 0..10 {
        threads.extend(start_and_drop(round % 2 == 0, &exited).await);
    }
    drop(exited);
    let ended: Vec<ThreadId> = tokio::task::spawn_blocking(move || {
        let mut ended = Vec::new();
        while ended.len() < 20 {
            match exits.recv_timeout(PROMPTLY) {
                Ok(thread) => ended.push(thread),
                Err(_) => break,
            }
        }
        ended
    })
    .await
    .unwrap();
    let alive: Vec<_> = threads.iter().filter(|t| !ended.contains(t)).collect();
    assert!(
        alive.is_empty(),
        "{} of 20 arbiter threads still run {PROMPTLY:?} after their swarm was dropped",
        alive.len()
    );
}
