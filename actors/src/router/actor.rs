//! The router agent: the parts it is made of, publishing and subscribing.
//!
//! Each part is a struct owned by the file of its concern, its fields
//! private there, so that what keeps one concern's state consistent is in
//! one place: the subscription table and topic index (`subscriptions.rs`),
//! the open batches (`fanout.rs`), deliveries waiting for room
//! (`waiting.rs`), answer collection (`settle.rs`), what was given up on
//! its way to the dead letters (`dead_letters.rs`), this shard's counters
//! (`stats.rs`) and the subscriptions ended (`ended.rs`). The parts are
//! held by value: the hot path reaches them with no more indirection than
//! when they were fields of the router.

use std::sync::Arc;

use actix::Handler;
use agentix_runtime::{AgentContext, AgentRef, Lifecycle};
use tokio::time::Instant;

use super::{
    DeadLetters, DedupWindow, EndReason, Envelope, RouterConfig, RouterStats, UndeliveredReason,
    config::later,
    dead_letters::{Outbox, Reroute},
    ended::EndedLog,
    fanout::Fanout,
    messages::{PostUndelivered, Publish, Subscribe, Unsubscribe},
    settle::Settling,
    stats::{LATENCY_EVERY, ShardCounters},
    subscriptions::Subscriptions,
    waiting::Waiting,
};

/// A multicast router carrying payloads of type `M`; see the
/// [module docs](super).
// Permanent, and a restart keeps the subscriptions: they are the router.
// Its references are the sharded `RouterRef`, built from plain agent refs.
#[derive(agentix_macros::Agent)]
#[agent(
    crate = ::agentix_runtime,
    kind = "router",
    restart = "permanent",
    keep_state,
    lifecycle,
    reference = AgentRef<Self>
)]
pub struct Router<M: Send + Sync + 'static> {
    // The impl blocks of `Router` in each part's file join that part up
    // with the others; see the module docs.
    pub(super) config: RouterConfig,
    pub(super) table: Subscriptions<M>,
    pub(super) fanout: Fanout<M>,
    pub(super) waiting: Waiting,
    pub(super) settling: Settling,
    pub(super) outbox: Outbox<M>,
    pub(super) counters: ShardCounters,
    dedup: Option<DedupWindow>,
    /// The latest subscriptions removed, for [`RouterRef::ended`] and so
    /// that batches picked for one before it went (later in the same flush,
    /// or the next chunk of a retry) are kept under its name. Ids are never
    /// reused, so a few recent ones are all that is needed.
    ///
    /// [`RouterRef::ended`]: super::RouterRef::ended
    pub(super) ended: EndedLog,
    /// The id of the last message this shard numbered.
    pub(super) next_id: u64,
}

impl<M: Send + Sync + 'static> Router<M> {
    pub(crate) fn new(
        config: RouterConfig,
        dead_letters: AgentRef<DeadLetters<M>>,
        stats: Arc<RouterStats>,
        shard: usize,
    ) -> Self {
        Self {
            config,
            table: Subscriptions::default(),
            fanout: Fanout::default(),
            waiting: Waiting::default(),
            settling: Settling::default(),
            outbox: Outbox::new(config.undelivered, dead_letters),
            counters: ShardCounters::new(stats, shard),
            dedup: (config.dedup_window > 0).then(|| DedupWindow::new(config.dedup_window)),
            ended: EndedLog::default(),
            next_id: 0,
        }
    }

    /// The subscriptions changed: no batch opened for the old ones may
    /// take messages for the new (the table drops its cached matches).
    fn subscriptions_changed(&mut self, ctx: &mut AgentContext<Self>) {
        self.flush_all(ctx);
    }

    /// Routes one envelope: de-duplication (unless redriven), matching, the
    /// open batch of its lane.
    pub(crate) fn route(
        &mut self,
        envelope: Envelope<M>,
        check_duplicate: bool,
        ctx: &mut AgentContext<Self>,
    ) {
        // Whatever comes of it (a batch, a dead letter) leaves at the end
        // of the drain.
        self.schedule_flush(ctx);
        if check_duplicate
            && let Some(dedup) = &mut self.dedup
            && !dedup.first_time(envelope.id())
        {
            self.outbox.count_only(UndeliveredReason::Duplicate);
            return;
        }
        let matched = self.table.matching(envelope.topic());
        if matched.is_empty() {
            self.outbox
                .record(envelope, UndeliveredReason::NoSubscriber, None);
            return;
        }
        for group in matched.groups.iter() {
            self.settle_group(*group, ctx);
            if let Some(member) = self.table.pick(*group, envelope.key()) {
                self.add_for_member(member, envelope.clone(), ctx);
            }
        }
        if !matched.subs.is_empty() {
            self.add_to_batch(matched.subs.clone(), envelope, ctx);
        }
    }
}

