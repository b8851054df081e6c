//! Core costs of agentix next to raw actix, in one process, on the same
//! arbiter threads: tell throughput (same and cross arbiter), ask round-trip
//! latency, and the time from a panic to the restarted agent's next answer.
//!
//! `asks_100k_deadline_lengths/vs_100`: 100,000 asks in a row with 100,000
//! different deadline lengths (1-2 ms, so they fall due during the run)
//! against 100: the deadline wheel's cost per ask must not grow with the
//! lengths in use.
//!
//! Every workload is driven from inside an arbiter by a driver agent, and
//! the raw actix actors are started from that same arbiter, so both sides
//! run on identical threads. Rounds alternate agentix and actix; each figure
//! is the median over rounds (throughput) or over all samples (latency).
//!
//! Run with `cargo bench --bench core`. Prints one `name value` per line.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use agentix::{
    actix::{self, Actor, Addr},
    prelude::*,
};

mod support;

use support::{median, percentile, print};

const TELLS_SAME: u64 = 2_000_000;
const TELLS_CROSS: u64 = 1_000_000;
const ASKS: usize = 100_000;
const PANICS: usize = 20_000;
const ROUNDS: usize = 5;

/// The agentix target: counts what it is told.
#[derive(Agent, Default)]
struct Sink {
    count: u64,
}

#[handlers]
impl Sink {
    #[handle]
    fn hit(&mut self) {
        self.count += 1;
    }

    #[handle]
    fn add(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }

    #[handle]
    fn boom(&mut self) {
        panic!("bench panic")
    }
}

/// The raw actix target, doing the same work.
#[derive(Default)]
struct RawSink {
    count: u64,
}

impl Actor for RawSink {
    type Context = actix::Context<Self>;
}

struct RawHit;
impl actix::Message for RawHit {
    type Result = ();
}
impl actix::Handler<RawHit> for RawSink {
    type Result = ();
    fn handle(&mut self, _: RawHit, _: &mut Self::Context) {
        self.count += 1;
    }
}

struct RawAdd(u64);
impl actix::Message for RawAdd {
    type Result = u64;
}
impl actix::Handler<RawAdd> for RawSink {
    type Result = u64;
    fn handle(&mut self, msg: RawAdd, _: &mut Self::Context) -> u64 {
        self.count += msg.0;
        self.count
    }
}

/// Runs workloads from inside its arbiter.
#[derive(Agent, Default)]
#[agent(ask_timeout_ms = 600_000)]
struct Driver;

#[handlers]
impl Driver {
    /// Starts a raw actix target on this driver's arbiter.
    #[handle]
    fn start_raw(&mut self) -> Addr<RawSink> {
        RawSink::default().start()
    }

    #[handle]
    fn tells(&mut self, sink: SinkRef, n: u64) -> impl Future<Output = Duration> + 'static {
        async move {
            let start = Instant::now();
            for _ in 0..n {
                // The fast path is a plain tell; a full mailbox waits for room.
                if let Err(err) = sink.tell(Hit) {
                    sink.tell_wait(err.into_inner()).await.expect("room");
                }
            }
            sink.add(0).await.expect("flush");
            start.elapsed()
        }
    }

    #[handle]
    fn raw_tells(
        &mut self,
        sink: Addr<RawSink>,
        n: u64,
    ) -> impl Future<Output = Duration> + 'static {
        async move {
            let start = Instant::now();
            for _ in 0..n {
                sink.do_send(RawHit);
            }
            sink.send(RawAdd(0)).await.expect("flush");
            start.elapsed()
        }
    }

    #[handle]
    fn asks(&mut self, sink: SinkRef, n: usize) -> impl Future<Output = Vec<u64>> + 'static {
        async move {
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                sink.add(1).await.expect("reply");
                samples.push(start.elapsed().as_nanos() as u64);
            }
            samples
        }
    }

    /// Asks whose deadlines cycle through `lengths` different lengths (a
    /// remaining budget, say) between 1 and 2 ms, so that they fall due
    /// while the loop runs; the time the loop took.
    #[handle]
    fn asks_distinct_deadlines(
        &mut self,
        sink: SinkRef,
        n: usize,
        lengths: usize,
    ) -> impl Future<Output = Duration> + 'static {
        async move {
            let start = Instant::now();
            for i in 0..n {
                let nanos = (i % lengths) as u64 * 1_000_000 / lengths as u64;
                let deadline = Duration::from_millis(1) + Duration::from_nanos(nanos);
                sink.add(1).timeout(deadline).await.expect("reply");
            }
            start.elapsed()
        }
    }

    #[handle]
    fn raw_asks(
        &mut self,
        sink: Addr<RawSink>,
        n: usize,
    ) -> impl Future<Output = Vec<u64>> + 'static {
        async move {
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                sink.send(RawAdd(1)).await.expect("reply");
                samples.push(start.elapsed().as_nanos() as u64);
            }
            samples
        }
    }

    /// From telling the message that panics to the next ask's answer.
    #[handle]
    fn panics(&mut self, sink: SinkRef, n: usize) -> impl Future<Output = Vec<u64>> + 'static {
        async move {
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                sink.tell(Boom).expect("room");
                let answer = sink.add(1).await.expect("restarted answer");
                samples.push(start.elapsed().as_nanos() as u64);
                assert_eq!(answer, 1, "the answer comes from a fresh incarnation");
            }
            samples
        }
    }
}

