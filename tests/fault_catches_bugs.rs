//! Proof that the fault suites catch bugs: a relay that forgets to
//! dead-letter what it cannot forward passes every test without faults, and
//! the generated plans find the loss and shrink it to one fault. The same
//! relay, fixed, passes the same plans.

use std::time::Duration;

use agentix::{
    prelude::*,
    testkit::{Fault, FaultKind, FaultTest, Report, Scene, Shape, Step, Trace},
};

const JOBS: u64 = 20;

/// Forwards each job to the worker. Broken: a job the worker refuses is
/// dropped without a trace, as a hand-written forwarder easily does.
#[derive(Agent)]
struct Relay {
    worker: WorkerRef,
    trace: Trace,
    broken: bool,
}

#[handlers]
impl Relay {
    #[handle]
    fn job(&mut self, id: u64) {
        self.trace.handled("relay", id);
        // Taken on: from here the relay answers for it.
        self.trace.sent("worker", id);
        if self.worker.tell(Work { id }).is_err() && !self.broken {
            let reason = "refused".to_owned();
            let to = "worker".to_owned();
            self.trace.record(Step::DeadLetter {
                to,
                id: Some(id),
                reason,
            });
        }
    }
}

#[derive(Agent)]
struct Worker {
    trace: Trace,
}

#[handlers]
impl Worker {
    #[handle]
    fn work(&mut self, id: u64) {
        self.trace.handled("worker", id);
    }
}

fn suite(broken: bool) -> Report {
    let workload = async move |scene: &Scene| -> Result<(), String> {
        let (swarm, trace) = (scene.swarm(), scene.trace().clone());
        let for_worker = trace.clone();
        let worker = swarm
            .spawn("worker", move || Worker {
                trace: for_worker.clone(),
            })
            .await
            .map_err(|err| err.to_string())?;
        let relay = swarm
            .spawn("relay", move || Relay {
                worker: worker.clone(),
                trace: trace.clone(),
                broken,
            })
            .await
            .map_err(|err| err.to_string())?;
        for id in 1..=JOBS {
            if relay.tell(Job { id }).is_ok() {
                scene.trace().sent("relay", id);
            }
        }
        Ok(())
    };
    let shape = Shape::new(["relay", "worker"], JOBS)
        .kinds([FaultKind::Delay, FaultKind::Stall, FaultKind::FullMailbox])
        .faults(0..=4)
        .max_ms(3);
    FaultTest::new(if broken { "broken_relay" } else { "fixed_relay" })
        .cases(200)
        .seed(7)
        // A lost message never arrives: a short wait for it keeps the
        // shrinking (a run per step) quick.
        .bounds(Duration::from_secs(5), Duration::from_millis(200))
        .check(shape.plans(), workload)
}

#[test]
fn the_suite_finds_a_relay_that_forgets_to_dead_letter_and_shrinks_the_plan() {
    let report = suite(true);
    let failure = report.failure.expect("the loss is found");
    assert!(report.violations >= 1);
    assert_eq!(
        failure.plan.faults,
        [Fault::FullMailbox {
            agent: "worker".into(),
            from: 1,
            count: 1
        }],
        "shrunk to the one refused hand-over:\n{failure}"
    );
    let broken: Vec<&str> = failure
        .broken
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(broken.contains(&"no accepted message lost"), "{failure}");
    let message = failure.to_string();
    assert!(message.contains("AGENTIX_FAULT_SEED=7"), "{message}");
    assert!(message.contains("AGENTIX_FAULT_PLAN="), "{message}");
}

#[test]
fn the_fixed_relay_passes_the_same_plans() {
    let report = suite(false);
    assert_eq!(
        report.violations,
        0,
        "{:?}",
        report.failure.map(|f| f.to_string())
    );
    assert!(report.runs >= 200);
}
