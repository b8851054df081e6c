//! Deliveries waiting in the router for a subscriber: its mailbox was full,
//! or its window of messages in flight. They wait in the subscription's
//! bounded queue under its overflow policy and go out oldest first, ahead
//! of anything newer: at the end of every turn of the router, and every
//! millisecond while the router is idle.

use std::{sync::Arc, time::Duration};

use actix::{ActorFutureExt, AsyncContext, WrapFuture};
use agentix_runtime::AgentContext;

use super::{
    Envelope, OverflowPolicy, Pushed, UndeliveredReason, actor::Router, batch::sampled_in,
    target::Refused,
};

/// How often waiting deliveries are retried while nothing else happens.
pub(crate) const RETRY_EVERY: Duration = Duration::from_millis(1);

impl<M: Send + Sync + 'static> Router<M> {
    /// Queues `items` for subscription `id` under its overflow policy.
    pub(crate) fn enqueue(&mut self, id: u64, items: impl Iterator<Item = Envelope<M>>) {
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
        if sub.queue.is_empty() {
            self.waiting.push(id);
        }
        for item in items {
            match sub.queue.push(item) {
                Pushed::Queued => {}
                Pushed::Displaced(_) | Pushed::Dropped(_) => {
                    self.undelivered.count_only(UndeliveredReason::Overflow);
                }
                Pushed::Refused(item) => {
                    let name = Some(sub.target.name().clone());
                    self.undelivered
                        .record(item, UndeliveredReason::Overflow, name);
                }
                Pushed::Full(item) => {
                    // Kept: the router stops taking messages until it has
                    // room again (see `hold_publishers`).
                    sub.queue.push_over(item);
                    self.must_hold = true;
                }
            }
        }
    }

    /// Stops taking messages while a blocking subscriber's queue is full:
    /// the mailbox fills up and the publishers wait. Retries the queues
    /// every millisecond meanwhile.
    pub(crate) fn hold_publishers(&mut self, ctx: &mut AgentContext<Self>) {
        if !self.must_hold || self.holding {
            return;
        }
        self.holding = true;
        let pause = tokio::time::sleep(RETRY_EVERY).into_actor(self);
        ctx.wait(pause.map(|(), router, ctx| {
            router.holding = false;
            router.retry_queues(ctx);
            router.must_hold = (router.subs.values())
                .any(|sub| sub.queue.policy() == OverflowPolicy::Block && sub.queue.is_full());
            router.hold_publishers(ctx);
        }));
    }

    /// Sets this shard's queued gauge from the subscriptions with
    /// deliveries waiting (the others have none).
    pub(crate) fn count_queued(&mut self) {
        self.queued_changed = false;
        let subs = &self.subs;
        let queued = (self.waiting.iter())
            .filter_map(|id| subs.get(id))
            .map(|sub| sub.queue.len())
            .sum();
        self.stats.shards[self.shard].set_queued(queued);
    }

    /// Sets the queued gauge if a hand-over was refused since it was set.
    pub(crate) fn refresh_queued(&mut self) {
        if self.queued_changed {
            self.count_queued();
        }
    }

    pub(crate) fn schedule_retry(&mut self, ctx: &mut AgentContext<Self>) {
        if self.retry_scheduled {
            return;
        }
        self.retry_scheduled = true;
        ctx.run_later(RETRY_EVERY, |router, ctx| {
            router.retry_scheduled = false;
            router.retry_queues(ctx);
        });
    }

    /// Hands waiting deliveries over, oldest first, as far as mailboxes and
    /// windows take them.
    pub(crate) fn retry_queues(&mut self, ctx: &mut AgentContext<Self>) {
        let mut ids = std::mem::take(&mut self.waiting);
        ids.sort_unstable();
        ids.dedup();
        let max = self.config.max_batch;
        for id in ids.iter().copied() {
            while let Some(sub) = self.subs.get_mut(&id)
                && !sub.queue.is_empty()
            {
                // What the window takes now, without a batch to put back.
                let room = sub.room();
                if room == 0 {
                    break;
                }
                let batch: Arc<[Envelope<M>]> = sub.queue.drain(max.min(room)).collect();
                match self.offer(id, &batch, sampled_in(&batch), false, ctx) {
                    Ok(()) => {}
                    Err(Refused::Full) => {
                        if let Some(sub) = self.subs.get_mut(&id) {
                            sub.queue.requeue_front(batch.iter().cloned());
                        }
                        break;
                    }
                    Err(Refused::Closed) => {
                        self.gone(id, batch.iter().cloned());
                        break;
                    }
                }
            }
        }
        // Offers never queue, so nothing joined the list meanwhile.
        ids.retain(|id| self.subs.get(id).is_some_and(|sub| !sub.queue.is_empty()));
        self.waiting = ids;
        if !self.waiting.is_empty() {
            self.schedule_retry(ctx);
        }
        self.count_queued();
        self.post_undelivered(ctx);
    }
}
