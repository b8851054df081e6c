//! The envelope every message to an agent travels in.
//!
//! It replaces actix's `SyncEnvelopeProxy` (same single allocation) and adds
//! what actix leaves out:
//! - a panic in *any* handler fails the agent instead of killing its task,
//!   with one panic boundary per message: a generated handler catches its
//!   own (to reply with the typed [`Failure`](crate::Failure)); a
//!   hand-written one's unwinds to the agent's task, marked on the way
//!   with the message it came from;
//! - an envelope dropped with its message unhandled reports a dead letter;
//! - the senders waiting for room are woken once a message is out of the
//!   mailbox, by the context's `waiting`, which actix calls before taking
//!   the next (one load per message, shared with the stop signals).

use std::{
    cell::Cell,
    marker::PhantomData,
    panic::{AssertUnwindSafe, catch_unwind},
    time::Instant,
};

use tracing::Level;

use actix::{
    Handler, Message,
    dev::{EnvelopeProxy, MessageResponse, OneshotSender},
};

use crate::{
    Agent, AgentContext, CorrelationId, DeadLetter, DeadLetterReason, During, agent::fault,
    correlation, dead_letter, metrics::Watch,
};

pub(crate) struct AgentEnvelope<M: Message + Send + 'static> {
    msg: Option<M>,
    tx: Option<OneshotSender<M::Result>>,
    /// The sender's current correlation id, taken when the message was
    /// packed (on the sender's thread).
    correlation: Option<CorrelationId>,
}

impl<M: Message + Send + 'static> AgentEnvelope<M> {
    pub(crate) fn new(msg: M, tx: Option<OneshotSender<M::Result>>) -> Self {
        Self {
            msg: Some(msg),
            tx,
            correlation: correlation::for_send(),
        }
    }
}

impl<A, M> EnvelopeProxy<A> for AgentEnvelope<M>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    fn handle(&mut self, act: &mut A, ctx: &mut AgentContext<A>) {
        // Senders waiting for room are woken by `waiting`, which actix
        // calls before it takes the next message: one load for that and
        // for the interruptions.
        ctx.core.turn.took();
        let tx = self.tx.take();
        let Some(msg) = self.msg.take() else {
            return;
        };
        if tx.as_ref().is_some_and(OneshotSender::is_closed) {
            // The asker's deadline passed while the message queued: skip the
            // work it no longer waits for, as actix does, but say so.
            let shared = &ctx.core.shared;
            shared.count_skipped();
            dead_letter::hand_over(
                &*shared.dead_letters,
                DeadLetter::new(shared.name().clone(), DeadLetterReason::RequesterGone, msg),
            );
            return;
        }
        let watch = ctx.core.shared.count_handled();
        // The common case stays plain: not one of the timed handlings, no
        // fault plan, no id to carry (between handlings a thread has none),
        // no subscriber wanting debug spans. The rest goes through
        // `watched`, out of line, so this path keeps its size.
        if watch.is_plain() && self.correlation.is_none() && !tracing::level_enabled!(Level::DEBUG)
        {
            // No panic boundary here: a generated handler has its own (it
            // replies with the typed failure), and a hand-written one's
            // panic unwinds to the agent's task, which catches it once per
            // turn and learns from `Unwinding` which message it was.
            let unwinding = Unwinding::<M>::new();
            let response = <A as Handler<M>>::handle(act, msg, ctx);
            unwinding.passed();
            response.handle(ctx, tx);
        } else {
            watched(self.correlation, watch, act, msg, ctx, tx);
        }
    }
}

thread_local! {
    /// The message whose handler a panic unwound from, for the agent's
    /// task to name it in the failure.
    static UNWOUND: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Marks the handling of an `M`: dropped only if the handler unwinds
/// (`passed` forgets it otherwise, so the common case runs no code).
struct Unwinding<M>(PhantomData<fn() -> M>);

impl<M> Unwinding<M> {
    #[inline(always)]
    fn new() -> Self {
        Self(PhantomData)
    }

    #[inline(always)]
    fn passed(self) {
        std::mem::forget(self);
    }
}

impl<M> Drop for Unwinding<M> {
    fn drop(&mut self) {
        UNWOUND.with(|unwound| unwound.set(Some(std::any::type_name::<M>())));
    }
}

/// Which message's handler the panic that just reached the agent's task
/// unwound from, if it came from a handler (it may have come from a
/// lifecycle hook or a spawned future). Clears the mark.
pub(crate) fn unwound_handler() -> Option<&'static str> {
    UNWOUND.with(Cell::take)
}

/// Handles `msg` as `watch` says: timed, under a fault plan, and in a span
/// naming the agent, the message type and the correlation id, with the id
/// current for what the handler sends.
#[inline(never)]
fn watched<A, M>(
    id: Option<CorrelationId>,
    watch: Watch,
    act: &mut A,
    msg: M,
    ctx: &mut AgentContext<A>,
    tx: Option<OneshotSender<M::Result>>,
) where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    if watch.faulty() {
        fault::before_handle(ctx);
    }
    let span = tracing::debug_span!(
        target: "agentix",
        "handle",
        agent = %ctx.core.shared.name(),
        kind = ctx.core.shared.identity.kind,
        message = std::any::type_name::<M>(),
        correlation = tracing::field::Empty,
    );
    if let Some(id) = id {
        span.record("correlation", tracing::field::display(id));
    }
    let start = watch.timed().then(Instant::now);
    let handled = span.in_scope(|| {
        correlation::within(id, || {
            if watch.faulty() {
                // Under a plan (tests only) the handling keeps a boundary
                // of its own: the plan's after-step must run even when the
                // handler panics.
                catch_unwind(AssertUnwindSafe(|| {
                    <A as Handler<M>>::handle(act, msg, ctx)
                }))
            } else {
                let unwinding = Unwinding::<M>::new();
                let response = <A as Handler<M>>::handle(act, msg, ctx);
                unwinding.passed();
                Ok(response)
            }
        })
    });
    if let Some(start) = start {
        ctx.core.shared.kind.handling.record(start.elapsed());
    }
    if watch.faulty() {
        fault::after_handle(ctx, std::any::type_name::<M>());
    }
    match handled {
        Ok(response) => response.handle(ctx, tx),
        Err(payload) => {
            let during = During::Handler {
                message: std::any::type_name::<M>(),
            };
            ctx.fail_with_panic(during, &*payload);
            crate::failure::discard(payload);
            // `tx` drops here: the caller sees the agent closed. Generated
            // handlers never get here; they reply with the failure.
        }
    }
}

impl<M: Message + Send + 'static> Drop for AgentEnvelope<M> {
    fn drop(&mut self) {
        // Tested before taken: a handled envelope (the common case) is
        // left as it is.
        if self.msg.is_some()
            && let Some(msg) = self.msg.take()
        {
            dead_letter::dropped_unhandled(msg);
        }
    }
}
