//! Supervision under random panic plans: a one-for-one root over four
//! permanent workers, each sent numbered jobs, some of its handlers and
//! restarts failing. Nothing accepted is lost, each worker's queued jobs
//! survive its restarts in order, the intensity holds and the root gives up
//! exactly when its children failed more often than it allows.

use std::time::Duration;

use agentix::{
    prelude::*,
    testkit::{FaultKind, FaultTest, Report, Scene, Shape, supervision},
};

/// The intensity under test: restarts allowed in a period longer than a run.
const MAX_RESTARTS: u32 = 3;
const WORKERS: [&str; 4] = ["w0", "w1", "w2", "w3"];
const JOBS: u64 = 12;

#[derive(Agent)]
#[agent(restart = "permanent")]
struct Worker {
    name: &'static str,
    trace: agentix::testkit::Trace,
}

#[handlers]
impl Worker {
    #[handle]
    fn job(&mut self, id: u64) {
        self.trace.handled(self.name, id);
    }
}

async fn workload(scene: &Scene) -> Result<(), String> {
    let mut root = scene
        .swarm()
        .supervisor("root")
        .strategy(Strategy::OneForOne)
        .intensity(Intensity::new(MAX_RESTARTS, Duration::from_secs(3600)))
        .backoff(Backoff::exponential(
            Duration::from_millis(1),
            Duration::from_millis(2),
        ));
    for name in WORKERS {
        let trace = scene.trace().clone();
        root = root.child(ChildSpec::new(name, move || Worker {
            name,
            trace: trace.clone(),
        }));
    }
    let root = root.start().await.map_err(|err| err.to_string())?;
    let workers: Vec<_> = (WORKERS.iter())
        .map(|name| root.child::<Worker>(name).expect("a Worker"))
        .collect();
    for id in 1..=JOBS {
        for worker in &workers {
            // Refused (stopped for good, or a plan's full mailbox) is not
            // accepted: only what was taken must be accounted for.
            if worker.tell(Job { id }).is_ok() {
                scene.trace().sent(worker.name().as_str(), id);
            }
        }
    }
    Ok(())
}

pub(crate) fn run(cases: u32) -> Report {
    let shape = Shape::new(WORKERS, JOBS)
        .kinds([
            FaultKind::Panic,
            FaultKind::FailStart,
            FaultKind::Delay,
            FaultKind::Stall,
            FaultKind::FullMailbox,
        ])
        .faults(0..=6)
        .max_ms(5);
    FaultTest::new("supervision")
        .cases(cases)
        .track(|job: &Job| job.id)
        .invariant(supervision("root", MAX_RESTARTS))
        .check(shape.plans(), workload)
}
