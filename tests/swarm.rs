//! The swarm: the embedded default, placement across arbiters, invalid
//! configuration as errors, a clean shutdown that leaves no thread behind,
//! and several swarms side by side.

mod support;

use std::{future::Future, num::NonZeroUsize, sync::mpsc, thread::ThreadId, time::Duration};

use agentix::{ConfigError, DeadLetterReason, NameProblem, ShutdownError, SpawnError, prelude::*};
use support::{DeadLetterProbe, PROMPTLY, ThreadExitProbe, within};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Probe;

#[handlers]
impl Probe {
    #[handle]
    fn thread(&mut self) -> ThreadId {
        std::thread::current().id()
    }

    /// Reports on `exited` when this agent's arbiter thread exits.
    #[handle]
    fn watch_thread(&mut self, exited: mpsc::Sender<ThreadId>) -> ThreadId {
        ThreadExitProbe::install(exited)
    }

    /// Blocks the arbiter thread, as a handler stuck in blocking code would,
    /// after saying that it has started to.
    #[handle]
    fn block_thread(&mut self, entered: oneshot::Sender<()>, for_at_most: Duration) {
        let _ = entered.send(());
        let (_keep, never) = mpsc::channel::<()>();
        let _ = never.recv_timeout(for_at_most);
    }
}

#[agentix::test]
async fn a_swarm_starts_on_the_embedded_default_with_one_arbiter_per_core() {
    let swarm = Swarm::start(SwarmConfig::default()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    assert_eq!(swarm.arbiters(), cores);
    let probe = swarm.spawn("probe", Probe::default).await.unwrap();
    assert_ne!(probe.thread().await.unwrap(), std::thread::current().id());
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn agents_are_spread_round_robin_across_arbiters() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let mut threads = Vec::new();
    for i in 0..4 {
        let probe = swarm
            .spawn(&format!("probe-{i}"), Probe::default)
            .await
            .unwrap();
        threads.push(probe.thread().await.unwrap());
    }
    assert_ne!(threads[0], threads[1]);
    assert_eq!(threads[0], threads[2]);
    assert_eq!(threads[1], threads[3]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_agent_can_be_placed_on_a_chosen_arbiter() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(3)).unwrap();
    let first = swarm
        .agent(Probe::default)
        .on_arbiter(2)
        .spawn()
        .await
        .unwrap();
    let second = swarm
        .agent(Probe::default)
        .on_arbiter(2)
        .spawn()
        .await
        .unwrap();
    let elsewhere = swarm
        .agent(Probe::default)
        .on_arbiter(0)
        .spawn()
        .await
        .unwrap();
    let thread = first.thread().await.unwrap();
    assert_eq!(second.thread().await.unwrap(), thread);
    assert_ne!(elsewhere.thread().await.unwrap(), thread);

    let err = swarm
        .agent(Probe::default)
        .on_arbiter(3)
        .spawn()
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SpawnError::NoSuchArbiter {
            index: 3,
            arbiters: 3
        }
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn invalid_names_and_settings_are_errors_not_panics() {
    assert_eq!(
        Swarm::start(SwarmConfig::default().arbiters(0)).unwrap_err(),
        ConfigError::ZeroArbiters
    );
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let name_problem = |err: SpawnError| match err {
        SpawnError::Name(err) => err.problem(),
        other => panic!("expected a name error, got {other:?}"),
    };
    let err = swarm.spawn("", Probe::default).await.unwrap_err();
    assert_eq!(name_problem(err), NameProblem::Empty);
    let err = swarm.spawn("two words", Probe::default).await.unwrap_err();
    assert!(err.to_string().contains("`two words`"), "{err}");
    assert_eq!(name_problem(err), NameProblem::BadChar { at: 3 });
    let err = swarm
        .agent(Probe::default)
        .mailbox(0)
        .spawn()
        .await
        .unwrap_err();
    assert_eq!(err, SpawnError::Config(ConfigError::ZeroMailbox));
    let err = swarm
        .agent(Probe::default)
        .ask_timeout(Duration::ZERO)
        .spawn()
        .await;
    assert_eq!(
        err.unwrap_err(),
        SpawnError::Config(ConfigError::ZeroTimeout {
            setting: "ask_timeout"
        })
    );
    assert_eq!(swarm.agents(), 0);
    swarm.shutdown().await.unwrap();
}

#[test]
fn a_swarm_outside_an_actix_system_is_an_error() {
    let err = Swarm::start(SwarmConfig::default()).unwrap_err();
    assert_eq!(err, ConfigError::NoSystem);
    assert!(err.to_string().contains("#[agentix::main]"), "{err}");
}

#[agentix::test]
async fn shutdown_stops_every_agent_and_joins_every_arbiter_thread() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(3)).unwrap();
    let (exited_tx, exited) = mpsc::channel();
    let mut agents = Vec::new();
    let mut threads = Vec::new();
    for arbiter in 0..3 {
        let probe = swarm
            .agent(Probe::default)
            .on_arbiter(arbiter)
            .spawn()
            .await
            .unwrap();
        threads.push(probe.watch_thread(exited_tx.clone()).await.unwrap());
        agents.push(probe);
    }
    let report = swarm.shutdown().await.unwrap();
    assert_eq!(
        (report.stopped.len(), report.forced.len(), report.arbiters),
        (3, 0, 3)
    );
    for agent in &agents {
        assert_eq!(agent.status(), AgentStatus::Stopped);
        assert_eq!(agent.stopped().await, ExitReason::Shutdown);
    }
    // The threads were joined before shutdown returned: their exit already happened.
    let mut gone: Vec<ThreadId> = exited.try_iter().collect();
    gone.sort_by_key(|id| format!("{id:?}"));
    threads.sort_by_key(|id| format!("{id:?}"));
    assert_eq!(gone, threads, "every arbiter thread has exited");
}

