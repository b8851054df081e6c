//! Limits: every duration, size and fault-plan number that enters the
//! runtime has a documented result at its edges (zero, the largest value
//! kept, `Duration::MAX`, `usize::MAX`, `u64::MAX`): a typed error or a
//! saturated value, never a panic or a hang.

use std::time::Duration;

use agentix::{
    Events, LifecycleEvent, MAX_DURATION, MAX_EVENT_BUFFER, MAX_MAILBOX,
    prelude::*,
    testkit::{Fault, FaultPlan, FaultProblem, FaultTest, MAX_FAULT_MS, PlanError},
};

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
}

async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(PROMPTLY, fut).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {PROMPTLY:?} waiting for {what}"),
    }
}

async fn restarted(events: &mut Events, agent: &str) -> (u32, Duration) {
    within("a restart", async {
        loop {
            let event: LifecycleEvent = events.recv().await.unwrap();
            if event.agent().as_str() != agent {
                continue;
            }
            match event.event() {
                Event::Restarted { attempt, delay } => return (*attempt, *delay),
                Event::Stopped { reason } => panic!("{agent} stopped: {reason}"),
                _ => {}
            }
        }
    })
    .await
}

#[agentix::test]
async fn shutdown_timeout_max_saturates() {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(1)
            .shutdown_timeout(Duration::MAX),
    )
    .unwrap();
    let _worker = swarm.spawn("worker", Worker::default).await.unwrap();
    let report = within("the shutdown", swarm.shutdown()).await.unwrap();
    assert_eq!(report.stopped.len(), 1);
}

#[agentix::test]
async fn start_timeout_max_saturates_for_spawns_and_supervisors() {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(2)
            .start_timeout(Duration::MAX),
    )
    .unwrap();
    let worker = within("a spawn", swarm.spawn("worker", Worker::default))
        .await
        .unwrap();
    assert_eq!(worker.ping().await.unwrap(), 7);
    let root = within(
        "a supervisor's start",
        swarm
            .supervisor("root")
            .child(ChildSpec::new("child", Worker::default))
            .start(),
    )
    .await
    .unwrap();
    let child = root.child::<Worker>("child").unwrap();
    assert_eq!(child.ping().await.unwrap(), 7);
    within("the shutdown", swarm.shutdown()).await.unwrap();
}

#[agentix::test]
async fn ask_timeouts_max_saturate() {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(1)
            .ask_timeout(Duration::MAX),
    )
    .unwrap();
    let worker = swarm
        .agent(Worker::default)
        .name("worker")
        .ask_timeout(Duration::MAX)
        .spawn()
        .await
        .unwrap();
    assert_eq!(worker.ping().await.unwrap(), 7);
    assert_eq!(worker.ping().timeout(Duration::MAX).await.unwrap(), 7);
    within("the shutdown", swarm.shutdown()).await.unwrap();
}

#[agentix::test]
async fn backoff_max_keeps_the_child_waiting_instead_of_stopping_it() {
    agentix::testkit::quiet_injected_panics();
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let mut events = swarm.events();
    let root = swarm
        .supervisor("root")
        .backoff(Backoff::exponential(Duration::MAX, Duration::MAX))
        .child(ChildSpec::new("child", Worker::default).restart(Restart::Permanent))
        .start()
        .await
        .unwrap();
    let child = root.child::<Worker>("child").unwrap();
    child.fail().await.unwrap_err();
    assert_eq!(restarted(&mut events, "child").await, (1, MAX_DURATION));
    assert_eq!(child.status(), AgentStatus::Restarting);
    let report = within("the shutdown", swarm.shutdown()).await.unwrap();
    assert!(
        report.stopped.iter().any(|name| name.as_str() == "child"),
        "{report:?}"
    );
}

#[agentix::test]
async fn supervisor_intensity_with_zero_window_is_a_config_error() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let empty = Intensity::new(1, Duration::ZERO);
    let spawned = swarm.agent(Worker::default).intensity(empty).spawn().await;
    assert_eq!(
        spawned.unwrap_err(),
        SpawnError::Config(ConfigError::ZeroIntensityWindow)
    );
    let root = swarm
        .supervisor("root")
        .intensity(empty)
        .child(ChildSpec::new("child", Worker::default))
        .start()
        .await;
    assert_eq!(
        root.unwrap_err(),
        SpawnError::Config(ConfigError::ZeroIntensityWindow)
    );
    let nested = swarm
        .supervisor("outer")
        .supervisor(SupervisorSpec::new("inner").intensity(empty))
        .start()
        .await
        .unwrap_err();
    let SpawnError::Child { child, cause, .. } = &nested else {
        panic!("expected the nested supervisor's failure, got {nested:?}");
    };
    assert_eq!(child.as_str(), "inner");
    assert_eq!(
        **cause,
        SpawnError::Config(ConfigError::ZeroIntensityWindow)
    );
    // A supervisor whose start failed is stopped; it ends on its arbiter.
    let ended = agentix::testkit::eventually(PROMPTLY, async || swarm.agents() == 0).await;
    assert!(ended, "nothing was left running: {} agents", swarm.agents());
    within("the shutdown", swarm.shutdown()).await.unwrap();
}

