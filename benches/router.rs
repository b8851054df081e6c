//! Fan-out through the router next to the raw baselines, in one process:
//! one publisher, 1000 subscriber agents, 2000 messages each delivered to
//! all (2 M deliveries); against it, `do_send` of each `Arc` message to
//! every raw actix actor, and a `tokio::sync::broadcast` channel with 1000
//! receiver tasks. Then the latency from publish to handling at low load:
//! fed from the caller's thread, all on one arbiter, and fed by an agent on
//! an arbiter through a router with a shard on each, once through the shard
//! on the feed's own arbiter and once through the other.
//!
//! Run with `cargo bench --bench router`. Prints one `name value` per line.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use agentix::{
    actix::{self, Actor, Addr, Arbiter},
    actors::router::{
        Batch, DeliveryMode, Publish, Retry, RouterConfig, RouterRef, SubscribeOptions, Topic,
    },
    prelude::*,
};

#[path = "router_parts/low_load.rs"]
mod low_load;
mod support;

use low_load::{Placement, low_load, low_load_raw, low_load_raw_fed};
use support::{median, percentile, print};
use tokio::sync::{Notify, broadcast};

const SUBSCRIBERS: usize = 1000;
const MESSAGES: u64 = 2000;
const ROUNDS: usize = 3;

/// Counts subscribers done with a round.
#[derive(Default)]
struct Finish {
    done: AtomicUsize,
    all: Notify,
}

impl Finish {
    fn one_done(&self) {
        if self.done.fetch_add(1, Ordering::AcqRel) + 1 == SUBSCRIBERS {
            self.all.notify_one();
        }
    }

    async fn wait(&self) {
        let all = self.all.notified();
        tokio::pin!(all);
        all.as_mut().enable();
        if self.done.load(Ordering::Acquire) < SUBSCRIBERS {
            all.await;
        }
        self.done.store(0, Ordering::Release);
    }
}

/// An agentix subscriber: sums what it gets, tells when it has all.
#[derive(Agent)]
#[agent(mailbox = 1024)]
struct Sink {
    seen: u64,
    sum: u64,
    finish: Arc<Finish>,
}

impl actix::Handler<Batch<u64>> for Sink {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        for payload in batch.payloads() {
            self.sum = self.sum.wrapping_add(*payload);
        }
        self.seen += batch.len() as u64;
        // A no-op under at-most-once.
        batch.ack();
        if self.seen.is_multiple_of(MESSAGES) {
            self.finish.one_done();
        }
    }
}

/// The raw actix subscriber for the naive baseline.
struct RawSink {
    seen: u64,
    sum: u64,
    finish: Arc<Finish>,
}

impl Actor for RawSink {
    type Context = actix::Context<Self>;
}

struct Tick(Arc<u64>);

impl actix::Message for Tick {
    type Result = ();
}

impl actix::Handler<Tick> for RawSink {
    type Result = ();

    fn handle(&mut self, Tick(payload): Tick, _: &mut Self::Context) {
        self.sum = self.sum.wrapping_add(*payload);
        self.seen += 1;
        if self.seen.is_multiple_of(MESSAGES) {
            self.finish.one_done();
        }
    }
}

/// Publishes from inside an arbiter, as a real publisher would.
#[derive(Agent)]
#[agent(ask_timeout_ms = 600_000)]
struct Driver {
    /// At-most-once subscriptions, then at-least-once ones.
    routers: [RouterRef<u64>; 2],
}

#[handlers]
impl Driver {
    #[handle]
    fn publish_all(&mut self, router: usize) -> impl std::future::Future<Output = ()> + 'static {
        let router = self.routers[router].clone();
        async move {
            let topic = Topic::new("market.eu.btc").expect("a valid topic");
            for n in 0..MESSAGES {
                let publish = Publish::new(topic.clone(), n);
                router
                    .send_wait(publish)
                    .await
                    .expect("the router takes it");
            }
        }
    }

    #[handle]
    fn naive_all(&mut self, sinks: Vec<Addr<RawSink>>) {
        for n in 0..MESSAGES {
            let payload = Arc::new(n);
            for sink in &sinks {
                // The baseline is actix as people use it for fan-out.
                sink.do_send(Tick(payload.clone()));
            }
        }
    }
}

async fn agentix_round(driver: &DriverRef, router: usize, finish: &Finish) -> f64 {
    let start = Instant::now();
    driver.publish_all(router).await.expect("published");
    finish.wait().await;
    (SUBSCRIBERS as u64 * MESSAGES) as f64 / start.elapsed().as_secs_f64()
}

async fn naive_round(driver: &DriverRef, sinks: &[Addr<RawSink>], finish: &Finish) -> f64 {
    let start = Instant::now();
    driver.naive_all(sinks.to_vec()).await.expect("sent");
    finish.wait().await;
    (SUBSCRIBERS as u64 * MESSAGES) as f64 / start.elapsed().as_secs_f64()
}

