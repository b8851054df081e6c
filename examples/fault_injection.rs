//! A fault-injection test of your own swarm, end to end (see
//! docs/guides/testing-with-faults.md): a worker that must handle every job
//! it accepts, checked under 100 generated plans of panics, delays, stalls
//! and full mailboxes. Prints the report; on a violation, the minimal plan
//! and how to replay it.
//!
//! `cargo run --example fault_injection --features testkit`

use agentix::{
    prelude::*,
    testkit::{FaultKind, FaultTest, Scene, Shape, Trace},
};

const JOBS: u64 = 30;

/// Records each job it handles in the run's trace.
#[derive(Agent)]
#[agent(restart = "permanent")]
struct Worker {
    trace: Trace,
}

#[handlers]
impl Worker {
    #[handle]
    fn job(&mut self, id: u64) {
        self.trace.handled("worker", id);
    }
}

/// Builds the swarm's agents and drives the work, recording what was
/// accepted: the runner checks the trace against the invariants.
async fn workload(scene: &Scene) -> Result<(), String> {
    let trace = scene.trace().clone();
    let worker = (scene.swarm().spawn("worker", move || Worker {
        trace: trace.clone(),
    }))
    .await
    .map_err(|err| err.to_string())?;
    for id in 1..=JOBS {
        if worker.tell(Job { id }).is_ok() {
            scene.trace().sent("worker", id);
        }
    }
    Ok(())
}

fn main() {
    let shape = Shape::new(["worker"], JOBS)
        .kinds([
            FaultKind::Panic,
            FaultKind::Delay,
            FaultKind::Stall,
            FaultKind::FullMailbox,
        ])
        .faults(0..=4)
        .max_ms(5);
    let report = FaultTest::new("fault_injection_example")
        .cases(100)
        // Jobs that become dead letters are read back by their id.
        .track(|job: &Job| job.id)
        .check(shape.plans(), workload);
    println!(
        "fault plans: {} run, {} violations (seed {})",
        report.runs, report.violations, report.seed
    );
    report.assert_ok();
}
