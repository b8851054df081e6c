//! A router's counters, kept in atomics its shards write and anyone reads
//! (a monitor, a test) without a message: published, delivered, waiting in
//! the router's queues, and undelivered by reason.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use agentix_runtime::{HistogramSnapshot, dev::Histogram};
use parking_lot::RwLock;

use super::{Topic, UndeliveredReason};

/// One publish in this many is timed from publish to handling, at every
/// subscriber it reaches (at most one per batch): each timing touches the
/// shared histogram, and a fan-out to 1000 subscribers timing one publish
/// in 16 halved the throughput.
pub const LATENCY_EVERY: u64 = 256;

/// Topics with a latency histogram of their own; the rest share one, so a
/// router with many topics cannot grow the metrics without bound.
pub const LATENCY_TOPICS: usize = 64;

/// The label of the histogram the topics past [`LATENCY_TOPICS`] share.
pub const OTHER_TOPICS: &str = "_other";

/// One shard's counters, on a cache line of their own: only that shard
/// writes them.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct ShardStats {
    published: AtomicU64,
    delivered: AtomicU64,
    queued: AtomicU64,
    held_for_ack: AtomicU64,
}

impl ShardStats {
    pub(crate) fn published(&self) {
        let n = self.published.load(Ordering::Relaxed);
        self.published.store(n + 1, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self, deliveries: usize) {
        let n = self.delivered.load(Ordering::Relaxed);
        self.delivered
            .store(n + deliveries as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_queued(&self, queued: usize) {
        self.queued.store(queued as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_held_for_ack(&self, held: usize) {
        self.held_for_ack.store(held as u64, Ordering::Relaxed);
    }
}

/// A shard's hold on the router's counters: the shared ones, and which
/// line is its own to write.
#[derive(Debug)]
pub(crate) struct ShardCounters {
    all: Arc<RouterStats>,
    shard: usize,
}

impl ShardCounters {
    pub(crate) fn new(all: Arc<RouterStats>, shard: usize) -> Self {
        Self { all, shard }
    }

    /// This shard's line.
    #[inline]
    pub(crate) fn line(&self) -> &ShardStats {
        &self.all.shards[self.shard]
    }

    /// The counters of the whole router, for a sampled delivery to time
    /// itself into.
    pub(crate) fn shared(&self) -> &Arc<RouterStats> {
        &self.all
    }

    pub(crate) fn shard(&self) -> usize {
        self.shard
    }
}

/// The counters of one router, shared by its shards, its dead-letter agent
/// and its references.
#[derive(Debug)]
pub struct RouterStats {
    /// Set once the first shard has its name.
    pub(crate) name: std::sync::OnceLock<String>,
    pub(crate) shards: Box<[ShardStats]>,
    undelivered: [AtomicU64; UndeliveredReason::ALL.len()],
    latency: RwLock<HashMap<Topic, Arc<Histogram>>>,
    other_latency: Histogram,
}

impl RouterStats {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            name: std::sync::OnceLock::new(),
            shards: (0..shards).map(|_| ShardStats::default()).collect(),
            undelivered: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: RwLock::default(),
            other_latency: Histogram::default(),
        }
    }

    /// Records a sampled delivery's time from publish to handling (on the
    /// subscriber's thread, as its batch is dropped).
    pub(crate) fn publish_to_handle(&self, topic: &Topic, took: Duration) {
        if let Some(histogram) = self.latency.read().get(topic) {
            histogram.record(took);
            return;
        }
        let mut latency = self.latency.write();
        if latency.len() < LATENCY_TOPICS || latency.contains_key(topic) {
            latency.entry(topic.clone()).or_default().record(took);
        } else {
            self.other_latency.record(took);
        }
    }

    /// Publish-to-handle latency by topic (sampled), the shared histogram
    /// of the topics past the limit last as [`OTHER_TOPICS`] if it has any.
    pub fn latency(&self) -> Vec<(String, HistogramSnapshot)> {
        let mut all: Vec<(String, HistogramSnapshot)> = (self.latency.read().iter())
            .map(|(topic, histogram)| (topic.as_str().to_owned(), histogram.snapshot()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let other = self.other_latency.snapshot();
        if other.count() > 0 {
            all.push((OTHER_TOPICS.to_owned(), other));
        }
        all
    }

    /// Counted by the dead-letter agent as the shards post to it.
    pub(crate) fn add_undelivered(&self, reason: UndeliveredReason, count: u64) {
        self.undelivered[reason as usize].fetch_add(count, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn counts(&self) -> RouterCounts {
        let sum = |field: fn(&ShardStats) -> &AtomicU64| {
            (self.shards.iter())
                .map(|s| field(s).load(Ordering::Relaxed))
                .sum()
        };
        RouterCounts {
            name: self.name.get().cloned().unwrap_or_default(),
            published: sum(|s| &s.published),
            delivered: sum(|s| &s.delivered),
            queued: sum(|s| &s.queued),
            held_for_ack: sum(|s| &s.held_for_ack),
            undelivered: (UndeliveredReason::ALL.iter())
                .map(|r| (*r, self.undelivered[*r as usize].load(Ordering::Relaxed)))
                .collect(),
        }
    }
}

/// A router's counts at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterCounts {
    /// The router's first shard's agent name.
    pub name: String,
    /// Messages published (each counted once, however many receive it).
    pub published: u64,
    /// Deliveries handed to subscribers (one per message per subscriber).
    pub delivered: u64,
    /// Deliveries waiting in the router for full mailboxes or full
    /// in-flight windows, as of each shard's last hand-over or retry.
    pub queued: u64,
    /// Deliveries handed to at-least-once subscribers and not yet
    /// acknowledged, or waiting for a retry, as of each shard's last look
    /// at the answers: what the router holds for acknowledgement. Bounded
    /// per subscription by [`SubscribeOptions::in_flight`](super::SubscribeOptions::in_flight).
    pub held_for_ack: u64,
    /// Messages not delivered, by reason (posted to the dead letters).
    pub undelivered: Vec<(UndeliveredReason, u64)>,
}
