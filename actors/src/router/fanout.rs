//! Batching and hand-over: the router's hot path.
//!
//! Each lane has one open batch, for one set of subscriptions. Publishes
//! with the same set (the same topic, or topics matching the same
//! subscriptions) join it; a publish for another set, a full batch, a
//! critical message, or the end of the mailbox drain sends it. Sending
//! hands the same `Arc` batch to every subscription in the set: one mailbox
//! message per subscriber per batch, no copy of the payloads. Because a
//! batch leaves before one for another set is opened in its lane, a
//! subscriber sees one publisher's messages of one lane in publish order.
//!
//! A subscriber whose mailbox is full gets its deliveries queued in the
//! router, bounded, under its overflow policy; they are retried every
//! millisecond, ahead of anything newer.

use std::{sync::Arc, time::Duration};

use actix::{ActorFutureExt, AsyncContext, WrapFuture};
use agentix_runtime::AgentContext;
use tokio::time::Instant;

use super::{
    Batch, EndReason, Ended, Envelope, Outcome, OverflowPolicy, Priority, Pushed, SubscriptionId,
    UndeliveredReason, ack::AckCell, actor::Router, batch::sampled_in, groups::Entry,
    target::Refused,
};

/// How often deliveries waiting for a full mailbox are retried.
const RETRY_EVERY: Duration = Duration::from_millis(1);

/// A batch being filled for one set of subscriptions.
pub(crate) struct Open<M> {
    subs: Arc<[u64]>,
    items: Vec<Envelope<M>>,
}

