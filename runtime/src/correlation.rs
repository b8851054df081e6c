//! Correlation ids: one request followed through the swarm. A message sent
//! while an agent handles a message that carries an id carries the same id,
//! so asks, their replies' follow-ups and router hops stay linked; every
//! handled message runs in a `tracing` span naming the agent, the message
//! type and the id.

use std::{
    cell::Cell,
    fmt,
    num::NonZeroU32,
    sync::atomic::{AtomicBool, Ordering},
};

/// The id of one request as it travels through the swarm: 32 bits, so
/// that a message carrying one is no larger than one without (a larger
/// envelope measurably slowed cross-arbiter tells); random ids are unique
/// enough to follow requests in a trace, not to key a database.
///
/// ```
/// use agentix::{CorrelationId, correlation};
///
/// let id = CorrelationId::new(0x2a).unwrap();
/// assert_eq!(id.to_string(), "0000002a");
/// assert_eq!(correlation::current(), None);
/// correlation::scope(id, || {
///     // Messages sent here carry `id`.
///     assert_eq!(correlation::current(), Some(id));
/// });
/// assert_eq!(correlation::current(), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CorrelationId(NonZeroU32);

impl CorrelationId {
    /// The id `value`; `None` for zero.
    pub fn new(value: u32) -> Option<Self> {
        NonZeroU32::new(value).map(Self)
    }

    /// A fresh random id.
    pub fn random() -> Self {
        Self(NonZeroU32::new(fastrand::u32(1..)).unwrap_or(NonZeroU32::MIN))
    }

    /// Its value.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CorrelationId({self})")
    }
}

/// Set once any id has been made current in this process: until then a
/// send skips the thread-local read (a tell's cost rose ~2% with it).
/// A thread can only have a current id after setting this itself, so a
/// relaxed load sees it wherever it matters.
static IN_USE: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The id of the message being handled on this thread, if any.
    static CURRENT: Cell<Option<CorrelationId>> = const { Cell::new(None) };
}

/// The id messages sent now carry: that of the message being handled on
/// this thread, or of the enclosing [`scope`].
#[inline]
pub fn current() -> Option<CorrelationId> {
    CURRENT.with(Cell::get)
}

/// The current id, for a message being packed.
#[inline]
pub(crate) fn for_send() -> Option<CorrelationId> {
    if IN_USE.load(Ordering::Relaxed) {
        current()
    } else {
        None
    }
}

/// Runs `f` with `id` as the current id: messages it sends carry `id`.
pub fn scope<R>(id: CorrelationId, f: impl FnOnce() -> R) -> R {
    within(Some(id), f)
}

/// Runs `f` with `id` (or none) current, restoring the previous one after,
/// even if `f` panics.
pub(crate) fn within<R>(id: Option<CorrelationId>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<CorrelationId>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(self.0));
        }
    }
    if id.is_some() {
        IN_USE.store(true, Ordering::Relaxed);
    }
    let _restore = Restore(CURRENT.with(|current| current.replace(id)));
    f()
}
