//! A market-data feed fanned out through the router.
//!
//! 200 subscriber agents follow `market.>`; a slow one works through every
//! tick with a small queue that drops the oldest; a crashing one panics now
//! and then and is subscribed at-least-once, so it gets each tick again
//! after it restarts. The feed publishes 100,000 ticks; the example prints
//! the throughput and what the router could not deliver, by reason.
//!
//! Run it with `cargo run --release --example fanout`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use agentix::{
    actix,
    actors::router::{
        Batch, DeliveryMode, OverflowPolicy, Publish, Retry, RouterConfig, RouterRef,
        SubscribeOptions, Topic,
    },
    prelude::*,
};

const TICKS: u64 = 100_000;
const FOLLOWERS: usize = 200;

/// A tick: a venue's price for a symbol.
struct Tick {
    price: u64,
}

/// Counts what it handles into a shared total.
#[derive(Agent)]
#[agent(mailbox = 1024)]
struct Follower {
    handled: Arc<AtomicU64>,
}

impl actix::Handler<Batch<Tick>> for Follower {
    type Result = ();

    fn handle(&mut self, batch: Batch<Tick>, _: &mut AgentContext<Self>) {
        let sum: u64 = batch.payloads().map(|tick| tick.price).sum();
        std::hint::black_box(sum);
        self.handled
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
}

/// Works hard on every tick: falls behind, and its queue drops the oldest.
#[derive(Agent)]
#[agent(mailbox = 2)]
struct Slow;

impl actix::Handler<Batch<Tick>> for Slow {
    type Result = ();

    fn handle(&mut self, batch: Batch<Tick>, _: &mut AgentContext<Self>) {
        let mut x = 0u64;
        for tick in batch.payloads() {
            for i in 0..2_000 {
                x = x.wrapping_mul(31).wrapping_add(tick.price ^ i);
            }
        }
        std::hint::black_box(x);
    }
}

/// Panics the first time it sees a price divisible by 997.
#[derive(Agent)]
#[agent(restart = "permanent")]
struct Crashy {
    handled: Arc<AtomicU64>,
}

impl actix::Handler<Batch<Tick>> for Crashy {
    type Result = ();

    fn handle(&mut self, batch: Batch<Tick>, _: &mut AgentContext<Self>) {
        let bad = |e: &agentix::actors::router::Envelope<Tick>| {
            e.attempt() == 1 && e.payload().price.is_multiple_of(997)
        };
        assert!(!batch.iter().any(bad), "bad tick data");
        self.handled
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        batch.ack();
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    // Panics are part of the show: counted below instead of printed.
    std::panic::set_hook(Box::new(|_| {}));
    let swarm = Swarm::start(SwarmConfig::default())?;
    let router = RouterRef::<Tick>::start(&swarm, RouterConfig::default()).await?;
    let handled = Arc::new(AtomicU64::new(0));
    for i in 0..FOLLOWERS {
        let handled = handled.clone();
        let follower = swarm
            .spawn(&format!("follower-{i}"), move || Follower {
                handled: handled.clone(),
            })
            .await?;
        router.subscribe("market.>", &follower).await?;
    }
    let slow = swarm.spawn("slow", || Slow).await?;
    let small_queue = SubscribeOptions::default().queue(1_000, OverflowPolicy::DropOldest);
    router
        .subscribe_as("market.>", &slow, |batch| batch, small_queue)
        .await?;
    let crashy_handled = Arc::new(AtomicU64::new(0));
    let counter = crashy_handled.clone();
    let crashy = swarm
        .agent(move || Crashy {
            handled: counter.clone(),
        })
        .name("crashy")
        .intensity(Intensity::new(10_000, Duration::from_secs(1)))
        .spawn()
        .await?;
    let retry = Retry::default().backoff(Duration::from_millis(1), Duration::from_millis(10));
    let at_least_once = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(retry));
    router
        .subscribe_as("market.>", &crashy, |batch| batch, at_least_once)
        .await?;

    let topics: Vec<Topic> = ["market.xnas.aapl", "market.xnas.msft", "market.xlon.vod"]
        .iter()
        .map(|t| Topic::new(t).expect("valid topics"))
        .collect();
    let start = Instant::now();
    for n in 0..TICKS {
        let topic = topics[n as usize % topics.len()].clone();
        router
            .send_wait(Publish::new(topic, Tick { price: n }))
            .await?;
    }
    let expected = TICKS * FOLLOWERS as u64;
    let mut check = tokio::time::interval(Duration::from_millis(1));
    while handled.load(Ordering::Relaxed) < expected {
        check.tick().await;
    }
    let elapsed = start.elapsed();
    while crashy_handled.load(Ordering::Relaxed) < TICKS {
        check.tick().await;
    }
    println!(
        "{TICKS} ticks to {FOLLOWERS} followers: {expected} deliveries in {elapsed:.2?} ({:.1} M/s)",
        expected as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!(
        "crashy panicked and restarted {} times, and handled all {} ticks (at-least-once)",
        crashy.restarts(),
        crashy_handled.load(Ordering::Relaxed)
    );
    for (reason, count) in router.undelivered_counts().await? {
        if count > 0 {
            println!("undelivered, {reason}: {count}");
        }
    }
    swarm.shutdown().await?;
    Ok(())
}