#[agentix::test]
async fn event_buffer_and_mailbox_sizes_have_a_maximum() {
    for events in [usize::MAX, 1 << 40, MAX_EVENT_BUFFER + 1] {
        let config = SwarmConfig::default().arbiters(1).event_buffer(events);
        let expected = ConfigError::EventBufferTooLarge { requested: events };
        assert_eq!(config.validate(), Err(expected.clone()));
        assert_eq!(Swarm::start(config).unwrap_err(), expected);
    }
    let zero = SwarmConfig::default().arbiters(1).event_buffer(0);
    assert_eq!(
        Swarm::start(zero).unwrap_err(),
        ConfigError::ZeroEventBuffer
    );
    let largest = SwarmConfig::default().event_buffer(MAX_EVENT_BUFFER);
    assert_eq!(largest.validate(), Ok(()));

    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let too_large = ConfigError::MailboxTooLarge {
        requested: usize::MAX,
    };
    let spawned = swarm
        .agent(Worker::default)
        .mailbox(usize::MAX)
        .spawn()
        .await;
    assert_eq!(spawned.unwrap_err(), SpawnError::Config(too_large.clone()));
    let child = ChildSpec::new("child", Worker::default).mailbox(usize::MAX);
    let err = swarm
        .supervisor("root")
        .child(child)
        .start()
        .await
        .unwrap_err();
    let SpawnError::Child { cause, .. } = &err else {
        panic!("expected the child's failure, got {err:?}");
    };
    assert_eq!(**cause, SpawnError::Config(too_large));
    let largest = swarm
        .agent(Worker::default)
        .mailbox(MAX_MAILBOX)
        .spawn()
        .await;
    assert_eq!(largest.unwrap().ping().await.unwrap(), 7);
    within("the shutdown", swarm.shutdown()).await.unwrap();
}

#[agentix::test]
async fn fault_plan_with_overflowing_numbers_is_rejected() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let worker = swarm.spawn("worker", Worker::default).await.unwrap();
    let overflowing = FaultPlan::new(vec![Fault::FullMailbox {
        agent: "worker".into(),
        from: u64::MAX,
        count: 2,
    }]);
    let err = swarm.inject(overflowing.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::Fault {
                index: 0,
                problem: FaultProblem::RangeOverflows { .. }
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("fault 0"), "{err}");
    assert!(FaultPlan::from_json(&overflowing.to_json()).is_err());
    let stall = FaultPlan::new(vec![Fault::Stall {
        agent: "worker".into(),
        nth: 1,
        stall_ms: u64::MAX,
    }]);
    assert!(swarm.inject(stall).is_err());

    // The largest numbers that fit are installed, and tells do not overflow.
    let last_only = FaultPlan::new(vec![Fault::FullMailbox {
        agent: "worker".into(),
        from: u64::MAX,
        count: 1,
    }]);
    let injection = swarm.inject(last_only).unwrap();
    worker.tell(Ping).unwrap();
    drop(injection);
    let every_tell = FaultPlan::new(vec![Fault::FullMailbox {
        agent: "worker".into(),
        from: 1,
        count: u64::MAX,
    }]);
    let injection = swarm.inject(every_tell).unwrap();
    assert!(worker.tell(Ping).is_err(), "refused as if full");
    assert_eq!(injection.fired().len(), 1);
    drop(injection);
    assert_eq!(worker.ping().await.unwrap(), 7);
    within("the shutdown", swarm.shutdown()).await.unwrap();
}

#[test]
fn fault_delays_up_to_the_maximum_are_accepted() {
    let delay = |delay_ms| {
        FaultPlan::new(vec![Fault::Delay {
            agent: "worker".into(),
            nth: 1,
            delay_ms,
        }])
        .validate()
    };
    assert!(delay(0).is_ok());
    assert!(delay(MAX_FAULT_MS).is_ok());
    assert!(delay(MAX_FAULT_MS + 1).is_err());
}

#[agentix::test]
async fn fault_test_inside_an_async_test_reports_why_instead_of_panicking() {
    let report = FaultTest::new("inside_a_runtime").cases(1).check(
        agentix::testkit::proptest::strategy::Just(FaultPlan::default()),
        async |_: &agentix::testkit::Scene| Ok::<(), String>(()),
    );
    assert_eq!(report.runs, 0);
    let failure = report.failure.expect("a failure saying why");
    let text = failure.to_string();
    assert!(text.contains("plain #[test]"), "{text}");
}

#[test]
fn backoff_delay_needs_no_other_crate() {
    let backoff =
        Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)).jitter(0.5);
    let delay = backoff.delay(2, 42);
    assert_eq!(delay, backoff.delay(2, 42), "one seed, one delay");
    assert!(delay >= Duration::from_millis(10) && delay <= Duration::from_millis(30));
}

/// The prelude has what a spawn's, a start's and an event's caller
/// matches on.
#[test]
fn the_prelude_names_spawn_and_config_errors_and_events() {
    fn matches_on(spawn: &SpawnError, config: &ConfigError, event: &Event) -> bool {
        matches!(spawn, SpawnError::NameTaken { .. })
            || matches!(config, ConfigError::ZeroTimeout { .. })
            || matches!(event, Event::Started)
    }
    assert!(matches_on(
        &SpawnError::SwarmStopped,
        &ConfigError::ZeroArbiters,
        &Event::Started
    ));
}

#[path = "limits/durations.rs"]
mod durations;
