//! The dead-letter agent of a router: where everything the router could not
//! deliver ends up, with its reason, for queries, counts and redrive.
//!
//! Each shard collects what it gives up in a local [`UndeliveredStore`]
//! (bounded the same way) and posts the whole store to this agent in one
//! message at the end of a turn, or a timer tick that gave something
//! up. So dead-lettering costs one message per cycle, not one per envelope,
//! and a storm of overflows from a stalled subscriber does not flood the
//! agent. One agent serves every shard of a router, so its answers cover
//! the whole router.

use std::{sync::Arc, time::Duration};

use actix::{ActorFutureExt, Handler, MessageResult, ResponseActFuture, WrapFuture};
use agentix_runtime::{AgentContext, AgentName, AgentRef, SendError};

use super::{
    Envelope, Router, RouterStats, Undelivered, UndeliveredReason, UndeliveredStore,
    messages::{Counts, QueryUndelivered, Redrive},
};

/// How often a shard tries again to post its dead letters when this agent's
/// mailbox is full.
pub(crate) const POST_RETRY: Duration = Duration::from_millis(1);

/// The agent keeping a router's undelivered messages (the last
/// [`RouterConfig::undelivered`](super::RouterConfig::undelivered) of them,
/// all counted by reason). Started with the router; reach it through
/// [`RouterRef::undelivered`](super::RouterRef::undelivered),
/// [`undelivered_counts`](super::RouterRef::undelivered_counts) and
/// [`redrive`](super::RouterRef::redrive), and its agent (name, status)
/// through [`RouterRef::dead_letters`](super::RouterRef::dead_letters).
// Permanent, and a restart keeps the letters: losing them on a panic would
// lose exactly what the router promises never to lose silently.
#[derive(agentix_macros::Agent)]
#[agent(
    crate = ::agentix_runtime,
    kind = "dead_letters",
    restart = "permanent",
    keep_state,
    reference = AgentRef<Self>
)]
pub struct DeadLetters<M: Send + Sync + 'static> {
    store: UndeliveredStore<M>,
    stats: Arc<RouterStats>,
}

impl<M: Send + Sync + 'static> DeadLetters<M> {
    pub(crate) fn new(capacity: usize, stats: Arc<RouterStats>) -> Self {
        Self {
            store: UndeliveredStore::new(capacity),
            stats,
        }
    }
}

impl<M: Send + Sync + 'static> std::fmt::Debug for DeadLetters<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("kept", &self.store.len())
            .field("total", &self.store.total())
            .finish()
    }
}

/// What a shard gave up since its last post.
pub(crate) struct Keep<M>(pub(crate) UndeliveredStore<M>);

impl<M: Send + Sync + 'static> actix::Message for Keep<M> {
    type Result = ();
}

impl<M: Send + Sync + 'static> Handler<Keep<M>> for DeadLetters<M> {
    type Result = ();

    fn handle(&mut self, Keep(letters): Keep<M>, _: &mut AgentContext<Self>) {
        for (reason, count) in UndeliveredReason::ALL.into_iter().zip(letters.counts()) {
            self.stats.add_undelivered(reason, count);
        }
        self.store.absorb(letters);
    }
}

impl<M: Send + Sync + 'static> Handler<QueryUndelivered<M>> for DeadLetters<M> {
    type Result = Vec<Undelivered<M>>;

    fn handle(&mut self, query: QueryUndelivered<M>, _: &mut AgentContext<Self>) -> Self::Result {
        self.store.query(&query.0).into_iter().cloned().collect()
    }
}

impl<M: Send + Sync + 'static> Handler<Counts> for DeadLetters<M> {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, _: Counts, _: &mut AgentContext<Self>) -> Self::Result {
        let count = |reason| (reason, self.store.count(reason));
        MessageResult(UndeliveredReason::ALL.into_iter().map(count).collect())
    }
}

/// Envelopes to route again, as their next attempt.
pub(crate) struct Reroute<M>(pub(crate) Vec<Envelope<M>>);

