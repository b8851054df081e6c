//! Supervision costs next to raw actix, in one process: starting 100k agents
//! under one supervisor, resident memory per idle agent, a panic-to-answer
//! restart under a supervisor, and a 10k-agent tree with dependency layers.
//!
//! Run with `cargo bench --bench supervision`. Prints one `name value` per line.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use agentix::{
    actix::{self, Actor},
    prelude::*,
};

mod support;

use support::{median, percentile, print};
use tokio::sync::Notify;

const AGENTS: usize = 100_000;
const RESTARTS: usize = 20_000;
const ROUNDS: usize = 5;

/// An agent that does nothing: the cost of being one.
#[derive(Agent, Default)]
#[agent(restart = "permanent")]
struct Idle;

/// A supervised agent that panics on request.
#[derive(Agent, Default)]
#[agent(restart = "permanent")]
struct Fragile {
    count: u64,
}

#[handlers]
impl Fragile {
    #[handle]
    fn boom(&mut self) {
        panic!("bench panic")
    }

    #[handle]
    fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

/// Runs the restart measurement from inside an arbiter.
#[derive(Agent, Default)]
#[agent(ask_timeout_ms = 600_000)]
struct Driver;

#[handlers]
impl Driver {
    /// From telling the message that panics to the restarted agent's answer.
    #[handle]
    fn measure_restarts(
        &mut self,
        agent: FragileRef,
        n: usize,
    ) -> impl Future<Output = Vec<u64>> + 'static {
        async move {
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                agent.tell(Boom).expect("room");
                let answer = agent.bump().await.expect("restarted answer");
                samples.push(start.elapsed().as_nanos() as u64);
                assert_eq!(answer, 1, "a fresh incarnation answers");
            }
            samples
        }
    }
}

/// The raw actix actor started for comparison; counts its starts.
struct RawIdle {
    started: Arc<(AtomicUsize, Notify)>,
}

impl Actor for RawIdle {
    type Context = actix::Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        let (count, done) = &*self.started;
        if count.fetch_add(1, Ordering::AcqRel) + 1 == AGENTS {
            done.notify_one();
        }
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Starts `AGENTS` idle agents under one supervisor; seconds until all run.
async fn supervised_spawn(swarm: &Swarm, round: usize) -> (f64, SupervisorRef) {
    let mut spec = swarm.supervisor(&format!("spawn-{round}"));
    for i in 0..AGENTS {
        spec = spec.child(ChildSpec::new(&format!("idle-{i}"), Idle::default));
    }
    let start = Instant::now();
    let root = spec.start().await.expect("100k children start");
    (start.elapsed().as_secs_f64(), root)
}

/// Starts `AGENTS` raw actix actors round-robin on `arbiters`.
async fn raw_spawn(arbiters: &[actix::prelude::Arbiter]) -> f64 {
    let started = Arc::new((AtomicUsize::new(0), Notify::new()));
    let start = Instant::now();
    let done = started.1.notified();
    tokio::pin!(done);
    done.as_mut().enable();
    for i in 0..AGENTS {
        let started = started.clone();
        let _ = RawIdle::start_in_arbiter(&arbiters[i % arbiters.len()].handle(), move |_| {
            RawIdle { started }
        });
    }
    done.await;
    start.elapsed().as_secs_f64()
}

/// A tree of 10 supervisors × 1000 agents, each in 3 dependency layers.
async fn tree_start(swarm: &Swarm, round: usize) -> f64 {
    let mut root = swarm.supervisor(&format!("tree-{round}"));
    for s in 0..10 {
        let mut branch = SupervisorSpec::new(&format!("branch-{s}"));
        // Child ids are agent names, unique in the swarm: each branch
        // prefixes its own.
        for i in 0..10 {
            branch = branch.child(ChildSpec::new(&format!("b{s}-db-{i}"), Idle::default));
        }
        for i in 0..490 {
            let db = format!("b{s}-db-{}", i % 10);
            let id = format!("b{s}-svc-{i}");
            branch = branch.child(ChildSpec::new(&id, Idle::default).depends_on([db]));
        }
        for i in 0..500 {
            let svc = format!("b{s}-svc-{}", i % 490);
            let id = format!("b{s}-api-{i}");
            branch = branch.child(ChildSpec::new(&id, Idle::default).depends_on([svc]));
        }
        root = root.supervisor(branch);
    }
    let start = Instant::now();
    let tree = root.start().await.expect("the tree starts");
    let took = start.elapsed().as_secs_f64() * 1000.0;
    tree.shutdown().await;
    took
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(2)
            .start_timeout(Duration::from_secs(60)),
    )?;

    // Memory first, while the process has no freed memory to reuse.
    let before = resident_bytes();
    let (took, root) = supervised_spawn(&swarm, 0).await;
    let bytes_per_agent = (resident_bytes().saturating_sub(before)) as f64 / AGENTS as f64;
    root.shutdown().await;
    let mut agentix = vec![AGENTS as f64 / took];
    for round in 1..ROUNDS {
        let (took, root) = supervised_spawn(&swarm, round).await;
        agentix.push(AGENTS as f64 / took);
        root.shutdown().await;
    }
    let arbiters: Vec<_> = (0..2).map(|_| actix::prelude::Arbiter::new()).collect();
    let mut actix = Vec::new();
    for _ in 0..ROUNDS {
        actix.push(AGENTS as f64 / raw_spawn(&arbiters).await);
    }
    for arbiter in &arbiters {
        arbiter.stop();
    }
    let (agentix, actix) = (median(&mut agentix), median(&mut actix));
    print("supervised_spawn_agents_per_s", agentix);
    print("actix_spawn_actors_per_s", actix);
    print("supervised_spawn/vs_actix", agentix / actix);
    print("supervised_bytes_per_idle_agent", bytes_per_agent);

    let driver = swarm.agent(Driver::default).on_arbiter(0).spawn().await?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let supervised = swarm
        .supervisor("restarts")
        .on_arbiter(1)
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .child(ChildSpec::new("fragile", Fragile::default).on_arbiter(0))
        .start()
        .await?;
    let fragile = supervised
        .child::<Fragile>("fragile")
        .expect("a Fragile child");
    let mut samples = driver.measure_restarts(fragile, RESTARTS).await?;
    let alone = swarm
        .agent(Fragile::default)
        .on_arbiter(0)
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .spawn()
        .await?;
    let mut unsupervised = driver.measure_restarts(alone, RESTARTS).await?;
    std::panic::set_hook(hook);
    print(
        "supervised_restart_p50_us",
        percentile(&mut samples, 0.5) / 1000.0,
    );
    print(
        "supervised_restart_p99_us",
        percentile(&mut samples, 0.99) / 1000.0,
    );
    print(
        "unsupervised_restart_p50_us",
        percentile(&mut unsupervised, 0.5) / 1000.0,
    );

    let mut trees = Vec::new();
    for round in 0..ROUNDS {
        trees.push(tree_start(&swarm, round).await);
    }
    print("tree_start_10k_ms", median(&mut trees));

    swarm.shutdown().await?;
    Ok(())
}
