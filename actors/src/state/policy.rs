//! Conflict policies: what the store does with a write based on a version
//! that is no longer current.

use std::{
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use serde::{Serialize, de::DeserializeOwned};

use super::{DecodeError, Encoded, Key, StoreError, Version, slot::Slot};

type MergeFn =
    dyn Fn(Option<&Encoded>, &Encoded, &Encoded) -> Result<Encoded, DecodeError> + Send + Sync;

/// What happens to a write that conflicts: one based on a version older
/// than the key's current one (see [`Write::based_on`](super::Write::based_on)),
/// or, for first-writer-wins, a blind write to a key that exists.
/// Compare-and-set is never subject to a policy: it is refused on any
/// other version.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ConflictPolicy {
    /// The write is accepted over the newer version (the default).
    #[default]
    LastWriterWins,
    /// The write is refused with [`StoreError::Stale`], carrying the current
    /// document.
    FirstWriterWins,
    /// The write is replaced by a user function of the base (the version
    /// the write was based on, when still kept in history), the current and
    /// the proposed value; the result is accepted. A delete, or a write
    /// over a deleted key, is accepted as is.
    Merge(Merger),
    /// The write is held as an open [`Conflict`](super::Conflict) with
    /// the current version and every other held write, and the writer gets
    /// [`StoreError::Held`]; a caller lists and resolves it.
    Manual,
}

impl ConflictPolicy {
    /// A merge policy over values of type `T`:
    /// `merge(base, current, proposed)` returns the value to write.
    ///
    /// ```
    /// use agentix_actors::state::ConflictPolicy;
    ///
    /// // Counters merge by adding what each side added to the base.
    /// let policy = ConflictPolicy::merge(|base: Option<&u64>, current: &u64, proposed: u64| {
    ///     let base = base.copied().unwrap_or(0);
    ///     current + proposed.saturating_sub(base)
    /// });
    /// # let _ = policy;
    /// ```
    pub fn merge<T, F>(merge: F) -> Self
    where
        T: Serialize + DeserializeOwned,
        F: Fn(Option<&T>, &T, T) -> T + Send + Sync + 'static,
    {
        let erased = move |base: Option<&Encoded>, current: &Encoded, proposed: &Encoded| {
            let base: Option<T> = base.map(Encoded::decode).transpose()?;
            let current: T = current.decode()?;
            let proposed: T = proposed.decode()?;
            Encoded::new(&merge(base.as_ref(), &current, proposed))
        };
        Self::Merge(Merger(Arc::new(erased)))
    }
}

impl fmt::Debug for ConflictPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LastWriterWins => "LastWriterWins",
            Self::FirstWriterWins => "FirstWriterWins",
            Self::Merge(_) => "Merge",
            Self::Manual => "Manual",
        })
    }
}

/// A merge function, made by [`ConflictPolicy::merge`].
#[derive(Clone)]
pub struct Merger(Arc<MergeFn>);

impl fmt::Debug for Merger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Merger(..)")
    }
}

/// Policies by key prefix: the longest prefix that a key starts with
/// decides; keys under none are last-writer-wins.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policies(Vec<(Key, ConflictPolicy)>);

impl Policies {
    /// Sets `policy` for `prefix`, replacing an earlier one for it.
    pub(crate) fn set(&mut self, prefix: Key, policy: ConflictPolicy) {
        self.0.retain(|(kept, _)| *kept != prefix);
        self.0.push((prefix, policy));
        // Longest first: the first that matches decides.
        self.0
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.as_str().len()));
    }

    pub(crate) fn for_key(&self, key: &Key) -> &ConflictPolicy {
        static DEFAULT: ConflictPolicy = ConflictPolicy::LastWriterWins;
        self.0
            .iter()
            .find(|(prefix, _)| key.starts_with(prefix))
            .map_or(&DEFAULT, |(_, policy)| policy)
    }
}

/// What a write asks of the version it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    /// Whatever is there (a plain `put`).
    Blind,
    /// Based on this version; a newer one is a conflict for the policy.
    Based(u64),
    /// Exactly this version, or refused (compare-and-set; 0: absent).
    Exact(u64),
}

/// What the store does with one write.
pub(crate) enum Decision {
    Accept(Option<Encoded>),
    Refuse(StoreError),
    /// Held as a conflict, with the proposed value.
    Hold(Option<Encoded>),
}

/// Decides a write of `proposed` (`None`: delete) to a key whose state is
/// `slot`.
pub(crate) fn decide(
    policy: &ConflictPolicy,
    slot: Option<&Slot>,
    condition: Condition,
    proposed: Option<Encoded>,
) -> Decision {
    let current = slot.map(|slot| &slot.current);
    let version = current.map_or(0, |current| current.version);
    let boxed = |current: &Arc<Version>| Box::new(Version::clone(current));
    let based = match condition {
        Condition::Exact(expected) if expected == version => return Decision::Accept(proposed),
        Condition::Exact(expected) => {
            return Decision::Refuse(StoreError::VersionMismatch {
                expected,
                current: current.map(boxed),
            });
        }
        Condition::Based(based) if based == version => return Decision::Accept(proposed),
        Condition::Based(based) => Some(based),
        Condition::Blind => None,
    };
    let Some(current) = current else {
        return Decision::Accept(proposed);
    };
    match (policy, based) {
        (ConflictPolicy::LastWriterWins, _) => Decision::Accept(proposed),
        (ConflictPolicy::FirstWriterWins, None) if current.is_tombstone() => {
            Decision::Accept(proposed)
        }
        (ConflictPolicy::FirstWriterWins, _) => Decision::Refuse(StoreError::Stale {
            current: boxed(current),
        }),
        // A blind write has nothing to conflict with but under
        // first-writer-wins.
        (_, None) => Decision::Accept(proposed),
        (ConflictPolicy::Merge(Merger(merge)), Some(based)) => {
            let (Some(now), Some(new)) = (&current.value, &proposed) else {
                return Decision::Accept(proposed);
            };
            let base = slot
                .and_then(|slot| slot.version(based))
                .and_then(|base| base.value.as_ref());
            // The merge function is the user's code: a panic in it refuses
            // this write, it does not take the store down.
            match catch_unwind(AssertUnwindSafe(|| merge(base, now, new))) {
                Ok(Ok(merged)) => Decision::Accept(Some(merged)),
                Ok(Err(error)) => Decision::Refuse(StoreError::Decode(error)),
                Err(panic) => Decision::Refuse(StoreError::MergeFailed(panic_text(&*panic))),
            }
        }
        (ConflictPolicy::Manual, Some(_)) => Decision::Hold(proposed),
    }
}

pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without text".to_owned())
}
