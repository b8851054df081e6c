//! What the monitor answers: a serde snapshot of everything it counts.

use std::collections::BTreeMap;

use agentix_runtime::HistogramSnapshot;
use serde::Serialize;

/// Everything the monitor knows at one moment; serialises to JSON.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Snapshot {
    /// Seconds since the monitor started.
    pub uptime_s: f64,
    /// Per agent kind, sorted by kind.
    pub kinds: Vec<KindSnapshot>,
    /// Per watched registry.
    pub registries: Vec<RegistrySnapshot>,
    /// Per watched router.
    pub routers: Vec<RouterSnapshot>,
    /// Per watched state store.
    pub stores: Vec<StoreSnapshot>,
    /// Lifecycle events the monitor missed by falling behind (its counts
    /// are short by at most this many).
    pub events_missed: u64,
}

/// Agents of one kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct KindSnapshot {
    /// The kind.
    pub kind: String,
    /// Agents that have not ended, by status (`running`, `restarting`, …),
    /// as last sampled.
    pub agents: BTreeMap<String, u64>,
    /// Messages handled (those whose handler failed included), as last
    /// sampled.
    pub handled: u64,
    /// Incarnations started (first starts and restarts).
    pub started: u64,
    /// Incarnations that ended in a failure.
    pub failed: u64,
    /// Restarts.
    pub restarted: u64,
    /// Escalations (supervisors that gave up on a child).
    pub escalated: u64,
    /// Agents that ended for good.
    pub stopped: u64,
    /// Messages waiting in the mailboxes of its agents that have not ended,
    /// as last sampled (approximate: see `AgentRef::queued`).
    pub queued: u64,
    /// The most waiting in any one of those mailboxes, as last sampled.
    pub max_queued: u64,
    /// Handling times (sampled), as last sampled.
    pub handling: Latency,
}

/// A latency histogram, ready to print or plot.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    /// Durations counted.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_s: f64,
    /// Upper bound of the median, in µs (`None` when empty).
    pub p50_us: Option<f64>,
    /// Upper bound of the 99th percentile, in µs.
    pub p99_us: Option<f64>,
    /// Cumulative counts by upper bound in seconds, as Prometheus wants.
    pub buckets: Vec<(f64, u64)>,
}

impl From<&HistogramSnapshot> for Latency {
    fn from(histogram: &HistogramSnapshot) -> Self {
        let micros = |q| {
            histogram
                .quantile(q)
                .map(|d: std::time::Duration| d.as_secs_f64() * 1e6)
        };
        let mut total = 0;
        let buckets = (histogram.buckets().iter().enumerate())
            .map(|(i, count)| {
                total += count;
                (HistogramSnapshot::upper_bound(i).as_secs_f64(), total)
            })
            .collect();
        Self {
            count: histogram.count(),
            sum_s: histogram.sum_ns as f64 / 1e9,
            p50_us: micros(0.5),
            p99_us: micros(0.99),
            buckets,
        }
    }
}

/// One router's traffic.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RouterSnapshot {
    /// The router's (first shard's) agent name.
    pub name: String,
    /// Messages published.
    pub published: u64,
    /// Deliveries handed to subscribers.
    pub delivered: u64,
    /// Deliveries waiting in the router for full mailboxes or full
    /// in-flight windows.
    pub queued: u64,
    /// Deliveries held for acknowledgement by at-least-once subscribers.
    pub held_for_ack: u64,
    /// Messages not delivered, by reason (`no_subscriber`, `overflow`, …).
    pub undelivered: BTreeMap<String, u64>,
    /// Publish-to-handle latency by topic (sampled; at most 64 topics,
    /// the rest together as `_other`).
    pub topics: Vec<TopicLatency>,
}

/// One topic's publish-to-handle latency.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TopicLatency {
    /// The topic.
    pub topic: String,
    /// From publish to each sampled subscriber's handling.
    pub latency: Latency,
}

/// One registry's agents.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RegistrySnapshot {
    /// The registry agent's name.
    pub name: String,
    /// Agents registered, as last sampled.
    pub agents: u64,
    /// Registered agents by health (`idle`, `busy`, `unhealthy`), as last
    /// sampled.
    pub health: BTreeMap<String, u64>,
    /// Times an agent was found unhealthy.
    pub unhealthy_events: u64,
}

/// One state store's reads, writes and commits.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StoreSnapshot {
    /// The store's (first shard's) agent name.
    pub name: String,
    /// Its backend: `memory`, `redb`.
    pub backend: String,
    /// Current-value reads.
    pub reads: u64,
    /// Writes by outcome (`accepted`, `cas_refused`, `stale_refused`,
    /// `conflict_held`, `fenced`, `failed`).
    pub writes: BTreeMap<String, u64>,
    /// Commits by batch size: `(largest size of the bucket, commits)`, the
    /// bucket of `[2^i, 2^(i+1))` writes labelled `2^(i+1) - 1`.
    pub commit_batches: Vec<(u64, u64)>,
    /// How long commits took.
    pub commit_latency: Latency,
    /// Keys held (tombstones included).
    pub keys: u64,
    /// Bytes handed to the backend.
    pub bytes_written: u64,
    /// Conflicts opened, resolved, and open now.
    pub conflicts_opened: u64,
    /// See `conflicts_opened`.
    pub conflicts_resolved: u64,
    /// See `conflicts_opened`.
    pub conflicts_open: u64,
}

impl From<&crate::state::StoreStats> for StoreSnapshot {
    fn from(stats: &crate::state::StoreStats) -> Self {
        use crate::state::WriteOutcome;
        Self {
            name: stats.name().to_owned(),
            backend: stats.backend.to_owned(),
            reads: stats.reads(),
            writes: (WriteOutcome::ALL.iter())
                .map(|outcome| (outcome.label().to_owned(), stats.writes(*outcome)))
                .collect(),
            commit_batches: (stats.batch_sizes().iter().enumerate())
                .map(|(i, commits)| ((2u64 << i) - 1, *commits))
                .collect(),
            commit_latency: Latency::from(&stats.commit_latency()),
            keys: stats.keys() as u64,
            bytes_written: stats.bytes_written(),
            conflicts_opened: stats.conflicts_opened(),
            conflicts_resolved: stats.conflicts_resolved(),
            conflicts_open: stats.conflicts_open(),
        }
    }
}
