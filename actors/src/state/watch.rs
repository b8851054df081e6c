//! Watching: every accepted change to a watched key is published through
//! a router on the key's topic, `state.<key>`, so that watchers get the
//! router's batching, lanes and delivery guarantees.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{ConflictId, DecodeError, Key, Version};

/// The root token of every watch topic: a change to `docs.plan` is
/// published on `state.docs.plan`.
pub const WATCH_ROOT: &str = "state";

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// A new version with a value.
    Written,
    /// A tombstone version.
    Deleted,
    /// A write was held as an open conflict (the version is the current,
    /// unchanged one).
    ConflictOpened(ConflictId),
    /// An open conflict ended; the version is the one current after it.
    ConflictResolved(ConflictId),
}

/// One change to a watched key, as delivered to watchers (in a router
/// `Batch<Change>`), in version order per key.
#[derive(Debug, Clone)]
pub struct Change {
    /// The key.
    pub key: Key,
    /// What happened.
    pub kind: ChangeKind,
    /// The key's current version after the change.
    pub version: Arc<Version>,
}

impl Change {
    /// The value after the change, decoded as `T` (`None` after a delete).
    pub fn value<T: DeserializeOwned>(&self) -> Result<Option<T>, DecodeError> {
        self.version.decode()
    }

    /// The version number after the change.
    pub fn number(&self) -> u64 {
        self.version.version
    }
}

/// The topic a key's changes are published on.
pub(crate) fn topic_of(key: &Key) -> String {
    format!("{WATCH_ROOT}.{key}")
}

/// The subscription pattern for `prefix` and everything under it.
pub(crate) fn patterns_of(prefix: &Key) -> [String; 2] {
    [topic_of(prefix), format!("{WATCH_ROOT}.{prefix}.>")]
}