#[agentix::test]
async fn shutdown_drops_agents_that_do_not_stop_in_time_and_counts_them_as_forced() {
    let probe_letters = DeadLetterProbe::new();
    let config = SwarmConfig::default()
        .arbiters(1)
        .shutdown_timeout(Duration::from_millis(20))
        .dead_letters(probe_letters.clone());
    let swarm = Swarm::start(config).unwrap();
    let stuck = swarm.spawn("stuck", Probe::default).await.unwrap();
    let (entered, blocked) = oneshot::channel();
    let for_at_most = Duration::from_millis(300);
    stuck
        .tell(BlockThread {
            entered,
            for_at_most,
        })
        .unwrap();
    stuck.tell(Thread).unwrap();
    within(PROMPTLY, "the handler to block", blocked)
        .await
        .unwrap();
    let report = swarm.shutdown().await.unwrap();
    assert!(report.stopped.is_empty());
    let forced: Vec<&str> = report.forced.iter().map(|name| name.as_str()).collect();
    assert_eq!(forced, ["stuck"]);
    assert_eq!(stuck.stopped().await, ExitReason::Shutdown);
    let letters = probe_letters.take();
    assert_eq!(letters.len(), 1, "the message queued behind the stuck one");
    assert_eq!(letters[0].reason(), DeadLetterReason::AgentStopped);
}

#[agentix::test]
async fn several_swarms_run_side_by_side_in_one_process() {
    let left = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let right = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let a = left.spawn("twin", Probe::default).await.unwrap();
    let b = right.spawn("twin", Probe::default).await.unwrap();
    assert_ne!(a.thread().await.unwrap(), b.thread().await.unwrap());
    left.shutdown().await.unwrap();
    assert!(matches!(a.thread().await, Err(AskError::Closed { .. })));
    b.thread().await.unwrap();
    right.shutdown().await.unwrap();
}

#[agentix::test]
async fn spawning_into_a_shut_down_swarm_is_an_error() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let handle = swarm.clone();
    swarm.shutdown().await.unwrap();
    let err = handle.spawn("late", Probe::default).await.unwrap_err();
    assert_eq!(err, SpawnError::SwarmStopped);
}

/// Holds a handle to its own swarm.
#[derive(Agent)]
struct Saboteur {
    swarm: Swarm,
}

#[handlers]
impl Saboteur {
    #[handle]
    fn shut_down_swarm(&mut self) -> impl Future<Output = Result<(), ShutdownError>> + 'static {
        let swarm = self.swarm.clone();
        async move { swarm.shutdown().await.map(drop) }
    }
}

#[agentix::test]
async fn a_shutdown_from_inside_the_swarm_is_refused() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let handle = swarm.clone();
    let saboteur = swarm
        .spawn("saboteur", move || Saboteur {
            swarm: handle.clone(),
        })
        .await
        .unwrap();
    let err = saboteur.shut_down_swarm().await.unwrap_err();
    assert_eq!(
        err.into_handler_error(),
        Some(ShutdownError::FromOwnArbiter)
    );
    swarm.shutdown().await.unwrap();
}
