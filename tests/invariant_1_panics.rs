//! Invariant 1: a panic in a handler never takes down an arbiter or another
//! agent; the failing request's caller gets an error naming the agent and the
//! panic text.

mod support;

use std::{future::Future, thread::ThreadId};

use agentix::{
    During, SpawnError,
    actix::fut::{ActorFuture, ActorFutureExt, WrapFuture},
    prelude::*,
};
use support::{PROMPTLY, within};
use tokio::sync::mpsc;

#[derive(Agent, Default)]
struct Volatile {
    handled: u32,
}

#[handlers]
impl Volatile {
    #[handle]
    fn ping(&mut self) -> u32 {
        self.handled += 1;
        self.handled
    }

    #[handle]
    fn crash(&mut self, text: String) -> u32 {
        panic!("{text}")
    }

    #[handle]
    fn crash_after_await(&mut self, text: String) -> impl Future<Output = u32> + 'static {
        async move {
            tokio::task::yield_now().await;
            panic!("{text}")
        }
    }

    #[handle]
    fn crash_in_actor_future(&mut self) -> impl ActorFuture<Self, Output = u32> + 'static {
        tokio::task::yield_now()
            .into_actor(self)
            .map(|(), this: &mut Self, _| {
                this.handled += 1;
                panic!("state touched, then panic")
            })
    }

    #[handle]
    fn thread(&mut self) -> ThreadId {
        std::thread::current().id()
    }
}

/// A message with a hand-written actix handler, next to the generated ones.
struct RawCrash;

impl agentix::actix::Message for RawCrash {
    type Result = u32;
}

impl agentix::actix::Handler<RawCrash> for Volatile {
    type Result = u32;

    fn handle(&mut self, _: RawCrash, _: &mut AgentContext<Self>) -> u32 {
        panic!("hand-written handler panicked")
    }
}

async fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(1)).unwrap()
}

