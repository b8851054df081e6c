//! Which agent's mailbox the code running on this thread holds: everything
//! an agent's turn runs (its hooks, its handlers, the futures of serial
//! async handlers and of `ctx.wait`), except the futures it spawned
//! (concurrent handlers, `ctx.spawn`, timers), which run beside the
//! mailbox. An ask to that same agent awaited where it is held could only
//! be answered after the code returns, so it fails at once
//! ([`AskError::OwnMailbox`]) instead of at its deadline, or never (a
//! handler blocking its thread on it). Set once per turn and per poll of a
//! spawned future: nothing per message.
//!
//! [`AskError::OwnMailbox`]: crate::AskError::OwnMailbox

use std::{
    cell::Cell,
    pin::Pin,
    task::{Context, Poll},
};

use actix::{Actor, fut::ActorFuture};
use pin_project_lite::pin_project;

use crate::agent::shared::AgentShared;

thread_local! {
    /// The holding agent's address in memory (0: none). A plain `Cell` with a
    /// const initializer: one thread-relative load or store, no lazy init.
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

/// Whether the code running here holds `agent`'s mailbox.
#[inline]
pub(crate) fn holds(agent: &AgentShared) -> bool {
    HELD.get() == key(agent)
}

pin_project! {
    /// A future an agent spawned: polled as code that holds no mailbox.
    pub(crate) struct Beside<F> {
        #[pin]
        pub(crate) fut: F,
    }
}

impl<A: Actor, F: ActorFuture<A>> ActorFuture<A> for Beside<F> {
    type Output = F::Output;

    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut A::Context,
        task: &mut Context<'_>,
    ) -> Poll<F::Output> {
        holding(0, || self.project().fut.poll(act, ctx, task))
    }
}
