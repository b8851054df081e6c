//! The registry under agents that come and go: workers registered by
//! capability take numbered jobs picked by load while plans panic, stop,
//! stall and fill them. Nothing accepted is lost or reordered, and every
//! worker that stopped for good has left the registry.

use std::time::Duration;

use crate::spawn_traced;

use agentix::{
    AgentStatus,
    actors::registry::{Query, Registration, RegistryRef, Selection},
    prelude::*,
    testkit::{FaultKind, FaultTest, Report, Scene, Shape, Trace, eventually, invariant},
};

const WORKERS: [&str; 5] = ["r0", "r1", "r2", "r3", "r4"];
const JOBS: u64 = 60;

#[derive(Agent)]
#[agent(restart = "permanent")]
struct Worker {
    name: &'static str,
    trace: Trace,
}

#[handlers]
impl Worker {
    #[handle]
    fn work(&mut self, id: u64) {
        self.trace.handled(self.name, id);
    }
}

async fn workload(scene: &Scene) -> Result<(), String> {
    let swarm = scene.swarm();
    let registry = RegistryRef::start(swarm).await.map_err(|e| e.to_string())?;
    let mut workers = Vec::new();
    for name in WORKERS {
        let worker = spawn_traced(scene, name, |name, trace| Worker { name, trace }).await?;
        let registration = Registration::new(&worker).capability("work");
        registry
            .register(registration)
            .await
            .map_err(|e| e.to_string())?;
        workers.push(worker);
    }
    let query = Query::capability("work");
    for id in 1..=JOBS {
        let picked = registry.select(&query, Selection::LeastLoaded);
        let Some(job) = picked.map_err(|e| e.to_string())? else {
            continue;
        };
        let worker = job.agent::<Worker>().map_err(|e| e.to_string())?;
        let taken = worker.tell(Work { id }).is_ok();
        if taken {
            scene.trace().sent(worker.name().as_str(), id);
        }
        job.finish(taken);
        // Jobs trickle in, so that stops land between them.
        tokio::task::yield_now().await;
    }
    // Those that stopped leave the registry once it has heard: bounded.
    let stale = || {
        let stopped = workers
            .iter()
            .filter(|w| w.status() == AgentStatus::Stopped);
        stopped
            .filter(|w| registry.entry(w.name().as_str()).is_some())
            .map(|w| w.name().to_string())
            .collect::<Vec<_>>()
    };
    if !eventually(Duration::from_secs(2), async || stale().is_empty()).await {
        scene
            .trace()
            .note(format!("stale registry entries: {:?}", stale()));
    }
    Ok(())
}

pub(crate) fn run(cases: u32) -> Report {
    let shape = Shape::new(WORKERS, JOBS / 5)
        .kinds([
            FaultKind::Panic,
            FaultKind::Stop,
            FaultKind::Stall,
            FaultKind::Delay,
            FaultKind::FullMailbox,
        ])
        .faults(0..=5)
        .max_ms(5);
    let no_stale = invariant("stopped workers leave the registry", |run| {
        let mut notes = run.steps.iter().filter_map(|step| match step {
            agentix::testkit::Step::Note(note) if note.starts_with("stale") => Some(note),
            _ => None,
        });
        match notes.next_back() {
            Some(note) => Err(note.clone()),
            None => Ok(()),
        }
    });
    FaultTest::new("registry")
        .cases(cases)
        .track(|work: &Work| work.id)
        .invariant(no_stale)
        .check(shape.plans(), workload)
}
