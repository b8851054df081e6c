//! [`Write`]: a write with its options.

use std::sync::Arc;

use serde::Serialize;

use super::{Encoded, StoreError, policy::Condition};

/// A write with options: a condition, a tag, a fencing token.
///
/// ```
/// use agentix_actors::state::Write;
///
/// let write = Write::put(&42u64).unwrap().based_on(3).tag("nightly").fence(7);
/// # let _ = write;
/// ```
#[derive(Debug, Clone)]
pub struct Write {
    pub(super) value: Option<Encoded>,
    pub(super) condition: Condition,
    pub(super) tag: Option<Arc<str>>,
    pub(super) fence: Option<u64>,
}

impl Write {
    /// Writes `value`.
    pub fn put<T: Serialize>(value: &T) -> Result<Self, StoreError> {
        Ok(Self::with(Some(Encoded::new(value)?)))
    }

    /// Writes a tombstone: the key reads as absent, its history stays.
    pub fn delete() -> Self {
        Self::with(None)
    }

    fn with(value: Option<Encoded>) -> Self {
        Self {
            value,
            condition: Condition::Blind,
            tag: None,
            fence: None,
        }
    }

    /// The version this write was based on (the one the writer read): if
    /// the key is at another version (one written since, or one the
    /// writer could not have read), the key's
    /// [`ConflictPolicy`](super::ConflictPolicy) decides.
    pub fn based_on(mut self, version: u64) -> Self {
        self.condition = Condition::Based(version);
        self
    }

    /// Only if the key is at exactly `version` (0: never written), whatever
    /// the policy: compare-and-set.
    pub fn expect(mut self, version: u64) -> Self {
        self.condition = Condition::Exact(version);
        self
    }

    /// A free-form tag kept with the version.
    pub fn tag(mut self, tag: impl Into<Arc<str>>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// The fencing token of a lock the writer holds: the write is refused
    /// with [`StoreError::Fenced`] if a newer lock was granted on the key.
    pub fn fence(mut self, token: u64) -> Self {
        self.fence = Some(token);
        self
    }
}
