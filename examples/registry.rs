//! Jobs routed by capability and load through the registry, with the
//! monitor watching.
//!
//! Twelve workers register in one batch: translators (tagged by language),
//! summarizers, and some that do both, each with a limit on the jobs it
//! takes at once. Eight clients send 2,000 jobs, each to the least loaded
//! worker able to do it. One translator gets stuck in a handler: the
//! registry marks it unhealthy and selection routes around it. The example
//! prints the jobs per worker, the health events and the monitor's metrics
//! (a snapshot summary and the Prometheus text).
//!
//! Run it with `cargo run --release --example registry` (add
//! `--features http` to have the metrics served over HTTP as well).

use std::{sync::mpsc, time::Duration};

use agentix::{
    actors::{
        monitor::{EventType, MonitorConfig, MonitorEvent, MonitorRef},
        registry::{Query, Registration, RegistryConfig, RegistryRef, Selection},
    },
    prelude::*,
};

const JOBS: usize = 2_000;
const CLIENTS: usize = 8;

#[derive(Agent, Default)]
struct Worker {
    done: u64,
}

#[handlers]
impl Worker {
    /// A job: a little work, then how many this worker has done.
    #[handle]
    fn job(&mut self, size: u64) -> u64 {
        std::hint::black_box((0..size).sum::<u64>());
        self.done += 1;
        self.done
    }

    /// Blocks this worker's thread until told to go on: a stuck handler.
    #[handle]
    fn hang(&mut self, until: mpsc::Receiver<()>) {
        let _ = until.recv();
    }

    #[handle]
    fn done(&mut self) -> u64 {
        self.done
    }
}

/// Sends `jobs` jobs, each to the least loaded worker for `capability`.
async fn client(registry: RegistryRef, capability: &'static str, jobs: usize) -> usize {
    let query = Query::capability(capability);
    let mut sent = 0;
    for size in 0..jobs {
        let Some(job) = registry
            .select(&query, Selection::LeastLoaded)
            .expect("a valid query")
        else {
            continue;
        };
        let worker = job.agent::<Worker>().expect("only workers register");
        let ok = worker.job(size as u64 % 1000).await.is_ok();
        job.finish(ok);
        sent += 1;
    }
    sent
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    // Arbiter 2 is the stuck worker's alone: a blocked thread blocks
    // every agent on it.
    let swarm = Swarm::start(SwarmConfig::default().arbiters(3))?;
    let config = RegistryConfig::default()
        .heartbeat(Duration::from_millis(50))
        .on_arbiter(0);
    let registry = RegistryRef::start_with(&swarm, config).await?;
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default()).await?;
    monitor.watch_registry(&registry).await?;
    monitor
        .on(EventType::Unhealthy, |event| {
            if let MonitorEvent::Health(event) = event {
                println!("health: `{}` is {:?}", event.agent, event.health);
            }
        })
        .await?;

    let mut workers = Vec::new();
    let mut batch = Vec::new();
    for i in 0..12 {
        let name = format!("worker-{i}");
        let arbiter = if i == 0 { 2 } else { i % 2 };
        let worker = swarm.agent(Worker::default).name(&name).on_arbiter(arbiter);
        let worker = worker.spawn().await?;
        let registration = match i % 3 {
            0 => Registration::new(&worker).capability("translate").tag("fr"),
            1 => Registration::new(&worker).capability("summarize"),
            _ => (Registration::new(&worker))
                .capabilities(["translate", "summarize"])
                .tag("de"),
        };
        batch.push(registration.limit(4));
        workers.push(worker);
    }
    registry.register_batch(batch).await?;
    println!("registered {} workers in one batch", registry.len());

    let mut health = registry.health_events();
    let (release, until) = mpsc::channel();
    workers[0].tell(Hang { until })?;
    // Two heartbeat intervals later the registry knows.
    let found = tokio::time::timeout(Duration::from_secs(5), health.recv()).await;
    if let Ok(Some(event)) = found {
        println!(
            "registry: `{}` is {:?} and will not be selected",
            event.agent, event.health
        );
    }
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let capability = if c % 2 == 0 { "translate" } else { "summarize" };
            tokio::spawn(client(registry.clone(), capability, JOBS / CLIENTS))
        })
        .collect();
    let mut routed = 0;
    for client in clients {
        routed += client.await.expect("the client finishes");
    }
    println!("routed {routed} of {JOBS} jobs by capability and load");
    for worker in &workers[1..] {
        let entry = registry.entry(worker.name().as_str()).expect("registered");
        let done = worker.done().await?;
        println!(
            "  {:<10} {:<26} {:>4} jobs, success {:.2}, {:?}",
            worker.name().as_str(),
            format!("{:?}", entry.capabilities()),
            done,
            entry.success_rate(),
            entry.health(),
        );
    }
    let stuck = registry.entry("worker-0").expect("registered");
    println!("  worker-0   stuck in a handler: {:?}", stuck.health());
    release.send(()).ok();

    let snapshot = monitor.snapshot().await?;
    let worker_kind = snapshot.kinds.iter().find(|k| k.kind == "worker");
    if let Some(kind) = worker_kind {
        println!(
            "monitor: workers handled {} messages; handling p50 ≤ {:.1} µs (sampled)",
            kind.handled,
            kind.handling.p50_us.unwrap_or_default()
        );
    }
    // With `--features http`, the same metrics are served over HTTP.
    #[cfg(feature = "http")]
    let server = {
        let addr = ([127, 0, 0, 1], 0).into();
        let server =
            (monitor.serve(addr).await).map_err(|err| agentix::Error::Actor(Box::new(err)))?;
        println!("serving http://{}/metrics and /snapshot", server.addr());
        server
    };
    println!("Prometheus text, the worker lines:");
    let text = monitor.prometheus().await?;
    for line in text
        .lines()
        .filter(|l| l.contains("kind=\"worker\"") && !l.contains("_bucket"))
    {
        println!("  {line}");
    }
    #[cfg(feature = "http")]
    server.stop().await;
    swarm.shutdown().await?;
    Ok(())
}
