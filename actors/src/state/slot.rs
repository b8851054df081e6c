//! A key's whole state as the store keeps it (and encodes it for the
//! backend): the current version, the versions before it, an open conflict.

use std::{fmt, sync::Arc};

use serde::{Deserialize, Serialize};

use super::{Encoded, Key, Meta, StorageError, Version};

/// An open conflict's id, unique in its store: never reused, across
/// restarts too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConflictId(pub u64);

impl fmt::Display for ConflictId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A write held by the manual policy, waiting for a caller to choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The version the writer based it on.
    pub based_on: u64,
    /// Who proposed it, when, with what tag.
    pub meta: Arc<Meta>,
    /// The proposed value (`None`: a delete).
    pub value: Option<Encoded>,
}

/// An open conflict on one key: the version current when it opened, and
/// every write held since, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Its id.
    pub id: ConflictId,
    /// The key.
    pub key: Key,
    /// The key's version when the first write was held.
    pub current: u64,
    /// The held writes.
    pub candidates: Vec<Candidate>,
}

/// How an open conflict ends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Resolution {
    /// The current version stays; the held writes are dropped (they stay
    /// reported to their writers as held, and to watchers as resolved).
    KeepCurrent,
    /// The held write at this index becomes the next version.
    Take(usize),
    /// This value (encoded with [`Encoded::new`]) becomes the next version.
    Value(Encoded),
}

/// A key's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub(crate) current: Arc<Version>,
    /// Versions before the current one, newest first.
    pub(crate) history: Vec<Arc<Version>>,
    pub(crate) conflict: Option<Arc<Conflict>>,
}

impl Slot {
    /// The slot after `next` is accepted, keeping `keep` versions in all
    /// (the current one among them). An open conflict stays open: the
    /// writes it holds still wait for a caller to choose.
    pub(crate) fn advance(prior: Option<&Slot>, next: Version, keep: usize) -> Slot {
        let mut history = Vec::new();
        if let Some(prior) = prior
            && keep > 1
        {
            history.reserve((keep - 1).min(prior.history.len() + 1));
            history.push(prior.current.clone());
            history.extend(prior.history.iter().take(keep - 2).cloned());
        }
        Slot {
            current: Arc::new(next),
            history,
            conflict: prior.and_then(|prior| prior.conflict.clone()),
        }
    }

    /// The version numbered `version`, when kept.
    pub(crate) fn version(&self, version: u64) -> Option<&Arc<Version>> {
        std::iter::once(&self.current)
            .chain(&self.history)
            .find(|kept| kept.version == version)
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, StorageError> {
        bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|error| StorageError::Commit(format!("a key state does not encode: {error}")))
    }

    pub(crate) fn decode(key: &str, bytes: &[u8], at: &str) -> Result<Slot, StorageError> {
        bincode::serde::decode_from_slice(bytes, bincode::config::standard())
            .map(|(slot, _)| slot)
            .map_err(|error| StorageError::Damaged {
                path: at.into(),
                reason: format!("key `{key}` does not decode: {error}"),
            })
    }
}

/// The current version of a key as readers see it.
pub(crate) type Current = Arc<Version>;
