//! The envelope every message to an agent travels in.
//!
//! It replaces actix's `SyncEnvelopeProxy` (same single allocation) and adds
//! what actix leaves out:
//! - a panic in *any* handler, generated or hand-written, is caught here and
//!   fails the agent instead of killing its task (generated handlers also
//!   catch it themselves, to reply with the typed [`Failure`]);
//! - an envelope dropped with its message unhandled reports a dead letter;
//! - taking a message out of the mailbox wakes the senders waiting for room
//!   (once per wait: one load per message while nobody waits).

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    time::Instant,
};

use tracing::Level;

use actix::{
    Handler, Message,
    dev::{EnvelopeProxy, MessageResponse, OneshotSender},
};

use crate::{
    Agent, AgentContext, CorrelationId, DeadLetter, DeadLetterReason, During, correlation,
    dead_letter, fault,
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
        ctx.core.turn.took();
        if ctx.core.shared.room_wanted() {
            ctx.core.shared.wake_room_waiters();
        }
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
        let timed = ctx.core.shared.count_handled();
        let faulty = fault::before_handle(ctx);
        // The common case stays plain: not one of the timed handlings, no
        // id to carry (between handlings a thread has none), no subscriber
        // wanting debug spans. The rest goes through `traced`, out of line,
        // so this path keeps its size.
        let plain = !timed && self.correlation.is_none() && !tracing::level_enabled!(Level::DEBUG);
        let handled = if plain {
            catch_unwind(AssertUnwindSafe(|| {
                <A as Handler<M>>::handle(act, msg, ctx)
            }))
        } else {
            traced(self.correlation, timed, act, msg, ctx)
        };
        if faulty {
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
}

impl<M: Message + Send + 'static> Drop for AgentEnvelope<M> {
    fn drop(&mut self) {
        if let Some(msg) = self.msg.take() {
            dead_letter::dropped_unhandled(msg);
        }
    }
}

/// Handles `msg` in a span naming the agent, the message type and the
/// correlation id, with the id current for what the handler sends, and
/// times it if `timed`.
#[inline(never)]
fn traced<A, M>(
    id: Option<CorrelationId>,
    timed: bool,
    act: &mut A,
    msg: M,
    ctx: &mut AgentContext<A>,
) -> std::thread::Result<<A as Handler<M>>::Result>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
{
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
    let start = timed.then(Instant::now);
    let handled = span.in_scope(|| {
        correlation::within(id, || {
            catch_unwind(AssertUnwindSafe(|| {
                <A as Handler<M>>::handle(act, msg, ctx)
            }))
        })
    });
    if let Some(start) = start {
        ctx.core.shared.kind.handling.record(start.elapsed());
    }
    handled
}