impl<M: Send + Sync + 'static> actix::Message for Reroute<M> {
    type Result = ();
}

impl<M: Send + Sync + 'static> Handler<Redrive<M>> for DeadLetters<M> {
    type Result = ResponseActFuture<Self, usize>;

    /// Takes the letters out and hands them to the router, waiting for room
    /// in its mailbox; letters the router cannot take any more are kept.
    fn handle(&mut self, redrive: Redrive<M>, _: &mut AgentContext<Self>) -> Self::Result {
        let letters = self.store.take(&redrive.filter);
        let count = letters.len();
        let envelopes = letters.iter().map(|l| l.envelope.retry()).collect();
        let router: AgentRef<Router<M>> = redrive.router;
        let send = async move {
            match router.tell_wait(Reroute(envelopes)).await {
                Ok(()) => Ok(count),
                Err(refused) => Err((letters, refused.to_string())),
            }
        };
        Box::pin(send.into_actor(self).map(|sent, dead_letters, _| {
            sent.unwrap_or_else(|(letters, why)| {
                tracing::warn!(%why, "redrive refused; the letters stay");
                dead_letters.store.restore(letters);
                0
            })
        }))
    }
}

/// What a shard gave up since it last posted to its dead-letter agent, and
/// the way there.
pub(crate) struct Outbox<M: Send + Sync + 'static> {
    letters: UndeliveredStore<M>,
    capacity: usize,
    dead_letters: AgentRef<DeadLetters<M>>,
    post_scheduled: bool,
}

impl<M: Send + Sync + 'static> Outbox<M> {
    /// Keeps the last `capacity` letters until they are posted.
    pub(crate) fn new(capacity: usize, dead_letters: AgentRef<DeadLetters<M>>) -> Self {
        Self {
            letters: UndeliveredStore::new(capacity),
            capacity,
            dead_letters,
            post_scheduled: false,
        }
    }

    /// Gives `envelope` up for `reason`, meant for `subscriber` if any.
    #[inline]
    pub(crate) fn record(
        &mut self,
        envelope: Envelope<M>,
        reason: UndeliveredReason,
        subscriber: Option<AgentName>,
    ) {
        self.letters.record(envelope, reason, subscriber);
    }

    /// Counts one given up whose payload is not kept.
    #[inline]
    pub(crate) fn count_only(&mut self, reason: UndeliveredReason) {
        self.letters.count_only(reason);
    }

    /// How many were given up since the last post.
    pub(crate) fn total(&self) -> u64 {
        self.letters.total()
    }

    /// A retry scheduled by the old incarnation died with it.
    pub(crate) fn restarted(&mut self) {
        self.post_scheduled = false;
    }
}

impl<M: Send + Sync + 'static> Router<M> {
    /// Posts what this shard gave up to the dead-letter agent. A full
    /// mailbox keeps it here (bounded) and tries again shortly.
    pub(crate) fn post_undelivered(&mut self, ctx: &mut AgentContext<Self>) {
        let outbox = &mut self.outbox;
        if outbox.letters.total() == 0 || outbox.post_scheduled {
            return;
        }
        let empty = UndeliveredStore::new(outbox.capacity);
        let letters = std::mem::replace(&mut outbox.letters, empty);
        match outbox.dead_letters.tell(Keep(letters)) {
            Ok(()) => {}
            Err(refused) => {
                let full = matches!(refused, SendError::Full { .. });
                outbox.letters = refused.into_inner().0;
                // Closed: gone for good, as the swarm shuts down; what is
                // here stays here, counted in the router's debug output.
                if full {
                    outbox.post_scheduled = true;
                    actix::AsyncContext::run_later(ctx, POST_RETRY, |router, ctx| {
                        router.post_undelivered_now(ctx);
                    });
                }
            }
        }
    }

    fn post_undelivered_now(&mut self, ctx: &mut AgentContext<Self>) {
        self.outbox.post_scheduled = false;
        self.post_undelivered(ctx);
    }
}
