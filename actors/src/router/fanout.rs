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
//! A subscriber whose mailbox or window of messages in flight is full gets
//! its deliveries queued in the router (`waiting.rs`).

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, WrapFuture};
use agentix_runtime::AgentContext;
use tokio::time::Instant;

use super::{
    Batch, Envelope, Outcome, Priority, UndeliveredReason, ack::AckCell, actor::Router,
    batch::sampled_in, target::Refused,
};

/// A batch being filled for one set of subscriptions.
struct Open<M> {
    subs: Arc<[u64]>,
    items: Vec<Envelope<M>>,
}

/// The router's batches being filled, per lane.
pub(crate) struct Fanout<M> {
    /// The broadcast batch being filled, per lane.
    open: [Option<Open<M>>; 4],
    /// Per lane, the deliveries picked for queue-group members.
    member_open: [Vec<(u64, Vec<Envelope<M>>)>; 4],
    flush_scheduled: bool,
    /// The emptied buffer of the last batch sent, for the next one.
    spare: Vec<Envelope<M>>,
}

impl<M> Default for Fanout<M> {
    fn default() -> Self {
        Self {
            open: [None, None, None, None],
            member_open: Default::default(),
            flush_scheduled: false,
            spare: Vec::new(),
        }
    }
}

impl<M> Fanout<M> {
    /// A flush scheduled by the old incarnation died with it.
    pub(crate) fn restarted(&mut self) {
        self.flush_scheduled = false;
    }

    /// Takes the deliveries picked for queue-group member `member` and not
    /// sent yet: it is leaving.
    pub(crate) fn take_picked(&mut self, member: u64) -> impl Iterator<Item = Envelope<M>> {
        let lanes = self.member_open.iter_mut();
        lanes
            .filter_map(move |lane| {
                let at = lane.iter().position(|(id, _)| *id == member)?;
                Some(lane.swap_remove(at).1)
            })
            .flatten()
    }
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
        match &mut self.fanout.open[lane] {
            Some(open) if Arc::ptr_eq(&open.subs, &subs) => open.items.push(envelope),
            _ => {
                self.flush_lane(lane, ctx);
                // The buffer of the last batch sent: a large allocation per
                // batch costs microseconds at low load (the allocator tidies
                // its free lists on large requests).
                let mut items = std::mem::take(&mut self.fanout.spare);
                if items.capacity() == 0 {
                    items.reserve(self.config.max_batch.min(64));
                }
                items.push(envelope);
                self.fanout.open[lane] = Some(Open { subs, items });
            }
        }
        let full = self.fanout.open[lane]
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
        let lists = &mut self.fanout.member_open[lane];
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
        if self.fanout.flush_scheduled {
            return;
        }
        // Runs once the mailbox is drained: actix polls the context's
        // futures only after the messages waiting.
        self.fanout.flush_scheduled = true;
        ctx.spawn(async {}.into_actor(self).map(|(), router, ctx| {
            router.fanout.flush_scheduled = false;
            // What waits is older than what is open: it goes first.
            if !router.waiting.is_empty() {
                router.retry_queues(ctx);
            }
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
        for (member, items) in std::mem::take(&mut self.fanout.member_open[lane]) {
            self.send_items(&[member], items, ctx);
        }
        if let Some(Open { subs, items }) = self.fanout.open[lane].take() {
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
                self.outbox.record(item, UndeliveredReason::Expired, None);
            }
            items = fresh;
        }
        if items.is_empty() {
            return;
        }
        // Copied out so that the buffer is kept for the next batch.
        let batch: Arc<[Envelope<M>]> = items.drain(..).collect();
        if items.capacity() > self.fanout.spare.capacity() {
            self.fanout.spare = items;
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
        self.wait_for_room(id, batch, ctx);
    }

    /// Hands `batch` to subscription `id` now, tracking it when the
    /// subscription is at-least-once. `Full` too when `behind_queue` and
    /// deliveries are waiting in the router for it: those go first.
    pub(crate) fn offer(
        &mut self,
        id: u64,
        batch: &Arc<[Envelope<M>]>,
        sampled: Option<u32>,
        behind_queue: bool,
        ctx: &mut AgentContext<Self>,
    ) -> Result<(), Refused> {
        // One lookup on the hot path: a hand-over per subscriber per batch.
        let Some(sub) = self.table.get_mut(id) else {
            return Err(Refused::Closed);
        };
        if behind_queue && !sub.queue.is_empty() {
            return Err(Refused::Full);
        }
        // Its window is full: like a full mailbox, the queue takes it.
        if !sub.admits(batch.len()) {
            return Err(Refused::Full);
        }
        let cell = sub.unacked.as_ref().map(|_| Arc::new(AckCell::default()));
        // Counted before the hand-over: a refused batch is dropped, which
        // counts it done again.
        let done = sub.window.handed(batch.len());
        let batch_for = Batch::new(batch.clone(), cell.clone(), done, sampled);
        sub.target.deliver(batch_for)?;
        self.counters.line().delivered(batch.len());
        let group = sub.group;
        match (&mut sub.unacked, cell) {
            (Some(unacked), Some(cell)) => {
                unacked.sent(cell, batch.clone(), Instant::now());
                self.schedule_ack_check(ctx);
            }
            // At-most-once: handed over is as done as it gets.
            _ => {
                if let Some(group) = group {
                    let done = batch.len();
                    self.table.finished(group, id, Outcome::Success, done);
                }
            }
        }
        Ok(())
    }
}