#[agentix::test]
async fn a_panic_in_a_sync_handler_reaches_the_caller_naming_the_agent_and_the_panic_text() {
    let swarm = swarm().await;
    let agent = swarm.spawn("volatile-1", Volatile::default).await.unwrap();
    let err = agent.crash("disk on fire".into()).await.unwrap_err();
    let AskError::Panicked(failure) = &err else {
        panic!("expected a panic error, got {err:?}")
    };
    assert_eq!(failure.agent().as_str(), "volatile-1");
    assert_eq!(failure.panic_text(), "disk on fire");
    assert!(failure.message_type().unwrap().ends_with("Crash"));
    let text = err.to_string();
    assert!(
        text.contains("`volatile-1`") && text.contains("disk on fire"),
        "{text}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_panic_in_an_async_handler_after_an_await_reaches_the_caller() {
    let swarm = swarm().await;
    let agent = swarm.spawn("volatile", Volatile::default).await.unwrap();
    let err = agent.crash_after_await("late".into()).await.unwrap_err();
    let AskError::Panicked(failure) = err else {
        panic!("{err:?}")
    };
    assert!(matches!(failure.during(), During::AsyncHandler { .. }));
    assert_eq!(failure.panic_text(), "late");
    assert_eq!(
        agent.ping().await.unwrap(),
        1,
        "the restarted agent answers"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_panic_in_an_actor_future_handler_reaches_the_caller() {
    let swarm = swarm().await;
    let agent = swarm.spawn("volatile", Volatile::default).await.unwrap();
    let err = agent.crash_in_actor_future().await.unwrap_err();
    let AskError::Panicked(failure) = err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.panic_text(), "state touched, then panic");
    assert_eq!(agent.ping().await.unwrap(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_panic_in_a_hand_written_handler_fails_only_that_agent_and_its_caller_sees_it_closed() {
    let swarm = swarm().await;
    let agent = swarm.spawn("volatile", Volatile::default).await.unwrap();
    let mut events = swarm.events();
    let err = agent.call(RawCrash).await.unwrap_err();
    assert!(matches!(err, AskError::Closed { .. }), "{err:?}");
    // The failure names the message even though the handler has no guard
    // of its own: the panic unwinds to the agent's task, marked on the way.
    let failed = support::next_event(&mut events, "the failure", |e| {
        matches!(e.event(), Event::Failed { .. })
    })
    .await;
    let Event::Failed {
        reason: ExitReason::Failed(failure),
    } = failed.event()
    else {
        panic!("{failed:?}")
    };
    assert_eq!(
        failure.during(),
        During::Handler {
            message: std::any::type_name::<RawCrash>()
        }
    );
    assert_eq!(failure.panic_text(), "hand-written handler panicked");
    assert_eq!(agent.ping().await.unwrap(), 1);
    assert_eq!(agent.restarts(), 1);
    // A later panic outside any handler is not named after that message.
    let (tx, mut reports) = mpsc::unbounded_channel();
    let reporter = swarm
        .spawn("reporter-after-raw", move || Reporter {
            events: tx.clone(),
        })
        .await
        .unwrap();
    reporter.spawn_doomed_future().await.unwrap();
    let report = within(PROMPTLY, "the restart", reports.recv())
        .await
        .unwrap();
    assert!(report.contains("background work failed"), "{report}");
    assert!(!report.contains("RawCrash"), "{report}");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn the_arbiter_thread_and_its_other_agents_keep_running_after_a_panic() {
    let swarm = swarm().await;
    let failing = swarm.spawn("failing", Volatile::default).await.unwrap();
    let bystander = swarm.spawn("bystander", Volatile::default).await.unwrap();
    assert_eq!(bystander.ping().await.unwrap(), 1);
    let thread_before = failing.thread().await.unwrap();
    assert_eq!(
        thread_before,
        bystander.thread().await.unwrap(),
        "same arbiter"
    );

    for _ in 0..3 {
        failing.crash("again".into()).await.unwrap_err();
    }
    assert_eq!(
        bystander.ping().await.unwrap(),
        2,
        "bystander kept its state"
    );
    assert_eq!(bystander.restarts(), 0);
    assert_eq!(
        failing.thread().await.unwrap(),
        thread_before,
        "the arbiter thread survived"
    );
    swarm.shutdown().await.unwrap();
}

/// An agent whose lifecycle reports to the test.
#[derive(Agent)]
#[agent(lifecycle)]
struct Reporter {
    events: mpsc::UnboundedSender<String>,
}

impl Lifecycle for Reporter {
    fn restarted(&mut self, cause: &ExitReason, _: &mut AgentContext<Self>) {
        let _ = self.events.send(format!("restarted: {cause}"));
    }
}

#[handlers]
impl Reporter {
    #[handle]
    fn spawn_doomed_future(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.spawn(
            tokio::task::yield_now()
                .into_actor(self)
                .map(|(), _, _| panic!("background work failed")),
        );
    }

    #[handle]
    fn check(&mut self) {}
}

#[agentix::test]
async fn a_panic_in_a_future_the_agent_spawned_restarts_the_agent() {
    let swarm = swarm().await;
    let (tx, mut events) = mpsc::unbounded_channel();
    let agent = swarm
        .spawn("reporter", move || Reporter { events: tx.clone() })
        .await
        .unwrap();
    agent.spawn_doomed_future().await.unwrap();
    let event = within(PROMPTLY, "the restart", events.recv())
        .await
        .unwrap();
    assert!(event.contains("background work failed"), "{event}");
    agent.check().await.unwrap();
    assert_eq!(agent.restarts(), 1);
    swarm.shutdown().await.unwrap();
}

#[derive(Agent, Default)]
#[agent(lifecycle)]
struct FailsToStart;

impl Lifecycle for FailsToStart {
    fn started(&mut self, _: &mut AgentContext<Self>) {
        panic!("no config file")
    }
}

#[agentix::test]
async fn a_panic_in_the_first_started_hook_fails_the_spawn_with_the_panic_text() {
    let swarm = swarm().await;
    let err = swarm
        .spawn("fragile", FailsToStart::default)
        .await
        .unwrap_err();
    let SpawnError::StartFailed { agent, reason } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(agent.as_str(), "fragile");
    assert_eq!(reason.failure().unwrap().panic_text(), "no config file");
    assert!(
        err.to_string().contains("`fragile` failed to start"),
        "{err}"
    );
    assert_eq!(swarm.agents(), 0, "nothing left running");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_panic_in_the_factory_fails_the_spawn_with_the_panic_text() {
    let swarm = swarm().await;
    let err = swarm
        .spawn("unbuildable", || -> Volatile { panic!("factory broke") })
        .await
        .unwrap_err();
    let SpawnError::StartFailed { reason, .. } = err else {
        panic!("{err:?}")
    };
    let failure = reason.failure().unwrap();
    assert_eq!(failure.during(), During::Factory);
    assert_eq!(failure.panic_text(), "factory broke");
    swarm.shutdown().await.unwrap();
}

/// The lifecycle events published for `agent`, in order, until it stopped.
async fn events_until_stopped(events: &mut agentix::Events, agent: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    loop {
        let event = support::next_event(events, "the agent's events", |e| {
            e.agent().as_str() == agent
        })
        .await;
        let kind = match event.event() {
            Event::Started => "started",
            Event::Failed { .. } => "failed",
            Event::Stopped { .. } => "stopped",
            _ => "other",
        };
        seen.push(kind);
        if kind == "stopped" {
            return seen;
        }
    }
}

#[agentix::test]
async fn a_failed_first_start_publishes_failed_then_stopped_whether_the_factory_or_the_hook_panicked()
 {
    let swarm = swarm().await;
    let mut events = swarm.events();
    let spawned = swarm
        .spawn("unbuildable", || -> Volatile { panic!("factory broke") })
        .await;
    assert!(spawned.is_err());
    assert_eq!(
        events_until_stopped(&mut events, "unbuildable").await,
        ["failed", "stopped"]
    );
    assert!(
        swarm
            .spawn("no-config", FailsToStart::default)
            .await
            .is_err()
    );
    assert_eq!(
        events_until_stopped(&mut events, "no-config").await,
        ["failed", "stopped"]
    );
    swarm.shutdown().await.unwrap();
}
