//! Per-kind metrics kept by the runtime on the hot path without a message:
//! each agent counts what it handles in its own control block, and a
//! sampled share of handling times goes into its kind's histogram. A
//! monitor reads them with [`Swarm::census`](crate::Swarm::census). And
//! each agent's [`Activity`], for finding agents stuck in a handler.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::RwLock;

use crate::AgentStatus;

/// One handling in this many is timed while the swarm is observed: a clock
/// read costs about a fifth of a tell on the machines measured.
pub(crate) const TIMING_EVERY: u64 = 64;

/// Buckets of a [`Histogram`]: bucket `i` counts durations below
/// `2^(i+1)` ns (the last one everything longer), 1 ns to ~69 s.
const BUCKETS: usize = 36;

/// Where an agent's task is, read from another thread: between polls or
/// inside one, and which. Two readings equal and
/// [`handling`](Self::handling) mean the same poll is still running: an
/// agent whose reading stays so across health checks is stuck (a handler
/// that blocks or loops). Costs the agent a load and a store per poll.
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// struct Worker;
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default())?;
/// let worker = swarm.spawn("worker", Worker::default).await?;
/// // Its start is reported from inside the poll that ran it, which may
/// // still be finishing: an idle agent is soon between polls.
/// let idle = (0..100_000).any(|_| {
///     std::thread::yield_now();
///     !worker.activity().handling()
/// });
/// assert!(idle, "an idle agent is between polls");
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Activity(pub(crate) u64);

impl Activity {
    /// Whether the agent was inside a poll (handling messages).
    pub fn handling(self) -> bool {
        self.0 % 2 == 1
    }

    /// A number that changes each time the agent enters or leaves a poll,
    /// for keeping a reading in an atomic.
    pub fn stamp(self) -> u64 {
        self.0
    }
}

/// A latency histogram with power-of-two buckets, filled with relaxed
/// atomics from any thread.
///
/// ```
/// use agentix::dev::Histogram;
/// use std::time::Duration;
///
/// let latency = Histogram::default();
/// latency.record(Duration::from_micros(100));
/// let snapshot = latency.snapshot();
/// assert_eq!(snapshot.count(), 1);
/// assert!(snapshot.quantile(0.5).unwrap() >= Duration::from_micros(100));
/// ```
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Counts one duration.
    pub fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        let bucket = (ns.ilog2() as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
        }
    }
}

/// The counts of a [`Histogram`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramSnapshot {
    buckets: [u64; BUCKETS],
    /// The sum of every duration counted, in ns.
    pub sum_ns: u64,
}

impl HistogramSnapshot {
    /// The counts by bucket: bucket `i` counts durations in
    /// `[2^i, 2^(i+1))` ns, the last (bucket 35, from about 34 s) all
    /// longer ones. 36 buckets, from 1 ns to about 69 s.
    pub fn buckets(&self) -> &[u64] {
        &self.buckets
    }

    /// How many durations were counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The upper bound of bucket `i`.
    pub fn upper_bound(i: usize) -> Duration {
        Duration::from_nanos(1_u64 << (i + 1).min(63))
    }

    /// An upper bound of the `q` quantile (0..=1): the bound of the bucket
    /// it falls in; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = ((count as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(Self::upper_bound(i));
            }
        }
        Some(Self::upper_bound(BUCKETS - 1))
    }
}

/// What agents of one kind share: counts of those that ended, and the
/// handling-time histogram.
#[derive(Debug)]
pub(crate) struct KindMetrics {
    pub(crate) kind: &'static str,
    pub(crate) retired_handled: AtomicU64,
    pub(crate) retired_restarts: AtomicU64,
    pub(crate) handling: Histogram,
    /// [`OBSERVED`] while the swarm is observed: handlings are timed
    /// (sampled) and senders count what they queue. [`FAULTY`] while a
    /// fault plan is installed: senders ask it whether to refuse. One byte,
    /// so a sender pays one load for both when neither is on.
    pub(crate) flags: AtomicU8,
}

/// In [`KindMetrics::flags`]: the swarm is observed.
pub(crate) const OBSERVED: u8 = 1;
/// In [`KindMetrics::flags`]: a fault plan is installed in the swarm.
pub(crate) const FAULTY: u8 = 2;

/// What one handling needs besides the handler (see
/// [`AgentShared::count_handled`]): nothing, in the common case.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watch(u8);

impl Watch {
    /// Neither timed nor under a fault plan.
    pub(crate) const PLAIN: Self = Self(0);

