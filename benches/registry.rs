//! The registry next to a plain actix registry actor, in one process:
//! 100k agents registered in one batch, and selections by capability over
//! 100k agents in 100 capabilities, made from an agent on another arbiter.
//! Then the core tell workload on a swarm with a monitor and on one
//! without.
//!
//! Run with `cargo bench --bench registry`. Prints one `name value` per line.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use agentix::{
    actix::{self, Actor, Addr, Arbiter},
    actors::registry::{Query, Registration, RegistryRef, Selection},
    prelude::*,
};

#[path = "registry_parts/monitor_overhead.rs"]
mod monitor_overhead;
mod support;

use support::{median, print};

const AGENTS: usize = 100_000;
const CAPABILITIES: usize = 100;
const SELECTIONS: usize = 1_000_000;
const RAW_ASKS: usize = 2_000;
const ROUNDS: usize = 3;

#[derive(Agent, Default)]
struct Idle;

/// Selects from another arbiter than the registry's.
#[derive(Agent)]
#[agent(ask_timeout_ms = 600_000)]
struct Chooser {
    registry: RegistryRef,
}

#[handlers]
impl Chooser {
    /// Seconds for `n` selections, each with a query built as a user would
    /// and finished as a success.
    #[handle]
    fn choose(&mut self, n: usize, strategy: Selection) -> f64 {
        let start = Instant::now();
        for i in 0..n {
            let query = Query::capability(&format!("cap-{}", i % CAPABILITIES));
            let job = self.registry.select(&query, strategy).expect("valid query");
            job.expect("an agent is available").finish(true);
        }
        start.elapsed().as_secs_f64()
    }
}

/// A registry as one writes it with plain actix: maps in an actor.
#[derive(Default)]
struct RawRegistry {
    names: HashMap<String, Addr<RawIdle>>,
    by_capability: HashMap<String, Vec<Addr<RawIdle>>>,
    cursor: usize,
}

impl Actor for RawRegistry {
    type Context = actix::Context<Self>;
}

struct RawIdle;

impl Actor for RawIdle {
    type Context = actix::Context<Self>;
}

struct RawRegister(Vec<(String, String, Addr<RawIdle>)>);

impl actix::Message for RawRegister {
    type Result = usize;
}

impl actix::Handler<RawRegister> for RawRegistry {
    type Result = usize;

    fn handle(&mut self, RawRegister(all): RawRegister, _: &mut Self::Context) -> usize {
        let count = all.len();
        for (name, capability, addr) in all {
            self.by_capability
                .entry(capability)
                .or_default()
                .push(addr.clone());
            self.names.insert(name, addr);
        }
        count
    }
}

struct RawSelect(String);

impl actix::Message for RawSelect {
    type Result = Option<Addr<RawIdle>>;
}

impl actix::Handler<RawSelect> for RawRegistry {
    type Result = Option<Addr<RawIdle>>;

    fn handle(&mut self, RawSelect(capability): RawSelect, _: &mut Self::Context) -> Self::Result {
        let list = self.by_capability.get(&capability)?;
        self.cursor += 1;
        Some(list[self.cursor % list.len()].clone())
    }
}

fn registrations(agents: &[IdleRef]) -> Vec<Registration> {
    (agents.iter().enumerate())
        .map(|(i, agent)| {
            Registration::new(agent)
                .capability(&format!("cap-{}", i % CAPABILITIES))
                .tag(&format!("zone-{}", i % 10))
        })
        .collect()
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(2)
            .start_timeout(Duration::from_secs(60)),
    )?;
    let mut spec = swarm.supervisor("idle");
    for i in 0..AGENTS {
        spec = spec.child(ChildSpec::new(&format!("idle-{i}"), Idle::default));
    }
    let root = spec.start().await?;
    let agents: Vec<IdleRef> = (0..AGENTS)
        .map(|i| root.child::<Idle>(&format!("idle-{i}")).expect("started"))
        .collect();

    let mut agentix_ms = Vec::new();
    let mut registry = None;
    for _ in 0..ROUNDS {
        let fresh = RegistryRef::start(&swarm).await?;
        let batch = registrations(&agents);
        let start = Instant::now();
        fresh.register_batch(batch).await?;
        agentix_ms.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(fresh.len(), AGENTS);
        if let Some(old) = registry.replace(fresh) {
            let old: RegistryRef = old;
            old.agent().stop();
            old.agent().stopped().await;
        }
    }
    let registry = registry.expect("three rounds ran");

    // The raw baseline: the same registrations into maps in an actix actor.
    let raw_arbiter = Arbiter::new();
    let raw_agents: Vec<Addr<RawIdle>> = (0..AGENTS)
        .map(|_| RawIdle::start_in_arbiter(&raw_arbiter.handle(), |_| RawIdle))
        .collect();
    let mut raw_ms = Vec::new();
    let mut raw_registry = None;
    for _ in 0..ROUNDS {
        let raw = RawRegistry::start_in_arbiter(&raw_arbiter.handle(), |_| RawRegistry::default());
        let batch = (raw_agents.iter().enumerate())
            .map(|(i, addr)| {
                (
                    format!("idle-{i}"),
                    format!("cap-{}", i % CAPABILITIES),
                    addr.clone(),
                )
            })
            .collect();
        let start = Instant::now();
        raw.send(RawRegister(batch))
            .await
            .expect("raw registry answers");
        raw_ms.push(start.elapsed().as_secs_f64() * 1e3);
        raw_registry = Some(raw);
    }
    let (agentix_ms, raw_ms) = (median(&mut agentix_ms), median(&mut raw_ms));
    print("register_batch_100k_ms", agentix_ms);
    print("actix_hashmap_register_100k_ms", raw_ms);
    print("register_batch_100k/vs_actix_hashmap", agentix_ms / raw_ms);

    // Selections from an agent on the other arbiter than the registry's.
    let registry_arbiter = 0;
    let chooser = (swarm.agent({
        let registry = registry.clone();
        move || Chooser {
            registry: registry.clone(),
        }
    }))
    .on_arbiter(registry_arbiter + 1)
    .spawn()
    .await?;
    for (name, strategy) in [
        ("select_by_capability_per_s", Selection::LeastLoaded),
        ("select_round_robin_per_s", Selection::RoundRobin),
        ("select_best_score_per_s", Selection::BestScore),
    ] {
        let mut rates = Vec::new();
        for _ in 0..ROUNDS {
            let took = chooser.choose(SELECTIONS, strategy).await?;
            rates.push(SELECTIONS as f64 / took);
        }
        print(name, median(&mut rates));
        if strategy == Selection::LeastLoaded {
            let raw = raw_registry.as_ref().expect("the raw registry runs");
            let start = Instant::now();
            for i in 0..RAW_ASKS {
                let capability = format!("cap-{}", i % CAPABILITIES);
                raw.send(RawSelect(capability)).await.expect("answers");
            }
            let raw_rate = RAW_ASKS as f64 / start.elapsed().as_secs_f64();
            print("actix_ask_select_per_s", raw_rate);
            print(
                "select_by_capability/vs_actix_ask",
                median(&mut rates) / raw_rate,
            );
        }
    }
    raw_arbiter.stop();
    swarm.shutdown().await?;

    let (on, off) = monitor_overhead::tell_with_and_without_monitor().await?;
    print("tell_with_monitor_msgs_per_s", on);
    print("tell_without_monitor_msgs_per_s", off);
    print("tell_with_monitor/vs_without", on / off);
    Ok(())
}