async fn broadcast_round(arbiters: &[Arbiter], finish: &Arc<Finish>) -> f64 {
    let (tx, _) = broadcast::channel::<Arc<u64>>(MESSAGES as usize);
    let ready = Arc::new(Finish::default());
    for i in 0..SUBSCRIBERS {
        let mut rx = tx.subscribe();
        let (finish, ready) = (finish.clone(), ready.clone());
        arbiters[i % arbiters.len()].spawn(async move {
            ready.one_done();
            let mut sum = 0u64;
            for _ in 0..MESSAGES {
                let payload = rx.recv().await.expect("no lag: the channel holds all");
                sum = sum.wrapping_add(*payload);
            }
            std::hint::black_box(sum);
            finish.one_done();
        });
    }
    ready.wait().await;
    let start = Instant::now();
    for n in 0..MESSAGES {
        let _ = tx.send(Arc::new(n));
    }
    finish.wait().await;
    (SUBSCRIBERS as u64 * MESSAGES) as f64 / start.elapsed().as_secs_f64()
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
    let finish = Arc::new(Finish::default());
    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    let acked = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    let at_least_once =
        SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(Retry::default()));
    for i in 0..SUBSCRIBERS {
        let finish = finish.clone();
        let sink = swarm
            .spawn(&format!("sink-{i}"), move || Sink {
                seen: 0,
                sum: 0,
                finish: finish.clone(),
            })
            .await?;
        router.subscribe("market.>", &sink).await?;
        acked
            .subscribe_as("market.>", &sink, |batch| batch, at_least_once.clone())
            .await?;
    }
    let driver = swarm
        .agent(move || Driver {
            routers: [router.clone(), acked.clone()],
        })
        .on_arbiter(0)
        .spawn()
        .await?;
    let arbiters: Vec<_> = (0..2).map(|_| Arbiter::new()).collect();
    let sinks: Vec<Addr<RawSink>> = (0..SUBSCRIBERS)
        .map(|i| {
            let finish = finish.clone();
            RawSink::start_in_arbiter(&arbiters[i % 2].handle(), move |_| RawSink {
                seen: 0,
                sum: 0,
                finish,
            })
        })
        .collect();

    let (mut ours, mut naive, mut tokio_broadcast) = (Vec::new(), Vec::new(), Vec::new());
    let mut acked = Vec::new();
    for _ in 0..ROUNDS {
        ours.push(agentix_round(&driver, 0, &finish).await);
        acked.push(agentix_round(&driver, 1, &finish).await);
        naive.push(naive_round(&driver, &sinks, &finish).await);
        tokio_broadcast.push(broadcast_round(&arbiters, &finish).await);
    }
    let (ours, naive, tokio_broadcast) = (
        median(&mut ours),
        median(&mut naive),
        median(&mut tokio_broadcast),
    );
    print("fanout_deliveries_per_s", ours);
    print("actix_naive_deliveries_per_s", naive);
    print("tokio_broadcast_deliveries_per_s", tokio_broadcast);
    print("fanout/vs_actix_naive", ours / naive);
    print("fanout/vs_tokio_broadcast", ours / tokio_broadcast);
    print("fanout_at_least_once_deliveries_per_s", median(&mut acked));

    let mut samples = low_load(&swarm, Placement::FromCaller).await?;
    let mut local = low_load(&swarm, Placement::OneArbiter).await?;
    let mut raw = low_load_raw(&arbiters).await;
    let (p50, p99) = (
        percentile(&mut samples, 0.5) / 1000.0,
        percentile(&mut samples, 0.99) / 1000.0,
    );
    let raw_p50 = percentile(&mut raw, 0.5) / 1000.0;
    print("publish_to_handle_low_load_p50_us", p50);
    print("publish_to_handle_low_load_p99_us", p99);
    print("actix_do_send_low_load_p50_us", raw_p50);
    print("publish_to_handle_low_load_p50/vs_actix", p50 / raw_p50);
    print(
        "publish_to_handle_low_load_same_arbiter_p50_us",
        percentile(&mut local, 0.5) / 1000.0,
    );
    print(
        "publish_to_handle_low_load_same_arbiter_p99_us",
        percentile(&mut local, 0.99) / 1000.0,
    );
    let mut raw_local = low_load_raw_fed(&arbiters[0], std::slice::from_ref(&arbiters[0])).await;
    let local_p50 = percentile(&mut local, 0.5) / 1000.0;
    let raw_local_p50 = percentile(&mut raw_local, 0.5) / 1000.0;
    print("actix_do_send_low_load_same_arbiter_p50_us", raw_local_p50);
    print(
        "publish_to_handle_low_load_same_arbiter_p50/vs_actix",
        local_p50 / raw_local_p50,
    );
    let mut own = low_load(&swarm, Placement::FromArbiter { shard: 0 }).await?;
    let mut other = low_load(&swarm, Placement::FromArbiter { shard: 1 }).await?;
    let mut raw_fed = low_load_raw_fed(&arbiters[0], &arbiters).await;
    let raw_fed_p50 = percentile(&mut raw_fed, 0.5) / 1000.0;
    for (name, samples) in [("own", &mut own), ("other", &mut other)] {
        let p50 = percentile(samples, 0.5) / 1000.0;
        let line = format!("publish_to_handle_low_load_from_arbiter_{name}_shard");
        print(&format!("{line}_p50_us"), p50);
        print(
            &format!("{line}_p99_us"),
            percentile(samples, 0.99) / 1000.0,
        );
        print(&format!("{line}_p50/vs_actix"), p50 / raw_fed_p50);
    }
    print("actix_do_send_low_load_from_arbiter_p50_us", raw_fed_p50);
    for arbiter in &arbiters {
        arbiter.stop();
    }
    swarm.shutdown().await?;
    Ok(())
}