    /// Out of line: an unobserved swarm without a fault plan never gets here.
    #[inline(never)]
    pub(crate) fn of(flags: u8, handled: u64) -> Self {
        // `OBSERVED` stays only on a sampled handling.
        let sampled = if handled.is_multiple_of(TIMING_EVERY) {
            OBSERVED
        } else {
            0
        };
        Self(flags & (sampled | FAULTY))
    }

    /// Neither timed nor under a fault plan.
    #[inline(always)]
    pub(crate) fn is_plain(self) -> bool {
        self.0 == 0
    }

    /// This handling is one of the timed samples.
    pub(crate) fn timed(self) -> bool {
        self.0 & OBSERVED != 0
    }

    /// A fault plan is installed in the agent's swarm.
    pub(crate) fn faulty(self) -> bool {
        self.0 & FAULTY != 0
    }
}

/// The kinds of a swarm.
#[derive(Debug, Default)]
pub(crate) struct Kinds {
    kinds: RwLock<HashMap<&'static str, Arc<KindMetrics>>>,
    flags: AtomicU8,
}

impl Kinds {
    /// The metrics of `kind`, made on first use (once per spawn: a read
    /// lock, not per message).
    pub(crate) fn of(&self, kind: &'static str) -> Arc<KindMetrics> {
        if let Some(found) = self.kinds.read().get(kind) {
            return found.clone();
        }
        let mut kinds = self.kinds.write();
        let flags = self.flags.load(Ordering::Relaxed);
        (kinds.entry(kind).or_insert_with(|| {
            Arc::new(KindMetrics {
                kind,
                retired_handled: AtomicU64::new(0),
                retired_restarts: AtomicU64::new(0),
                handling: Histogram::default(),
                flags: AtomicU8::new(flags),
            })
        }))
        .clone()
    }

    pub(crate) fn observe(&self, on: bool) {
        self.set(OBSERVED, on);
    }

    /// Sets or clears `flag` in the swarm's kinds, and in those made later.
    pub(crate) fn set(&self, flag: u8, on: bool) {
        // Under the write lock: a kind made meanwhile copies the new flags.
        let kinds = self.kinds.write();
        let apply = |flags: &AtomicU8| match on {
            true => flags.fetch_or(flag, Ordering::Relaxed),
            false => flags.fetch_and(!flag, Ordering::Relaxed),
        };
        apply(&self.flags);
        for kind in kinds.values() {
            apply(&kind.flags);
        }
    }

    pub(crate) fn all(&self) -> Vec<Arc<KindMetrics>> {
        self.kinds.read().values().cloned().collect()
    }
}

/// Agents of one kind, as [`Swarm::census`](crate::Swarm::census) counts
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct KindCensus {
    /// The kind.
    pub kind: &'static str,
    /// Agents that have not ended, by status (zero counts left out).
    pub agents: Vec<(AgentStatus, u64)>,
    /// Messages handled by agents of this kind, ended ones included.
    pub handled: u64,
    /// Restarts of agents of this kind, ended ones included.
    pub restarts: u64,
    /// Messages waiting in the mailboxes of its agents that have not
    /// ended, sampled (see [`AgentRef::queued`](crate::AgentRef::queued)).
    pub queued: u64,
    /// The most waiting in any one of those mailboxes.
    pub max_queued: u64,
    /// Handling times, one handling in 64 while the swarm is
    /// observed.
    pub handling: HistogramSnapshot,
}

/// What senders touch in an agent's control block: the count of messages
/// they queued (the one per-agent counter other threads write) and the
/// switch that says whether to count. First in the block, away from the
/// counters the agent's task writes at every message (see `AgentShared`).
#[derive(Debug)]
pub(crate) struct SenderSide {
    pub(crate) sent: AtomicU64,
    pub(crate) kind: Arc<KindMetrics>,
}

impl SenderSide {
    pub(crate) fn new(kind: Arc<KindMetrics>) -> Self {
        Self {
            sent: AtomicU64::new(0),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_power_of_two_buckets_and_quantiles_bound_them() {
        let histogram = Histogram::default();
        for micros in [1, 2, 3, 100, 100, 100, 100, 5000] {
            histogram.record(Duration::from_micros(micros));
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count(), 8);
        assert_eq!(snapshot.sum_ns, 5_406_000);
        let p50 = snapshot.quantile(0.5).unwrap();
        assert!(
            p50 >= Duration::from_micros(100) && p50 < Duration::from_micros(200),
            "{p50:?}"
        );
        let max = snapshot.quantile(1.0).unwrap();
        assert!(max >= Duration::from_micros(5000), "{max:?}");
        assert_eq!(Histogram::default().snapshot().quantile(0.5), None);
    }
}
