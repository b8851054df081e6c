//! The agentix demo: a swarm on the embedded default, run under a random
//! fault plan.
//!
//! A supervision tree of 2,000 workers in 8 teams takes jobs that clients
//! route by capability and load through the registry; a router fans a feed
//! out in batches to 64 at-least-once followers; the monitor watches. A
//! fault plan generated from a seed panics, delays, stalls and fills
//! workers and loses or delays the feed's deliveries. A line of progress
//! every half second, then a report; the exit code is non-zero if a
//! guarantee was broken: a job accepted and neither handled nor
//! dead-lettered, a tick neither delivered nor kept as undelivered, a
//! shutdown that did not complete.
//!
//! `cargo run --release --example swarm [seconds] [seed]` (5 s, a random
//! seed by default).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::{
    DeadLetter, DeadLetterSink, actix,
    actors::{
        monitor::{MonitorConfig, MonitorRef},
        registry::{Query, Registration, RegistryRef, Selection},
        router::{Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions},
    },
    prelude::*,
    testkit::{
        Fault, FaultKind, Shape,
        proptest::{
            strategy::{Strategy as _, ValueTree},
            test_runner::{Config, RngSeed, TestRunner},
        },
    },
};

const TEAMS: usize = 8;
const PER_TEAM: usize = 250;
const FOLLOWERS: usize = 64;
const CLIENTS: usize = 4;

/// What the run counts: the guarantees are checked on these.
#[derive(Default)]
struct Tally {
    jobs_sent: AtomicU64,
    jobs_done: AtomicU64,
    jobs_dead: AtomicU64,
    ticks: AtomicU64,
    ticks_seen: AtomicU64,
}

/// Counts dead letters; only jobs are sent by tell in this demo.
struct Letters(Arc<Tally>);

impl DeadLetterSink for Letters {
    fn dead_letter(&self, letter: DeadLetter) {
        if letter.payload().is::<Job>() {
            self.0.jobs_dead.fetch_add(1, Relaxed);
        }
    }
}

#[derive(Agent)]
#[agent(restart = "permanent", mailbox = 64)]
struct Worker {
    tally: Arc<Tally>,
}

#[handlers]
impl Worker {
    #[handle]
    fn job(&mut self, size: u64) {
        std::hint::black_box((0..size).sum::<u64>());
        self.tally.jobs_done.fetch_add(1, Relaxed);
    }
}

/// Follows the feed: counts each tick the first time it sees it.
#[derive(Agent)]
struct Follower {
    tally: Arc<Tally>,
    seen: std::collections::HashSet<u64>,
}

impl actix::Handler<Batch<u64>> for Follower {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        let new = batch
            .payloads()
            .filter(|tick| self.seen.insert(**tick))
            .count();
        self.tally.ticks_seen.fetch_add(new as u64, Relaxed);
        batch.ack();
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let seed: u64 = (args.next().and_then(|s| s.parse().ok())).unwrap_or_else(rand_seed);
    let tally = Arc::new(Tally::default());
    let config = SwarmConfig::default().dead_letters(Arc::new(Letters(tally.clone())));
    let swarm = Swarm::start(config)?;
    let started = Instant::now();

