//! What the soak bench measures with: latency probes sent at a fixed pace,
//! each on a task of its own so that a slow answer holds no later probe
//! back; samples of the live heap (as the counting allocator sees it) and
//! of the router. A directory module, so that
//! cargo does not take it for a bench of its own.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::{SwarmMetrics, actors::router::RouterRef};
use parking_lot::Mutex;
use tokio::time::{MissedTickBehavior, interval, sleep};

const HEAP_EVERY: Duration = Duration::from_millis(100);

/// What a run of probes gave.
pub(crate) struct Probed {
    /// Each answered probe's latency, in ns.
    pub(crate) samples: Vec<u64>,
    /// Probes that failed (their deadline passed, or the target went away).
    pub(crate) failed: u64,
    /// Probes still unanswered when waiting for them was given up.
    pub(crate) unanswered: u64,
}

impl Probed {
    /// The `p` quantile of the latencies, in ms (0 without samples).
    pub(crate) fn quantile_ms(&mut self, p: f64) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        crate::support::percentile(&mut self.samples, p) / 1e6
    }
}

/// Starts `ask()` every `every` until `until`, each on its own task, and
/// records how long each took to finish (a probe that fails counts as
/// failed, with its latency recorded all the same). Then waits for the
/// probes in flight, up to `grace`. `ask` carries its own deadline.
///
/// Nothing is kept per probe but its sample, in a vector reserved up
/// front: the heap measured meanwhile must not grow because of the probes.
pub(crate) async fn probe<F, Fut>(
    every: Duration,
    until: Instant,
    grace: Duration,
    mut ask: F,
) -> Probed
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let expected = until.saturating_duration_since(Instant::now()).as_nanos() / every.as_nanos();
    let samples = Arc::new(Mutex::new(Vec::with_capacity(expected as usize + 64)));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tick = interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while Instant::now() < until {
        tick.tick().await;
        let ask = ask();
        let (samples, in_flight, failed) = (samples.clone(), in_flight.clone(), failed.clone());
        in_flight.fetch_add(1, Relaxed);
        tokio::spawn(async move {
            let start = Instant::now();
            if !ask.await {
                failed.fetch_add(1, Relaxed);
            }
            samples.lock().push(start.elapsed().as_nanos() as u64);
            in_flight.fetch_sub(1, Relaxed);
        });
    }
    let give_up = Instant::now() + grace;
    while in_flight.load(Relaxed) > 0 && Instant::now() < give_up {
        sleep(Duration::from_millis(5)).await;
    }
    let samples = std::mem::take(&mut *samples.lock());
    Probed {
        samples,
        failed: failed.load(Relaxed),
        unanswered: in_flight.load(Relaxed) as u64,
    }
}

/// What the sampler saw over the load.
pub(crate) struct Sampled {
    /// (seconds into the load, live heap in MB), every `HEAP_EVERY`.
    pub(crate) heap: Vec<(f64, f64)>,
    /// The most deliveries the router held for acknowledgement.
    pub(crate) held_max: u64,
    /// Messages handled over the load, and how long it lasted.
    pub(crate) handled: u64,
    pub(crate) took: Duration,
}

/// Samples the live heap and the router every `HEAP_EVERY` until `until`,
/// and counts the messages handled meanwhile.
pub(crate) async fn sample(
    router: &RouterRef<u64>,
    metrics: &SwarmMetrics,
    deliveries: &AtomicU64,
    until: Instant,
) -> Sampled {
    let (start, first) = (Instant::now(), crate::handled(metrics, deliveries));
    let expected = until.saturating_duration_since(start).as_millis() / HEAP_EVERY.as_millis();
    let mut heap = Vec::with_capacity(expected as usize + 8);
    let (mut held_max, mut tick) = (0, interval(HEAP_EVERY));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while Instant::now() < until {
        tick.tick().await;
        heap.push((
            start.elapsed().as_secs_f64(),
            crate::support::live_heap_mb(crate::GLOBAL),
        ));
        held_max = held_max.max(crate::held_for_ack(router));
    }
    Sampled {
        heap,
        held_max,
        handled: crate::handled(metrics, deliveries) - first,
        took: start.elapsed(),
    }
}
