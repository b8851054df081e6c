//! Where the store keeps its documents: one small trait, so the same store
//! runs on memory, on a redb file, and (in cluster mode) on a replicated
//! key-value store.
//!
//! A backend stores opaque bytes per key, written in batches that must be
//! all-or-nothing, and a counter (the newest fencing token granted). The
//! store encodes a key's whole state (current version, history, open
//! conflict) into those bytes; the backend never interprets them.

use std::fmt;

use super::{Key, StorageError};

/// A batch of writes, committed all or nothing.
#[derive(Debug, Default)]
pub struct CommitBatch {
    /// Each key's new encoded state, in the order written (the last one
    /// for a key is the one kept).
    pub entries: Vec<(Key, Vec<u8>)>,
    /// The newest fencing token granted, when it grew.
    pub fence: Option<u64>,
    /// The next conflict id, when it grew.
    pub conflicts: Option<u64>,
}

/// The store's counters, which must only grow, across restarts too: a
/// backend keeps the largest value each was committed with.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// The newest fencing token granted (0: none).
    pub fence: u64,
    /// The next conflict id to hand out (0: none handed out).
    pub conflicts: u64,
}

/// What [`Backend::load`] calls with each stored key and its bytes.
pub type Visit<'a> = dyn FnMut(&str, &[u8]) -> Result<(), StorageError> + 'a;

/// Storage for the state store. `commit` returns only when the batch is as
/// durable as the backend makes anything; the store acknowledges writes
/// after it returns.
pub trait Backend: Send + Sync + fmt::Debug + 'static {
    /// A short name for metrics and errors: `memory`, `redb`.
    fn kind(&self) -> &'static str;

    /// Whether commits keep anything. A backend that does not (memory) is
    /// not called to commit, and the store skips encoding for it.
    fn persistent(&self) -> bool;

    /// Calls `each` with every stored key and its bytes, and returns the
    /// counters.
    fn load(&self, each: &mut Visit<'_>) -> Result<Counters, StorageError>;

    /// Writes `batch`, all or nothing, durably.
    fn commit(&self, batch: &CommitBatch) -> Result<(), StorageError>;
}

/// Keeps nothing beyond the store's own memory: for tests and throwaway
/// swarms. Everything is gone when the store's process ends.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryBackend;

impl Backend for MemoryBackend {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn persistent(&self) -> bool {
        false
    }

    fn load(&self, _each: &mut Visit<'_>) -> Result<Counters, StorageError> {
        Ok(Counters::default())
    }

    fn commit(&self, _batch: &CommitBatch) -> Result<(), StorageError> {
        Ok(())
    }
}
