//! The soak: a swarm under sustained load with random panics for 40 s,
//! watching whether the live heap plateaus and whether a quiet agent still
//! answers promptly next to the busiest one.
//!
//! Shape, on 2 arbiters: a one-for-one root supervisor with 2,000
//! permanent workers; a router (on arbiter 0) with 200 subscribers, each
//! following one of 8 topics, the first 50 at-least-once, all
//! acknowledging every batch; a busy agent and a quiet one on arbiter 0.
//! For 40 s, driver agents on arbiter 1 publish (`send_wait`, the topics
//! in turn, so consecutive messages do not share a batch: with one topic
//! the router drains its mailbox faster than a publisher fills it, and
//! what goes wrong only while its mailbox stays busy never shows), tell
//! random workers (`tell`, `tell_wait` when full) and keep the busy
//! agent's mailbox non-empty (`tell_wait`); from the main thread, 600 panics a second go
//! to random workers, a random worker is asked every 50 ms (2 s deadline)
//! and the quiet agent every 2 ms (10 s deadline, so its latency is
//! measured rather than cut). The live heap (a counting global allocator)
//! and the router's deliveries held for acknowledgement are sampled every
//! 100 ms.
//!
//! Figures: `soak_heap_growth_mb_per_s` (least-squares slope of the live
//! heap over the last 30 s), `soak_msgs_per_s` (messages handled by
//! workers and the busy agent plus deliveries counted by subscribers, over
//! the load), `neighbour_ask_p99_ms` (the quiet agent during the load),
//! `soak_asks_timed_out`, `router_held_for_ack_max`; for context, the heap
//! at the start and end of the load, the quiet agent's p99 on an idle
//! arbiter before the load, and the raw baseline: the same probe on plain
//! actix, a quiet actor next to a flooded one
//! (`neighbour_ask_p99_ms/vs_actix`). Targets: growth ≤ 0.5 MB/s,
//! neighbour p99 ≤ 5 ms, no ask timed out, and `soak_msgs_per_s` no lower
//! than before. About 50-55 s on 2 cores.
//!
//! Run with `cargo bench --bench soak`. Prints one `name value` per line.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::{
    SwarmMetrics,
    actors::router::{DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions},
    prelude::*,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[path = "soak_parts/agents.rs"]
mod agents;
#[path = "soak_parts/load.rs"]
mod load;
#[path = "soak_parts/measure.rs"]
mod measure;
#[path = "soak_parts/raw.rs"]
mod raw;
mod support;

use agents::{Busy, Quiet, Subscriber, Worker, WorkerRef};
use load::{AskTally, Driver, Sent, asks, panics};
use measure::{Sampled, probe, sample};
use support::{print, slope};

/// Counts every allocation and free: the live heap is their difference.
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const WORKERS: usize = 2_000;
const WORKER_MAILBOX: usize = 64;
const SUBSCRIBERS: usize = 200;
const TOPICS: usize = 8;
const AT_LEAST_ONCE: usize = 50;
const TELL_STREAMS: usize = 2;
const LOAD: Duration = Duration::from_secs(40);
/// The heap's slope is taken over the load's last this much.
const SLOPE_OVER: Duration = Duration::from_secs(30);
const PANIC_EVERY: Duration = Duration::from_millis(10);
/// Panics per `PANIC_EVERY`: 600 a second.
const PANICS_PER_TICK: usize = 6;
const ASK_EVERY: Duration = Duration::from_millis(50);
const ASK_DEADLINE: Duration = Duration::from_secs(2);
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(2);
const PROBE_DEADLINE: Duration = Duration::from_secs(10);
/// How long a tell stream waits for room in a full worker mailbox.
const TELL_WAIT: Duration = Duration::from_secs(1);
const SOAK_PANIC: &str = "soak panic";

/// The router's deliveries held for acknowledgement.
pub(crate) fn held_for_ack(router: &RouterRef<u64>) -> u64 {
    router.stats().counts().held_for_ack
}

/// Messages handled so far: by workers and the busy agent (the swarm's
/// census), plus deliveries counted by subscribers.
pub(crate) fn handled(metrics: &SwarmMetrics, deliveries: &AtomicU64) -> u64 {
    let kinds = [<Worker as Agent>::KIND, <Busy as Agent>::KIND];
    let agents: u64 = (metrics.census().iter())
        .filter(|k| kinds.contains(&k.kind))
        .map(|k| k.handled)
        .sum();
    agents + deliveries.load(Relaxed)
}

