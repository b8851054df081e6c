//! Which agent's mailbox the code running on this thread holds: set around
//! a handler's body and each poll of a serial async handler's future. An
//! ask to that same agent awaited there could only be answered after the
//! handler returns, so it fails at once ([`AskError::OwnMailbox`]) instead
//! of at its deadline, or never (a handler blocking its thread on it).
//!
//! [`AskError::OwnMailbox`]: crate::AskError::OwnMailbox

use std::cell::Cell;

use crate::shared::AgentShared;

thread_local! {
    /// The holding agent's address in memory (0: none). A plain `Cell` with a
    /// const initializer: one thread-relative load or store, no lazy init,
    /// on the path of every message.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// What identifies `agent` here: where it lives, unique while it does.
#[inline(always)]
pub(crate) fn key(agent: &AgentShared) -> usize {
    std::ptr::from_ref(agent) as usize
}

/// Runs `f` as code that holds the mailbox of the agent whose [`key`] this is.
#[inline(always)]
pub(crate) fn holding<R>(agent: usize, f: impl FnOnce() -> R) -> R {
    let previous = HELD.replace(agent);
    let result = f();
    HELD.set(previous);
    result
}

/// Runs `f` as code that holds no mailbox (a concurrent handler's future,
/// polled from within the agent's turn).
#[inline]
pub(crate) fn releasing<R>(f: impl FnOnce() -> R) -> R {
    let previous = HELD.replace(0);
    let result = f();
    HELD.set(previous);
    result
}

/// Whether the code running here holds `agent`'s mailbox.
#[inline]
pub(crate) fn holds(agent: &AgentShared) -> bool {
    HELD.get() == key(agent)
}