impl<M: Send + Sync + 'static> Router<M> {
    pub(crate) fn add_to_batch(
        &mut self,
        subs: Arc<[u64]>,
        envelope: Envelope<M>,
        ctx: &mut AgentContext<Self>,
    ) {
        let priority = envelope.priority();
        let lane = priority.lane();
        match &mut self.open[lane] {
            Some(open) if Arc::ptr_eq(&open.subs, &subs) => open.items.push(envelope),
            _ => {
                self.flush_lane(lane, ctx);
                // The buffer of the last batch sent: a large allocation per
                // batch costs microseconds at low load (the allocator tidies
                // its free lists on large requests).
                let mut items = std::mem::take(&mut self.spare);
                if items.capacity() == 0 {
                    items.reserve(self.config.max_batch.min(64));
                }
                items.push(envelope);
                self.open[lane] = Some(Open { subs, items });
            }
        }
        let full = self.open[lane]
            .as_ref()
            .is_some_and(|open| open.items.len() >= self.config.max_batch);
        if priority == Priority::Critical || full {
            self.flush_lane(lane, ctx);
        } else {
            self.schedule_flush(ctx);
        }
    }

    /// Adds a delivery picked for queue-group member `member`.
    pub(crate) fn add_for_member(
        &mut self,
        member: u64,
        envelope: Envelope<M>,
        ctx: &mut AgentContext<Self>,
    ) {
        let priority = envelope.priority();
        let lane = priority.lane();
        let lists = &mut self.member_open[lane];
        // Few members are open at once: a scan beats a map.
        let at = match lists.iter().position(|(id, _)| *id == member) {
            Some(at) => at,
            None => {
                lists.push((member, Vec::new()));
                lists.len() - 1
            }
        };
        lists[at].1.push(envelope);
        if priority == Priority::Critical || lists[at].1.len() >= self.config.max_batch {
            let (_, items) = lists.swap_remove(at);
            self.send_items(&[member], items, ctx);
        } else {
            self.schedule_flush(ctx);
        }
    }

    pub(crate) fn schedule_flush(&mut self, ctx: &mut AgentContext<Self>) {
        if self.flush_scheduled {
            return;
        }
        // Runs once the mailbox is drained: actix polls the context's
        // futures only after the messages waiting.
        self.flush_scheduled = true;
        ctx.spawn(async {}.into_actor(self).map(|(), router, ctx| {
            router.flush_scheduled = false;
            router.flush_all(ctx);
        }));
    }

    /// Sends every open batch, higher lanes first, then what was given up
    /// to the dead letters.
    pub(crate) fn flush_all(&mut self, ctx: &mut AgentContext<Self>) {
        for lane in Priority::LANES {
            self.flush_lane(lane.lane(), ctx);
        }
        self.refresh_queued();
        self.post_undelivered(ctx);
    }

    fn flush_lane(&mut self, lane: usize, ctx: &mut AgentContext<Self>) {
        for (member, items) in std::mem::take(&mut self.member_open[lane]) {
            self.send_items(&[member], items, ctx);
        }
        if let Some(Open { subs, items }) = self.open[lane].take() {
            self.send_items(&subs, items, ctx);
        }
    }

    /// Sends `items` as one batch, shared by subscriptions `subs`; what has
    /// expired is kept as undelivered instead.
    fn send_items(
        &mut self,
        subs: &[u64],
        mut items: Vec<Envelope<M>>,
        ctx: &mut AgentContext<Self>,
    ) {
        let now = Instant::now();
        if items.iter().any(|item| item.expired_at(now)) {
            let (expired, fresh): (Vec<_>, Vec<_>) =
                items.into_iter().partition(|item| item.expired_at(now));
            for item in expired {
                self.undelivered
                    .record(item, UndeliveredReason::Expired, None);
            }
            items = fresh;
        }
        if items.is_empty() {
            return;
        }
        // Copied out so that the buffer is kept for the next batch.
        let batch: Arc<[Envelope<M>]> = items.drain(..).collect();
        if items.capacity() > self.spare.capacity() {
            self.spare = items;
        }
        let sampled = sampled_in(&batch);
        for id in subs.iter() {
            self.hand(*id, &batch, sampled, ctx);
        }
    }

    /// Hands `batch` to subscription `id`, or queues it there.
    pub(crate) fn hand(
        &mut self,
        id: u64,
        batch: &Arc<[Envelope<M>]>,
        sampled: Option<u32>,
        ctx: &mut AgentContext<Self>,
    ) {
        match self.offer(id, batch, sampled, true, ctx) {
            Ok(()) => return,
            // Gone now, or found gone earlier in this flush: the rest of
            // its mail too.
            Err(Refused::Closed) => {
                self.gone(id, batch.iter().cloned());
                return;
            }
            Err(Refused::Full) => {}
        }
        self.enqueue(id, batch.iter().cloned());
        // Counted once at the end of the cycle, not per refused hand-over.
        self.queued_changed = true;
        self.schedule_retry(ctx);
        self.hold_publishers(ctx);
    }

    /// Hands `batch` to subscription `id` now, tracking it when the
    /// subscription is at-least-once. `Full` too when `behind_queue` and
    /// deliveries are waiting in the router for it: those go first.
    fn offer(
        &mut self,
        id: u64,
        batch: &Arc<[Envelope<M>]>,
        sampled: Option<u32>,
        behind_queue: bool,
        ctx: &mut AgentContext<Self>,
    ) -> Result<(), Refused> {
        // One lookup on the hot path: a hand-over per subscriber per batch.
        let Some(sub) = self.subs.get_mut(&id) else {
            return Err(Refused::Closed);
        };
        if behind_queue && !sub.queue.is_empty() {
            return Err(Refused::Full);
        }
        let cell = sub.unacked.as_ref().map(|_| Arc::new(AckCell::default()));
        sub.target
            .deliver(Batch::new(batch.clone(), cell.clone(), sampled))?;
        self.stats.shards[self.shard].delivered(batch.len());
        match (&mut sub.unacked, cell) {
            (Some(unacked), Some(cell)) => {
                unacked.sent(cell, batch.clone(), Instant::now());
                self.schedule_ack_check(ctx);
            }
            // At-most-once: handed over is as done as it gets.
            _ => {
                if let Some(group) = sub.group {
                    let done = batch.len();
                    self.groups.finished(group, id, Outcome::Success, done);
                }
            }
        }
        Ok(())
    }

    fn enqueue(&mut self, id: u64, items: impl Iterator<Item = Envelope<M>>) {
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
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

    /// Subscription `id` has stopped for good: it goes, and so do `items`
    /// and whatever waited for it, as dead letters.
    fn gone(&mut self, id: u64, items: impl Iterator<Item = Envelope<M>>) {
        let name = (self.subs.get(&id).map(|sub| sub.target.name()))
            .or_else(|| self.ended.subscriber(id))
            .cloned();
        for item in items {
            self.undelivered
                .record(item, UndeliveredReason::Closed, name.clone());
        }
        self.remove_subscription(id, EndReason::Stopped);
    }

    /// Removes subscription `id`; what waited for it becomes undelivered
    /// (`Closed`). `true` if it existed.
    pub(crate) fn remove_subscription(&mut self, id: u64, end: EndReason) -> bool {
        let reason = UndeliveredReason::Closed;
        let Some(mut sub) = self.subs.remove(&id) else {
            return false;
        };
        match sub.group {
            None => {
                self.index.remove(&sub.pattern, &Entry::Sub(id));
            }
            Some(group) => {
                if self.groups.leave(group, id) {
                    self.index.remove(&sub.pattern, &Entry::Group(group));
                }
            }
        }
        self.clear_matches();
        // Deliveries picked for it and not sent yet.
        for lane in &mut self.member_open {
            if let Some(at) = lane.iter().position(|(member, _)| *member == id) {
                let (_, items) = lane.swap_remove(at);
                let name = Some(sub.target.name().clone());
                for item in items {
                    self.undelivered.record(item, reason, name.clone());
                }
            }
        }
        let name = sub.target.name().clone();
        self.ended.push(Ended {
            subscription: SubscriptionId(id),
            subscriber: name.clone(),
            reason: end,
            shard: self.shard,
            routed_until: self.next_id,
        });
        let mut waiting: Vec<_> = sub.queue.drain(usize::MAX).collect();
        if let Some(unacked) = &mut sub.unacked {
            waiting.extend(unacked.abandon());
        }
        for item in waiting {
            self.undelivered.record(item, reason, Some(name.clone()));
        }
        self.count_queued();
        true
    }

    /// Sets this shard's queued gauge. Walks the subscriptions: called on
    /// the slow paths only (a full mailbox, a retry, a removal).
    fn count_queued(&mut self) {
        self.queued_changed = false;
        let queued = self.subs.values().map(|sub| sub.queue.len()).sum();
        self.stats.shards[self.shard].set_queued(queued);
    }

    /// Sets the queued gauge if a hand-over was refused since it was set.
    pub(crate) fn refresh_queued(&mut self) {
        if self.queued_changed {
            self.count_queued();
        }
    }

    fn schedule_retry(&mut self, ctx: &mut AgentContext<Self>) {
        if self.retry_scheduled {
            return;
        }
        self.retry_scheduled = true;
        ctx.run_later(RETRY_EVERY, |router, ctx| {
            router.retry_scheduled = false;
            router.retry_queues(ctx);
        });
    }

    /// Hands queued deliveries over, oldest first, as far as mailboxes take
    /// them.
    fn retry_queues(&mut self, ctx: &mut AgentContext<Self>) {
        let waiting: Vec<u64> = (self.subs.iter())
            .filter(|(_, sub)| !sub.queue.is_empty())
            .map(|(id, _)| *id)
            .collect();
        let max = self.config.max_batch;
        let mut still_waiting = false;
        for id in waiting {
            while let Some(sub) = self.subs.get_mut(&id)
                && !sub.queue.is_empty()
            {
                let batch: Arc<[Envelope<M>]> = sub.queue.drain(max).collect();
                match self.offer(id, &batch, sampled_in(&batch), false, ctx) {
                    Ok(()) => {}
                    Err(Refused::Full) => {
                        if let Some(sub) = self.subs.get_mut(&id) {
                            sub.queue.requeue_front(batch.iter().cloned());
                        }
                        still_waiting = true;
                        break;
                    }
                    Err(Refused::Closed) => {
                        self.gone(id, batch.iter().cloned());
                        break;
                    }
                }
            }
        }
        if still_waiting {
            self.schedule_retry(ctx);
        }
        self.count_queued();
        self.post_undelivered(ctx);
    }
}
