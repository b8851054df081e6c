//! What the store counts, for the monitor and Prometheus: reads, writes by
//! outcome, commit batch sizes and latency, keys, bytes, open conflicts.

use std::{
    cell::Cell,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use agentix_runtime::{HistogramSnapshot, dev::Histogram};

/// Read counters striped over cache lines: reads come from every thread at
/// once, and one shared counter would make them contend.
const READ_STRIPES: usize = 16;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(AtomicU64);

/// Batch size buckets: bucket `i` counts commits of `[2^i, 2^(i+1))`
/// writes, the last every larger one.
pub const BATCH_BUCKETS: usize = 16;

/// The outcome of a write, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// Written, a new version.
    Accepted,
    /// Compare-and-set found another version.
    CasRefused,
    /// First-writer-wins refused a stale write.
    StaleRefused,
    /// Manual policy: held as an open conflict.
    ConflictHeld,
    /// A fencing token older than the key's newest grant.
    Fenced,
    /// The commit failed.
    Failed,
}

impl WriteOutcome {
    /// Every outcome, in the order [`StoreStats::writes`] counts them.
    pub const ALL: [Self; 6] = [
        Self::Accepted,
        Self::CasRefused,
        Self::StaleRefused,
        Self::ConflictHeld,
        Self::Fenced,
        Self::Failed,
    ];

    /// The Prometheus label value.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::CasRefused => "cas_refused",
            Self::StaleRefused => "stale_refused",
            Self::ConflictHeld => "conflict_held",
            Self::Fenced => "fenced",
            Self::Failed => "failed",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The store's counters, shared by its shards and read by the monitor.
#[derive(Debug)]
pub struct StoreStats {
    reads: [Stripe; READ_STRIPES],
    writes: [AtomicU64; WriteOutcome::ALL.len()],
    batches: [AtomicU64; BATCH_BUCKETS],
    commit_latency: Histogram,
    keys: AtomicUsize,
    bytes: AtomicU64,
    conflicts_opened: AtomicU64,
    conflicts_resolved: AtomicU64,
    /// The backend's kind, for the metrics' labels.
    pub backend: &'static str,
    name: std::sync::OnceLock<String>,
}

impl StoreStats {
    pub(crate) fn new(backend: &'static str) -> Self {
        Self {
            reads: Default::default(),
            writes: Default::default(),
            batches: Default::default(),
            commit_latency: Histogram::default(),
            keys: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            conflicts_opened: AtomicU64::new(0),
            conflicts_resolved: AtomicU64::new(0),
            backend,
            name: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn set_name(&self, name: &str) {
        let _ = self.name.set(name.to_owned());
    }

    /// The store's name: its first shard's agent name.
    pub fn name(&self) -> &str {
        self.name.get().map_or("", String::as_str)
    }

    pub(crate) fn read(&self) {
        thread_local!(static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) });
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let stripe = STRIPE.with(|stripe| {
            if stripe.get() == usize::MAX {
                stripe.set(NEXT.fetch_add(1, Ordering::Relaxed) % READ_STRIPES);
            }
            stripe.get()
        });
        self.reads[stripe].0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn wrote(&self, outcome: WriteOutcome) {
        self.writes[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn committed(&self, writes: usize, took: Duration, bytes: u64) {
        let bucket = (writes.max(1).ilog2() as usize).min(BATCH_BUCKETS - 1);
        self.batches[bucket].fetch_add(1, Ordering::Relaxed);
        self.commit_latency.record(took);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn set_keys(&self, keys: usize) {
        self.keys.store(keys, Ordering::Relaxed);
    }

    pub(crate) fn add_keys(&self, added: usize) {
        self.keys.fetch_add(added, Ordering::Relaxed);
    }

    pub(crate) fn conflict(&self, opened: bool) {
        let counter = if opened {
            &self.conflicts_opened
        } else {
            &self.conflicts_resolved
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Current-value reads so far.
    pub fn reads(&self) -> u64 {
        self.reads.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }

    /// Writes with `outcome` so far.
    pub fn writes(&self, outcome: WriteOutcome) -> u64 {
        self.writes[outcome.index()].load(Ordering::Relaxed)
    }

    /// Commits by batch size: bucket `i` counts commits of
    /// `[2^i, 2^(i+1))` writes.
    pub fn batch_sizes(&self) -> [u64; BATCH_BUCKETS] {
        std::array::from_fn(|i| self.batches[i].load(Ordering::Relaxed))
    }

    /// How long commits took (encoding, the backend's write and sync).
    pub fn commit_latency(&self) -> HistogramSnapshot {
        self.commit_latency.snapshot()
    }

    /// Keys the store holds (deleted ones too: their tombstones are kept).
    pub fn keys(&self) -> usize {
        self.keys.load(Ordering::Relaxed)
    }

    /// Bytes handed to the backend so far (encoded key states).
    pub fn bytes_written(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Conflicts opened so far.
    pub fn conflicts_opened(&self) -> u64 {
        self.conflicts_opened.load(Ordering::Relaxed)
    }

    /// Conflicts resolved so far.
    pub fn conflicts_resolved(&self) -> u64 {
        self.conflicts_resolved.load(Ordering::Relaxed)
    }

    /// Conflicts open now.
    pub fn conflicts_open(&self) -> u64 {
        self.conflicts_opened()
            .saturating_sub(self.conflicts_resolved())
    }
}