impl<M: Send + Sync + 'static> Handler<Publish<M>> for Router<M> {
    type Result = ();

    fn handle(&mut self, publish: Publish<M>, ctx: &mut AgentContext<Self>) {
        self.counters.line().published();
        let id = publish.id.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        // A ttl counts from the publisher's call, stamped then.
        let at = publish.published_at.unwrap_or_else(Instant::now);
        let mut envelope = Envelope::published(id, publish.topic, publish.payload, at)
            .with_priority(publish.priority);
        if id.is_multiple_of(LATENCY_EVERY) {
            envelope.sampled = Some(self.counters.shared().clone());
        }
        if let Some(ttl) = publish.ttl {
            envelope = envelope.with_deadline(later(at, ttl));
        }
        if let Some(correlation) = publish.correlation {
            envelope = envelope.with_correlation(correlation);
        }
        if let Some(sender) = publish.sender {
            envelope = envelope.with_sender(sender);
        }
        if let Some(key) = publish.key {
            envelope = envelope.with_key(key);
        }
        self.route(envelope, true, ctx);
    }
}

impl<M: Send + Sync + 'static> Handler<Subscribe<M>> for Router<M> {
    type Result = u64;

    fn handle(&mut self, subscribe: Subscribe<M>, ctx: &mut AgentContext<Self>) -> u64 {
        self.subscriptions_changed(ctx);
        let id = subscribe.id;
        self.table.add(subscribe);
        id
    }
}

impl<M: Send + Sync + 'static> Handler<Unsubscribe> for Router<M> {
    type Result = bool;

    fn handle(&mut self, Unsubscribe(id): Unsubscribe, ctx: &mut AgentContext<Self>) -> bool {
        // What was published before the unsubscribe still goes out.
        self.subscriptions_changed(ctx);
        let found = self.remove_subscription(id.0, EndReason::Unsubscribed);
        self.post_undelivered(ctx);
        found
    }
}

impl<M: Send + Sync + 'static> Handler<Reroute<M>> for Router<M> {
    type Result = ();

    fn handle(&mut self, Reroute(envelopes): Reroute<M>, ctx: &mut AgentContext<Self>) {
        // Seen once already: not duplicates of themselves.
        for envelope in envelopes {
            self.route(envelope, false, ctx);
        }
    }
}

impl<M: Send + Sync + 'static> Handler<PostUndelivered> for Router<M> {
    type Result = ();

    fn handle(&mut self, _: PostUndelivered, ctx: &mut AgentContext<Self>) {
        // Open batches may hold expired messages: they count as given up.
        self.flush_all(ctx);
        self.post_undelivered(ctx);
    }
}

impl<M: Send + Sync + 'static> Lifecycle for Router<M> {
    fn restarted(&mut self, _: &agentix_runtime::ExitReason, _: &mut AgentContext<Self>) {
        // A timer scheduled by the old incarnation died with it.
        self.fanout.restarted();
        self.waiting.restarted();
        self.settling.restarted();
        self.outbox.restarted();
    }

    fn stopping(&mut self, ctx: &mut AgentContext<Self>) {
        self.post_undelivered(ctx);
    }
}

impl<M: Send + Sync + 'static> std::fmt::Debug for Router<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("subscriptions", &self.table.len())
            .field("undelivered", &self.outbox.total())
            .finish_non_exhaustive()
    }
}