    let mut root = swarm
        .supervisor("root")
        .intensity(Intensity::new(1_000, Duration::from_secs(1)));
    let mut names = Vec::new();
    for team in 0..TEAMS {
        let mut spec = SupervisorSpec::new(&format!("team-{team}"))
            .intensity(Intensity::new(1_000, Duration::from_secs(1)));
        for i in 0..PER_TEAM {
            let (name, tally) = (format!("w{team}-{i}"), tally.clone());
            spec = spec.child(ChildSpec::new(&name, move || Worker {
                tally: tally.clone(),
            }));
            names.push(name);
        }
        root = root.supervisor(spec);
    }
    let root = root.start().await?;
    let registry = RegistryRef::start(&swarm).await?;
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default()).await?;
    monitor.watch_registry(&registry).await?;
    let mut batch = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let team = root.supervisor(&format!("team-{}", n / PER_TEAM));
        let worker = team
            .and_then(|t| t.child::<Worker>(name))
            .expect("a worker");
        let capability = if n % 2 == 0 { "translate" } else { "summarize" };
        batch.push(Registration::new(&worker).capability(capability).limit(8));
    }
    registry.register_batch(batch).await?;

    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    monitor.watch_router(&router).await?;
    let retry = Retry::default()
        .ack_timeout(Duration::from_millis(50))
        .backoff(Duration::from_millis(2), Duration::from_millis(20));
    let options = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry));
    for f in 0..FOLLOWERS {
        let tally = tally.clone();
        let follower = (swarm.agent(move || Follower {
            tally: tally.clone(),
            seen: Default::default(),
        }))
        .name(format!("follower-{f}"))
        .spawn()
        .await?;
        (router.subscribe_as("feed.>", &follower, |b| b, options.clone())).await?;
    }
    println!(
        "{} agents up in {:.0?} on {} arbiters",
        swarm.agents(),
        started.elapsed(),
        swarm.arbiters()
    );

    // The plan: faults aimed at a sample of workers and followers.
    let mut targets: Vec<String> = names.iter().step_by(40).cloned().collect();
    targets.extend((0..FOLLOWERS).step_by(8).map(|f| format!("follower-{f}")));
    let shape = Shape::new(targets, 200)
        .kinds([
            FaultKind::Panic,
            FaultKind::Delay,
            FaultKind::Stall,
            FaultKind::FullMailbox,
            FaultKind::DropDelivery,
            FaultKind::DelayDelivery,
        ])
        .faults(40..=40)
        .max_ms(20);
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let mut plan = shape
        .plans()
        .new_tree(&mut runner)
        .expect("a plan")
        .current();
    plan.seed = Some(seed);
    let injection = swarm.inject(plan).expect("a valid plan");
    agentix::testkit::quiet_injected_panics();
    println!(
        "fault plan: 40 faults from seed {seed} (replay: `cargo run --release --example swarm {secs} {seed}`)"
    );

    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut work = Vec::new();
    for c in 0..CLIENTS {
        let (registry, tally) = (registry.clone(), tally.clone());
        let capability = if c % 2 == 0 { "translate" } else { "summarize" };
        work.push(tokio::spawn(async move {
            let query = Query::capability(capability);
            let mut n = 0u64;
            while Instant::now() < deadline {
                // The clients share the main thread with the feed and the
                // progress line.
                n += 1;
                if n.is_multiple_of(32) {
                    tokio::task::yield_now().await;
                }
                let Ok(Some(job)) = registry.select(&query, Selection::LeastLoaded) else {
                    tokio::task::yield_now().await;
                    continue;
                };
                let worker = job.agent::<Worker>().expect("only workers register");
                let taken = worker.tell(Job { size: 200 }).is_ok();
                if taken {
                    tally.jobs_sent.fetch_add(1, Relaxed);
                } else {
                    tokio::task::yield_now().await;
                }
                job.finish(taken);
            }
        }));
    }
    let (feed, tally_feed) = (router.clone(), tally.clone());
    work.push(tokio::spawn(async move {
        let mut tick = 0;
        while Instant::now() < deadline {
            for _ in 0..64 {
                tick += 1;
                let topic = if tick % 2 == 0 {
                    "feed.even"
                } else {
                    "feed.odd"
                };
                if feed.publish(topic, tick).is_ok() {
                    tally_feed.ticks.fetch_add(1, Relaxed);
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }));
    let mut last = (Instant::now(), 0);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let handled: u64 = swarm.census().iter().map(|k| k.handled).sum();
        let restarts: u64 = swarm.census().iter().map(|k| k.restarts).sum();
        let rate = (handled - last.1) as f64 / last.0.elapsed().as_secs_f64();
        last = (Instant::now(), handled);
        println!(
            "{:>5.1}s  {:>10.0} msgs/s  {:>5} restarts  {:>5} dead letters  {} faults fired",
            started.elapsed().as_secs_f64(),
            rate,
            restarts,
            tally.jobs_dead.load(Relaxed),
            distinct(&injection)
        );
    }
    for task in work {
        task.await.expect("a client ends");
    }
    let lost_in_panics = (injection.fired().iter())
        .filter(|f| matches!(&f.fault, Fault::Panic { agent, .. } if agent.starts_with('w')))
        .count() as u64;
    let settled = settle(&router, &tally, lost_in_panics).await;
    let snapshot = monitor.snapshot().await?;
    let handled: u64 = snapshot.kinds.iter().map(|k| k.handled).sum();
    let restarts: u64 = swarm.census().iter().map(|k| k.restarts).sum();
    println!(
        "report: {handled} messages handled, {restarts} restarts, {} of {} faults fired",
        distinct(&injection),
        40
    );
    drop(injection);
    let shutdown = tokio::time::timeout(Duration::from_secs(30), swarm.shutdown()).await;
    let clean = matches!(shutdown, Ok(Ok(_)));
    println!(
        "shutdown: {}",
        if clean { "complete" } else { "NOT complete" }
    );
    if !(settled && clean) {
        println!("VIOLATED: see above");
        std::process::exit(1);
    }
    println!("every guarantee held");
    Ok(())
}

/// Waits (up to 5 s) until every accepted job is handled or dead-lettered
/// (or was the one a planned panic took) and every tick reached every
/// follower or is kept as undelivered; prints the accounts. Whether they
/// balance.
async fn settle(router: &RouterRef<u64>, tally: &Tally, lost_in_panics: u64) -> bool {
    let start = Instant::now();
    loop {
        let undelivered: u64 = match router.undelivered_counts().await {
            Ok(counts) => counts.values().sum(),
            Err(_) => 0,
        };
        let jobs = tally.jobs_sent.load(Relaxed);
        let jobs_accounted =
            tally.jobs_done.load(Relaxed) + tally.jobs_dead.load(Relaxed) + lost_in_panics;
        let ticks = tally.ticks.load(Relaxed) * FOLLOWERS as u64;
        let ticks_accounted = tally.ticks_seen.load(Relaxed) + undelivered;
        let balanced = jobs_accounted >= jobs && ticks_accounted >= ticks;
        if balanced || start.elapsed() > Duration::from_secs(5) {
            println!(
                "jobs: {jobs} accepted, {} handled, {} dead letters, {lost_in_panics} taken by planned panics",
                tally.jobs_done.load(Relaxed),
                tally.jobs_dead.load(Relaxed),
            );
            println!(
                "feed: {ticks} tick deliveries due, {} made, {undelivered} kept as undelivered",
                tally.ticks_seen.load(Relaxed)
            );
            return balanced;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Faults of the plan that fired (a full mailbox fires once per refusal).
fn distinct(injection: &agentix::testkit::Injection) -> usize {
    let fired = injection.fired();
    fired
        .iter()
        .map(|f| f.index)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}
