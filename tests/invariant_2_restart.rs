//! Invariant 2: a restarted agent keeps its address; messages queued behind
//! the failing one are handled by the new incarnation, in order; the new
//! incarnation's state comes from the factory unless the agent keeps it.
//! Plus the restart types and the intensity limit of a single agent.

mod support;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use agentix::{DeadLetterReason, prelude::*};
use parking_lot::Mutex;
use support::{DeadLetterProbe, PROMPTLY, within};
use tokio::sync::oneshot;

/// Records what each incarnation handled into a log that outlives them.
#[derive(Agent)]
struct Recorder {
    incarnation: u32,
    seen: Vec<u32>,
    log: Arc<Mutex<Vec<(u32, u32)>>>,
}

#[handlers]
impl Recorder {
    /// Holds the mailbox until `gate` opens, so the test can queue messages.
    #[handle]
    fn hold(&mut self, gate: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }

    #[handle]
    fn record(&mut self, n: u32) {
        self.seen.push(n);
        self.log.lock().push((self.incarnation, n));
    }

    #[handle]
    fn boom(&mut self) {
        panic!("boom")
    }

    #[handle]
    fn seen(&mut self) -> Vec<u32> {
        self.seen.clone()
    }

    #[handle]
    fn incarnation(&mut self) -> u32 {
        self.incarnation
    }

    #[handle]
    fn halt(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.stop();
    }
}

type Log = Arc<Mutex<Vec<(u32, u32)>>>;

fn recorder_factory() -> (impl Fn() -> Recorder + Send + Sync + 'static, Log) {
    let log: Log = Arc::default();
    let incarnations = Arc::new(AtomicU32::new(0));
    let shared = log.clone();
    let factory = move || Recorder {
        incarnation: incarnations.fetch_add(1, Ordering::SeqCst),
        seen: Vec::new(),
        log: shared.clone(),
    };
    (factory, log)
}

fn swarm_with(config: SwarmConfig) -> Swarm {
    Swarm::start(config.arbiters(1)).unwrap()
}

#[agentix::test]
async fn queued_messages_behind_a_panic_reach_the_new_incarnation_in_order_at_the_same_address() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, log) = recorder_factory();
    let agent = swarm.spawn("recorder", factory).await.unwrap();
    let (open, gate) = oneshot::channel();
    agent.tell(Hold { gate }).unwrap();
    for n in 1..=3 {
        agent.tell(Record { n }).unwrap();
    }
    agent.tell(Boom).unwrap();
    for n in 4..=6 {
        agent.tell(Record { n }).unwrap();
    }
    open.send(()).unwrap();

    assert_eq!(
        agent.seen().await.unwrap(),
        vec![4, 5, 6],
        "the same address reaches the new state"
    );
    let expected = vec![(0, 1), (0, 2), (0, 3), (1, 4), (1, 5), (1, 6)];
    assert_eq!(*log.lock(), expected, "nothing lost, nothing reordered");
    assert_eq!(agent.restarts(), 1);
    assert_eq!(agent.status(), AgentStatus::Running);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn the_new_incarnation_starts_from_the_factory() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm.spawn("recorder", factory).await.unwrap();
    agent.record(7).await.unwrap();
    assert_eq!(agent.incarnation().await.unwrap(), 0);
    agent.boom().await.unwrap_err();
    assert_eq!(agent.incarnation().await.unwrap(), 1);
    assert!(agent.seen().await.unwrap().is_empty(), "fresh state");
    swarm.shutdown().await.unwrap();
}

#[derive(Agent, Default)]
#[agent(keep_state)]
struct Keeper {
    total: u64,
}

#[handlers]
impl Keeper {
    #[handle]
    fn deposit(&mut self, amount: u64) -> u64 {
        self.total += amount;
        self.total
    }

    #[handle]
    fn fail(&mut self) {
        panic!("flaky")
    }
}

#[agentix::test]
async fn an_agent_that_keeps_its_state_survives_a_restart_with_it() {
    let swarm = swarm_with(SwarmConfig::default());
    let keeper = swarm.spawn("keeper", Keeper::default).await.unwrap();
    assert_eq!(keeper.deposit(40).await.unwrap(), 40);
    keeper.fail().await.unwrap_err();
    assert_eq!(keeper.deposit(2).await.unwrap(), 42);
    assert_eq!(keeper.restarts(), 1);
    swarm.shutdown().await.unwrap();
}

/// Writes each lifecycle hook into a shared journal.
#[derive(Agent)]
#[agent(lifecycle)]
struct Journaled {
    journal: Arc<Mutex<Vec<String>>>,
}

impl Lifecycle for Journaled {
    fn started(&mut self, _: &mut AgentContext<Self>) {
        self.journal.lock().push("started".into());
    }
    fn restarted(&mut self, cause: &ExitReason, _: &mut AgentContext<Self>) {
        let text = cause
            .failure()
            .map_or("none", |f| f.panic_text())
            .to_owned();
        self.journal.lock().push(format!("restarted after: {text}"));
    }
    fn stopping(&mut self, _: &mut AgentContext<Self>) {
        self.journal.lock().push("stopping".into());
    }
    fn stopped(&mut self, _: &mut AgentContext<Self>) {
        self.journal.lock().push("stopped".into());
    }
}