fn worker_restarts(metrics: &SwarmMetrics) -> u64 {
    (metrics.census().iter())
        .filter(|k| k.kind == <Worker as Agent>::KIND)
        .map(|k| k.restarts)
        .sum()
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    // Panics are the load: keep the soak's own quiet, report any other.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload_as_str() != Some(SOAK_PANIC) {
            report(info);
        }
    }));
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
    let mut root = (swarm.supervisor("root"))
        .strategy(Strategy::OneForOne)
        .intensity(Intensity::new(1_000_000, Duration::from_secs(1)));
    for i in 0..WORKERS {
        let spec = ChildSpec::new(&format!("w{i}"), Worker::default);
        root = root.child(spec.restart(Restart::Permanent).mailbox(WORKER_MAILBOX));
    }
    let root = root.start().await?;
    let workers: Arc<[WorkerRef]> = (0..WORKERS)
        .map(|i| {
            root.child::<Worker>(&format!("w{i}"))
                .expect("every worker started")
        })
        .collect();

    let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    let deliveries = Arc::new(AtomicU64::new(0));
    let acked = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(Retry::default()));
    for i in 0..SUBSCRIBERS {
        let counted = deliveries.clone();
        let subscriber = (swarm.agent(move || Subscriber {
            deliveries: counted.clone(),
        }))
        .name(format!("sub-{i}"))
        .spawn()
        .await?;
        let options = if i < AT_LEAST_ONCE {
            acked.clone()
        } else {
            SubscribeOptions::default()
        };
        let pattern = format!("soak.t{}", i % TOPICS);
        (router.subscribe_as(&pattern, &subscriber, |b| b, options)).await?;
    }
    let on = |arbiter: usize, name: String| {
        let spawn = swarm.agent(Driver::default).name(name).on_arbiter(arbiter);
        spawn.spawn()
    };
    let busy = (swarm.agent(Busy::default).name("busy").on_arbiter(0)).spawn();
    let busy = busy.await?;
    let quiet = (swarm.agent(Quiet::default).name("quiet").on_arbiter(0)).spawn();
    let quiet = quiet.await?;
    let (flooder, publisher) = (
        on(1, "flooder".into()).await?,
        on(1, "publisher".into()).await?,
    );
    let mut tellers = Vec::new();
    for i in 0..TELL_STREAMS {
        tellers.push(on(1, format!("teller-{i}")).await?);
    }
    let ping_quiet = || {
        let quiet = quiet.clone();
        async move { quiet.ping().timeout(PROBE_DEADLINE).await.is_ok() }
    };

    // Before the load: the quiet agent on an idle arbiter, then raw actix.
    let grace = PROBE_DEADLINE + Duration::from_secs(1);
    let until = Instant::now() + Duration::from_secs(1);
    let mut before = probe(PROBE_EVERY, until, grace, ping_quiet).await;
    let (warm_up, probe_for) = (Duration::from_millis(200), Duration::from_secs(4));
    let mut actix = raw::neighbour_under_flood(warm_up, probe_for, PROBE_DEADLINE).await;

    // The load.
    let metrics = swarm.metrics();
    let restarts_before = worker_restarts(&metrics);
    let until = Instant::now() + LOAD;
    let asked = Arc::new(AskTally::default());
    let driven = async {
        let tells = (tellers.iter().enumerate()).map(|(i, t)| {
            t.tells(workers.clone(), 0x5eed + i as u64, until)
                .timeout(LOAD * 2)
        });
        tokio::join!(
            flooder.flood(busy.clone(), until).timeout(LOAD * 2),
            publisher.feed(router.clone(), until).timeout(LOAD * 2),
            futures_util::future::join_all(tells),
        )
    };
    let (sampled, mut during, panicked, (), (flood, published, told)) = tokio::join!(
        sample(&router, &metrics, &deliveries, until),
        probe(PROBE_EVERY, until, grace, ping_quiet),
        panics(&workers, until),
        asks(&workers, until, &asked),
        driven,
    );

    let Sampled {
        heap,
        held_max,
        handled,
        took,
    } = sampled;
    let from = (LOAD - SLOPE_OVER).as_secs_f64();
    let last: Vec<_> = heap.iter().filter(|(t, _)| *t >= from).copied().collect();
    let (neighbour, actix_p99) = (during.quantile_ms(0.99), actix.quantile_ms(0.99));
    print("soak_heap_growth_mb_per_s", slope(&last));
    print(
        "soak_heap_start_mb",
        heap.first().map_or(0.0, |(_, mb)| *mb),
    );
    print("soak_heap_end_mb", heap.last().map_or(0.0, |(_, mb)| *mb));
    print(
        "soak_heap_peak_mb",
        heap.iter().map(|(_, mb)| *mb).fold(0.0, f64::max),
    );
    print("soak_msgs_per_s", handled as f64 / took.as_secs_f64());
    print("neighbour_ask_p99_ms", neighbour);
    print("neighbour_ask_quiet_p99_ms", before.quantile_ms(0.99));
    print("actix_neighbour_ask_p99_ms", actix_p99);
    print("neighbour_ask_p99_ms/vs_actix", neighbour / actix_p99);
    print("soak_asks_timed_out", asked.timed_out.load(Relaxed) as f64);
    print("router_held_for_ack_max", held_max as f64);
    // Context.
    print("soak_asks", asked.sent.load(Relaxed) as f64);
    print(
        "soak_asks_failed_otherwise",
        asked.failed.load(Relaxed) as f64,
    );
    print(
        "neighbour_asks",
        (during.samples.len() as u64 + during.unanswered) as f64,
    );
    print(
        "neighbour_asks_failed",
        (during.failed + during.unanswered) as f64,
    );
    print("neighbour_ask_p50_ms", during.quantile_ms(0.5));
    print("soak_panics_sent", panicked.ok as f64);
    let restarts = worker_restarts(&metrics) - restarts_before;
    print("soak_worker_restarts", restarts as f64);
    let told = Sent::sum(told);
    print("soak_tells", told.ok as f64);
    print("soak_tells_refused", told.failed as f64);
    let published = Sent::sum([published]);
    print("soak_publishes", published.ok as f64);
    print("soak_publishes_refused", published.failed as f64);
    print("soak_busy_msgs", Sent::sum([flood]).ok as f64);
    let counts = router.stats().counts();
    print("router_delivered", counts.delivered as f64);
    let undelivered: u64 = counts.undelivered.iter().map(|(_, n)| n).sum();
    print("router_undelivered", undelivered as f64);

    let shutdown = tokio::time::timeout(Duration::from_secs(15), swarm.shutdown()).await;
    print(
        "soak_shutdown_ok",
        f64::from(u8::from(matches!(shutdown, Ok(Ok(_))))),
    );
    Ok(())
}
