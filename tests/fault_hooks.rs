//! The fault-injection hooks (feature `testkit`): each kind of fault fires
//! at the point its plan names, in the swarm it was installed in only, and
//! not after the plan is dropped.

mod support;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use agentix::{
    AgentStatus, AskError, DeadLetterReason,
    prelude::*,
    testkit::{Fault, FaultPlan},
};
use support::{DeadLetterProbe, PROMPTLY, within};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Counter {
    n: u64,
}

#[handlers]
impl Counter {
    #[handle]
    fn add(&mut self) -> u64 {
        self.n += 1;
        self.n
    }

    /// Holds the mailbox (async handlers are serial) until `gate` opens.
    #[handle]
    fn hold(&mut self, gate: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }
}

fn plan(faults: Vec<Fault>) -> FaultPlan {
    FaultPlan::new(faults)
}

fn panic_on(agent: &str, nth: u64) -> Fault {
    Fault::Panic {
        agent: agent.into(),
        nth,
    }
}

#[agentix::test]
async fn a_planned_panic_fails_the_nth_message_like_the_user_s_own_panic() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let counter = swarm.spawn("counter", Counter::default).await.unwrap();
    let injection = swarm
        .inject(plan(vec![panic_on("counter", 3)]))
        .expect("a valid plan");
    assert_eq!(counter.add().await.unwrap(), 1);
    assert_eq!(counter.add().await.unwrap(), 2);
    match counter.add().await {
        Err(AskError::Panicked(failure)) => {
            assert!(failure.to_string().contains("injected fault"), "{failure}");
        }
        other => panic!("the third message should panic, got {other:?}"),
    }
    assert_eq!(counter.add().await.unwrap(), 1, "a fresh incarnation");
    assert_eq!(counter.restarts(), 1);
    let fired = injection.fired();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        (fired[0].index, &fired[0].fault),
        (0, &panic_on("counter", 3))
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_planned_delay_holds_the_nth_handler_only() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let counter = swarm.spawn("counter", Counter::default).await.unwrap();
    let delay = Fault::Delay {
        agent: "counter".into(),
        nth: 2,
        delay_ms: 50,
    };
    let injection = swarm
        .inject(plan(vec![delay.clone()]))
        .expect("a valid plan");
    counter.add().await.unwrap();
    let start = Instant::now();
    assert_eq!(counter.add().await.unwrap(), 2, "delayed, not failed");
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(counter.add().await.unwrap(), 3);
    assert_eq!(injection.fired()[0].fault, delay);
    assert_eq!(counter.restarts(), 0);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_planned_stop_ends_the_agent_after_the_nth_message_and_dead_letters_the_rest() {
    let probe = DeadLetterProbe::new();
    let config = SwarmConfig::default()
        .arbiters(1)
        .dead_letters(probe.clone());
    let swarm = Swarm::start(config).unwrap();
    let counter = swarm.spawn("counter", Counter::default).await.unwrap();
    // Message 1 holds the mailbox while the rest queue behind it.
    let _injection = swarm
        .inject(plan(vec![Fault::Stop {
            agent: "counter".into(),
            nth: 3,
        }]))
        .expect("a valid plan");
    let (open, gate) = oneshot::channel();
    counter.tell(Hold { gate }).unwrap();
    for _ in 0..4 {
        counter.tell(Add).unwrap();
    }
    open.send(()).unwrap();
    within(PROMPTLY, "the planned stop", counter.stopped()).await;
    assert_eq!(counter.status(), AgentStatus::Stopped);
    let letters = probe.wait_for(2).await;
    assert!(
        (letters.iter()).all(|l| l.reason() == DeadLetterReason::AgentStopped),
        "{letters:?}"
    );
    assert_eq!(counter.restarts(), 0, "a stop is for good");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_planned_start_failure_makes_the_restart_fail_and_the_next_one_succeed() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let counter = swarm.spawn("counter", Counter::default).await.unwrap();
    let injection = swarm
        .inject(plan(vec![
            panic_on("counter", 1),
            Fault::FailStart {
                agent: "counter".into(),
                start: 2,
            },
        ]))
        .expect("a valid plan");
    assert!(counter.add().await.is_err());
    assert_eq!(
        within(PROMPTLY, "the second restart", counter.add())
            .await
            .unwrap(),
        1
    );
    assert_eq!(counter.restarts(), 2, "the failed start cost one restart");
    let fired: Vec<usize> = injection.fired().iter().map(|f| f.index).collect();
    assert_eq!(fired, [0, 1]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_planned_stall_holds_the_agent_s_mailbox_but_not_its_thread() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let stalled = swarm.spawn("stalled", Counter::default).await.unwrap();
    let neighbour = swarm.spawn("neighbour", Counter::default).await.unwrap();
    let _injection = swarm
        .inject(plan(vec![Fault::Stall {
            agent: "stalled".into(),
            nth: 1,
            stall_ms: 200,
        }]))
        .expect("a valid plan");
    let start = Instant::now();
    assert_eq!(stalled.add().await.unwrap(), 1);
    let late = stalled.add();
    assert_eq!(neighbour.add().await.unwrap(), 1, "same thread, not held");
    assert!(start.elapsed() < Duration::from_millis(200));
    assert_eq!(late.await.unwrap(), 2, "stalled, not failed");
    assert!(start.elapsed() >= Duration::from_millis(200));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_planned_full_mailbox_refuses_the_tells_it_names_and_hands_them_back() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let counter = swarm.spawn("counter", Counter::default).await.unwrap();
    let injection = swarm
        .inject(plan(vec![Fault::FullMailbox {
            agent: "counter".into(),
            from: 2,
            count: 2,
        }]))
        .expect("a valid plan");
    let full = |sent| matches!(sent, Err(agentix::SendError::Full { msg: Add, .. }));
    let refused: Vec<bool> = (0..4).map(|_| full(counter.tell(Add))).collect();
    assert_eq!(refused, [false, true, true, false]);
    match counter.tell(Add) {
        Ok(()) => {}
        Err(err) => panic!("the fifth tell is taken: {err}"),
    }
    assert_eq!(counter.add().await.unwrap(), 4, "three tells and this ask");
    assert_eq!(injection.fired().len(), 2);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_plan_touches_only_its_own_swarm_and_stops_when_dropped() {
    let planned = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let other = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let a = planned.spawn("counter", Counter::default).await.unwrap();
    let b = other.spawn("counter", Counter::default).await.unwrap();
    let injection = planned
        .inject(plan(vec![panic_on("counter", 1), panic_on("counter", 3)]))
        .expect("a valid plan");
    assert!(a.add().await.is_err());
    assert_eq!(b.add().await.unwrap(), 1, "same name, other swarm");
    drop(injection);
    assert_eq!(a.add().await.unwrap(), 1);
    assert_eq!(
        a.add().await.unwrap(),
        2,
        "the third message no longer fails"
    );
    assert_eq!(a.restarts(), 1);
    planned.shutdown().await.unwrap();
    other.shutdown().await.unwrap();
}

#[test]
fn a_plan_survives_a_round_trip_through_json() {
    let mut plan = plan(vec![
        panic_on("a", 1),
        Fault::Delay {
            agent: "b".into(),
            nth: 2,
            delay_ms: 3,
        },
        Fault::Stop {
            agent: "c".into(),
            nth: 4,
        },
        Fault::FailStart {
            agent: "d".into(),
            start: 2,
        },
    ]);
    plan.seed = Some(42);
    let text = plan.to_json();
    assert!(text.contains(r#""fault": "fail_start""#), "{text}");
    assert_eq!(FaultPlan::from_json(&text).unwrap(), plan);
    assert!(FaultPlan::from_json(r#"{"faults": [{"fault": "melt"}]}"#).is_err());
}