#[handlers]
impl Journaled {
    #[handle]
    fn explode(&mut self) {
        panic!("fuse lit")
    }

    #[handle]
    fn noop(&mut self) {}
}

#[agentix::test]
async fn the_restarted_hook_is_told_the_failure_and_runs_before_started() {
    let swarm = swarm_with(SwarmConfig::default());
    let journal: Arc<Mutex<Vec<String>>> = Arc::default();
    let shared = journal.clone();
    let agent = swarm
        .spawn("journaled", move || Journaled {
            journal: shared.clone(),
        })
        .await
        .unwrap();
    agent.explode().await.unwrap_err();
    agent.noop().await.unwrap();
    let expected = [
        "started",
        "stopping",
        "stopped",
        "restarted after: fuse lit",
        "started",
    ];
    assert_eq!(*journal.lock(), expected);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_temporary_agent_is_not_restarted_and_later_asks_fail_closed() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm
        .agent(factory)
        .name("once")
        .restart(Restart::Temporary)
        .spawn()
        .await
        .unwrap();
    agent.boom().await.unwrap_err();
    let reason = within(PROMPTLY, "the final stop", agent.stopped()).await;
    assert_eq!(reason.failure().unwrap().panic_text(), "boom");
    assert_eq!(agent.status(), AgentStatus::Failed);
    assert!(matches!(agent.seen().await, Err(AskError::Closed { .. })));
    assert_eq!(swarm.agents(), 0);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_permanent_agent_is_restarted_after_it_stops_itself() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm
        .agent(factory)
        .restart(Restart::Permanent)
        .spawn()
        .await
        .unwrap();
    agent.halt().await.unwrap();
    assert_eq!(agent.incarnation().await.unwrap(), 1);
    assert_eq!(agent.restarts(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_transient_agent_that_stops_itself_stays_stopped() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm.spawn("transient", factory).await.unwrap();
    agent.halt().await.unwrap();
    assert_eq!(
        within(PROMPTLY, "the stop", agent.stopped()).await,
        ExitReason::Normal
    );
    assert_eq!(agent.status(), AgentStatus::Stopped);
    assert!(matches!(
        agent.incarnation().await,
        Err(AskError::Closed { .. })
    ));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_agent_that_fails_more_often_than_its_intensity_allows_gives_up() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm
        .agent(factory)
        .intensity(Intensity::new(2, Duration::from_secs(3600)))
        .spawn()
        .await
        .unwrap();
    for attempt in 0..2 {
        agent.boom().await.unwrap_err();
        assert_eq!(
            agent.incarnation().await.unwrap(),
            attempt + 1,
            "restart {attempt} allowed"
        );
    }
    agent.boom().await.unwrap_err();
    let reason = within(PROMPTLY, "giving up", agent.stopped()).await;
    assert!(reason.failure().is_some());
    assert_eq!(agent.status(), AgentStatus::Failed);
    assert_eq!(agent.restarts(), 2);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn messages_queued_at_a_final_stop_become_dead_letters_with_their_reason() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm_with(SwarmConfig::default().dead_letters(probe.clone()));
    let (factory, _) = recorder_factory();
    let agent = swarm
        .agent(factory)
        .name("doomed")
        .restart(Restart::Temporary);
    let agent = agent.spawn().await.unwrap();
    let (open, gate) = oneshot::channel();
    agent.tell(Hold { gate }).unwrap();
    agent.tell(Record { n: 1 }).unwrap();
    agent.tell(Boom).unwrap();
    for n in 2..=4 {
        agent.tell(Record { n }).unwrap();
    }
    open.send(()).unwrap();

    let letters = probe.wait_for(3).await;
    let mut undelivered = Vec::new();
    for letter in letters {
        assert_eq!(letter.agent().as_str(), "doomed");
        assert_eq!(letter.reason(), DeadLetterReason::AgentStopped);
        assert!(
            letter.message_type().ends_with("Record"),
            "{}",
            letter.message_type()
        );
        undelivered.push(letter.into_payload().downcast::<Record>().unwrap().n);
    }
    assert_eq!(undelivered, vec![2, 3, 4]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn stop_ends_an_agent_for_good_without_a_restart() {
    let swarm = swarm_with(SwarmConfig::default());
    let (factory, _) = recorder_factory();
    let agent = swarm
        .agent(factory)
        .restart(Restart::Permanent)
        .spawn()
        .await
        .unwrap();
    agent.stop();
    assert_eq!(
        within(PROMPTLY, "the stop", agent.stopped()).await,
        ExitReason::Shutdown
    );
    assert_eq!(agent.status(), AgentStatus::Stopped);
    assert_eq!(agent.restarts(), 0);
    swarm.shutdown().await.unwrap();
}
