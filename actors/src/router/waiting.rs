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

/// The subscriptions with deliveries waiting, and whether the router holds
/// its publishers back for them.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// Subscriptions with deliveries waiting in their queue (maybe again,
    /// or emptied since).
    ids: Vec<u64>,
    retry_scheduled: bool,
    /// A blocking subscriber's queue overflowed: stop taking messages.
    must_hold: bool,
    /// The router is not taking messages until that queue has room.
    holding: bool,
    /// A hand-over was refused (queued) since the gauge was last set.
    queued_changed: bool,
}

impl Waiting {
    /// Whether no subscription has deliveries waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The timers scheduled by the old incarnation died with it.
    pub(crate) fn restarted(&mut self) {
        self.retry_scheduled = false;
        self.holding = false;
    }
}

impl<M: Send + Sync + 'static> Router<M> {
    /// Queues `batch` for subscription `id`, whose mailbox or window was
    /// full, and retries it later.
    pub(crate) fn wait_for_room(
        &mut self,
        id: u64,
        batch: &Arc<[Envelope<M>]>,
        ctx: &mut AgentContext<Self>,
    ) {
        self.enqueue(id, batch.iter().cloned());
        // Counted once at the end of the cycle, not per refused hand-over.
        self.waiting.queued_changed = true;
        self.schedule_retry(ctx);
        self.hold_publishers(ctx);
    }

    /// Queues `items` for subscription `id` under its overflow policy.
    fn enqueue(&mut self, id: u64, items: impl Iterator<Item = Envelope<M>>) {
        let Some(sub) = self.table.get_mut(id) else {
            return;
        };
        if sub.queue.is_empty() {
            self.waiting.ids.push(id);
        }
        for item in items {
            match sub.queue.push(item) {
                Pushed::Queued => {}
                Pushed::Displaced(_) | Pushed::Dropped(_) => {
                    self.outbox.count_only(UndeliveredReason::Overflow);
                }
                Pushed::Refused(item) => {
                    let name = Some(sub.target.name().clone());
                    self.outbox.record(item, UndeliveredReason::Overflow, name);
                }
                Pushed::Full(item) => {
                    // Kept: the router stops taking messages until it has
                    // room again (see `hold_publishers`).
                    sub.queue.push_over(item);
                    self.waiting.must_hold = true;
                }
            }
        }
    }

    /// Stops taking messages while a blocking subscriber's queue is full:
    /// the mailbox fills up and the publishers wait. Retries the queues
    /// every millisecond meanwhile.
    pub(crate) fn hold_publishers(&mut self, ctx: &mut AgentContext<Self>) {
        if !self.waiting.must_hold || self.waiting.holding {
            return;
        }
        self.waiting.holding = true;
        let pause = tokio::time::sleep(RETRY_EVERY).into_actor(self);
        ctx.wait(pause.map(|(), router, ctx| {
            router.waiting.holding = false;
            router.retry_queues(ctx);
            router.waiting.must_hold = (router.table.values())
                .any(|sub| sub.queue.policy() == OverflowPolicy::Block && sub.queue.is_full());
            router.hold_publishers(ctx);
        }));
    }

    /// Sets this shard's queued gauge from the subscriptions with
    /// deliveries waiting (the others have none).
    pub(crate) fn count_queued(&mut self) {
        self.waiting.queued_changed = false;
        let table = &self.table;
        let queued = (self.waiting.ids.iter())
            .filter_map(|id| table.get(*id))
            .map(|sub| sub.queue.len())
            .sum();
        self.counters.line().set_queued(queued);
    }

    /// Sets the queued gauge if a hand-over was refused since it was set.
    pub(crate) fn refresh_queued(&mut self) {
        if self.waiting.queued_changed {
            self.count_queued();
        }
    }

    pub(crate) fn schedule_retry(&mut self, ctx: &mut AgentContext<Self>) {
        if self.waiting.retry_scheduled {
            return;
        }
        self.waiting.retry_scheduled = true;
        ctx.run_later(RETRY_EVERY, |router, ctx| {
            router.waiting.retry_scheduled = false;
            router.retry_queues(ctx);
        });
    }

    /// Hands waiting deliveries over, oldest first, as far as mailboxes and
    /// windows take them.
    pub(crate) fn retry_queues(&mut self, ctx: &mut AgentContext<Self>) {
        let mut ids = std::mem::take(&mut self.waiting.ids);
        ids.sort_unstable();
        ids.dedup();
        let max = self.config.max_batch;
        for id in ids.iter().copied() {
            while let Some(sub) = self.table.get_mut(id)
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
                        if let Some(sub) = self.table.get_mut(id) {
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
        ids.retain(|id| self.table.get(*id).is_some_and(|sub| !sub.queue.is_empty()));
        self.waiting.ids = ids;
        if !self.waiting.ids.is_empty() {
            self.schedule_retry(ctx);
        }
        self.count_queued();
        self.post_undelivered(ctx);
    }
}
