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
    pub meta: Meta,
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

/// A key's state. Encoded with bincode, fields in this order: the encoding
/// is the current version's, the history's length and each older
/// version's, then the conflict's, one after the other.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub(crate) current: Arc<Version>,
    /// Versions before the current one, newest first.
    pub(crate) history: Vec<Arc<Version>>,
    pub(crate) conflict: Option<Arc<Conflict>>,
    /// The current version's encoding, once made: a version is encoded
    /// once, when it is committed, and its bytes reused by every later
    /// commit of the key while it stays in history.
    #[serde(skip)]
    pub(crate) current_bytes: std::sync::OnceLock<Arc<[u8]>>,
    /// The older versions' encodings, when all of them are known.
    #[serde(skip)]
    pub(crate) history_bytes: Vec<Arc<[u8]>>,
}

impl Slot {
    /// The slot after `next` is accepted, keeping `keep` versions in all
    /// (the current one among them). An open conflict stays open: the
    /// writes it holds still wait for a caller to choose.
    pub(crate) fn advance(prior: Option<&Slot>, next: Version, keep: usize) -> Slot {
        let mut history = Vec::new();
        let mut history_bytes = Vec::new();
        if let Some(prior) = prior
            && keep > 1
        {
            history.reserve((keep - 1).min(prior.history.len() + 1));
            history.push(prior.current.clone());
            history.extend(prior.history.iter().take(keep - 2).cloned());
            if let Some(bytes) = prior.current_bytes.get()
                && prior.history_bytes.len() == prior.history.len()
            {
                history_bytes.reserve(history.len());
                history_bytes.push(bytes.clone());
                history_bytes.extend(prior.history_bytes.iter().take(keep - 2).cloned());
            }
        }
        Slot {
            current: Arc::new(next),
            history,
            conflict: prior.and_then(|prior| prior.conflict.clone()),
            current_bytes: std::sync::OnceLock::new(),
            history_bytes,
        }
    }

    /// The version numbered `version`, when kept.
    pub(crate) fn version(&self, version: u64) -> Option<&Arc<Version>> {
        std::iter::once(&self.current)
            .chain(&self.history)
            .find(|kept| kept.version == version)
    }

    /// The slot's bytes: what serde would make of it, built from the
    /// versions' kept encodings where they are known. Everything is
    /// encoded straight into the one buffer returned (the current
    /// version's bytes are copied out once, to be kept).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, StorageError> {
        let mut out = Vec::new();
        let encode = |value: &dyn erased::Encode, out: &mut Vec<u8>| {
            value.encode_into(out).map_err(|error| {
                StorageError::Commit(format!("a key state does not encode: {error}"))
            })
        };
        if self.history_bytes.len() != self.history.len() {
            encode(self, &mut out)?;
            return Ok(out);
        }
        let kept: usize = self.history_bytes.iter().map(|bytes| bytes.len()).sum();
        let current = self.current_bytes.get();
        // The current version, the history's length (a varint) and an
        // absent conflict take little beyond the kept bytes.
        out.reserve(current.map_or(64, |bytes| bytes.len()) + kept + 16);
        match current {
            Some(bytes) => out.extend_from_slice(bytes),
            None => {
                encode(&*self.current, &mut out)?;
                let _ = self.current_bytes.set(Arc::from(out.as_slice()));
            }
        }
        encode(&(self.history.len() as u64), &mut out)?;
        for bytes in &self.history_bytes {
            out.extend_from_slice(bytes);
        }
        encode(&self.conflict, &mut out)?;
        Ok(out)
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

/// The current version of a key as readers see it: a copy of the slot's,
/// kept inside the index's entry, so that a read reaches it without
/// another dependent cache miss (strings and long values in it are
/// inline or shared, so the copy allocates nothing).
pub(crate) type Current = Version;

/// Encoding through one function for the slot and its parts.
mod erased {
    pub(super) trait Encode {
        /// Appends the encoding to `out`.
        fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), bincode::error::EncodeError>;
    }

    impl<T: serde::Serialize> Encode for T {
        fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), bincode::error::EncodeError> {
            bincode::serde::encode_into_std_write(self, out, bincode::config::standard()).map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Encoded, Writer};

    fn version(n: u64) -> Version {
        Version {
            version: n,
            meta: Meta::now(Writer::label(format!("w{n}")), None),
            value: (!n.is_multiple_of(3)).then(|| Encoded::new(&vec![n; n as usize]).unwrap()),
        }
    }

    #[test]
    fn the_kept_encodings_make_the_bytes_serde_makes() {
        let mut slot: Option<Slot> = None;
        for n in 1..=12 {
            let next = Slot::advance(slot.as_ref(), version(n), 4);
            let fast = next.encode().unwrap();
            let plain = bincode::serde::encode_to_vec(&next, bincode::config::standard()).unwrap();
            assert_eq!(fast, plain, "version {n}");
            let back = Slot::decode("k", &fast, "test").unwrap();
            assert_eq!(back.current, next.current);
            assert_eq!(back.history, next.history);
            if n > 2 {
                assert_eq!(next.history_bytes.len(), next.history.len(), "kept at {n}");
            }
            slot = Some(next);
        }
    }
}