async fn tell_throughput(
    driver: &DriverRef,
    sink: &SinkRef,
    raw: &Addr<RawSink>,
    n: u64,
) -> (f64, f64) {
    let (mut agentix, mut actix) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let took = driver.tells(sink.clone(), n).await.expect("tells");
        agentix.push(n as f64 / took.as_secs_f64());
        let took = driver.raw_tells(raw.clone(), n).await.expect("raw tells");
        actix.push(n as f64 / took.as_secs_f64());
    }
    (median(&mut agentix), median(&mut actix))
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
    let driver = swarm.agent(Driver::default).on_arbiter(0).spawn().await?;
    let near = swarm.agent(Sink::default).on_arbiter(0).spawn().await?;
    let far = swarm.agent(Sink::default).on_arbiter(1).spawn().await?;
    let far_driver = swarm.agent(Driver::default).on_arbiter(1).spawn().await?;
    let raw_near = driver.start_raw().await?;
    let raw_far = far_driver.start_raw().await?;

    let (agentix, actix) = tell_throughput(&driver, &near, &raw_near, TELLS_SAME).await;
    print("tell_same_arbiter_agentix_msgs_per_s", agentix);
    print("tell_same_arbiter_actix_msgs_per_s", actix);
    print("tell_same_arbiter/vs_actix", agentix / actix);

    let (agentix, actix) = tell_throughput(&driver, &far, &raw_far, TELLS_CROSS).await;
    print("tell_cross_arbiter_agentix_msgs_per_s", agentix);
    print("tell_cross_arbiter_actix_msgs_per_s", actix);
    print("tell_cross_arbiter/vs_actix", agentix / actix);

    let (mut agentix, mut actix) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        agentix.extend(driver.asks(near.clone(), ASKS / ROUNDS).await?);
        actix.extend(driver.raw_asks(raw_near.clone(), ASKS / ROUNDS).await?);
    }
    let (agentix, actix) = (percentile(&mut agentix, 0.5), percentile(&mut actix, 0.5));
    print("ask_p50_agentix_ns", agentix);
    print("ask_p50_actix_ns", actix);
    print("ask_p50/vs_actix", agentix / actix);
    let (mut many, mut few) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let sink = near.clone();
        let took = driver
            .asks_distinct_deadlines(sink.clone(), ASKS, ASKS)
            .await?;
        many.push(ASKS as f64 / took.as_secs_f64());
        let took = driver.asks_distinct_deadlines(sink, ASKS, 100).await?;
        few.push(ASKS as f64 / took.as_secs_f64());
    }
    let (many, few) = (median(&mut many), median(&mut few));
    print("asks_100k_deadline_lengths_per_s", many);
    print("asks_100_deadline_lengths_per_s", few);
    print("asks_100k_deadline_lengths/vs_100", many / few);

    let (mut agentix, mut actix) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        agentix.extend(driver.asks(far.clone(), ASKS / ROUNDS / 10).await?);
        actix.extend(driver.raw_asks(raw_far.clone(), ASKS / ROUNDS / 10).await?);
    }
    let (agentix, actix) = (percentile(&mut agentix, 0.5), percentile(&mut actix, 0.5));
    print("ask_cross_p50_agentix_ns", agentix);
    print("ask_cross_p50_actix_ns", actix);
    print("ask_cross_p50/vs_actix", agentix / actix);

    // The default hook prints every panic (with a backtrace if
    // RUST_BACKTRACE is set); silence it to measure the runtime's own cost.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let fragile = swarm
        .agent(Sink::default)
        .on_arbiter(0)
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .spawn()
        .await?;
    let mut samples = driver.panics(fragile.clone(), PANICS).await?;
    std::panic::set_hook(hook);
    print(
        "panic_restart_p50_us",
        percentile(&mut samples, 0.5) / 1000.0,
    );
    print(
        "panic_restart_p99_us",
        percentile(&mut samples, 0.99) / 1000.0,
    );
    print("panic_restarts", fragile.restarts() as f64);

    swarm.shutdown().await?;
    Ok(())
}
