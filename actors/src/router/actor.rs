//! The router agent: subscriptions, publishing and the questions about what
//! it could not deliver. Batching and hand-over live in `fanout.rs`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use actix::Handler;
use agentix_runtime::{AgentContext, AgentRef, Lifecycle};
use tokio::time::Instant;

use super::{
    DeadLetters, DedupWindow, DeliveryMode, EndReason, Envelope, RouterConfig, RouterStats,
    SubscriberQueue, Topic, TopicIndex, TopicPattern, UndeliveredReason, UndeliveredStore,
    ack::Unacked,
    config::later,
    credit::Window,
    dead_letters::Reroute,
    ended::EndedLog,
    fanout::Open,
    groups::{Entry, Groups, Matched},
    messages::{PostUndelivered, Publish, Subscribe, Unsubscribe},
    stats::LATENCY_EVERY,
    target::Target,
};

/// One subscription.
pub(crate) struct Sub<M> {
    pub(crate) pattern: TopicPattern,
    pub(crate) target: Box<dyn Target<M>>,
    /// Deliveries waiting while the subscriber's mailbox is full.
    pub(crate) queue: SubscriberQueue<Envelope<M>>,
    /// Under at-least-once: what is in flight and waiting for a retry.
    pub(crate) unacked: Option<Unacked<M>>,
    /// The bound on messages in flight to the subscriber.
    pub(crate) window: Window,
    /// The queue group it is a member of, if any.
    pub(crate) group: Option<u64>,
}

/// Limit of the topic → subscriptions cache: it is rebuilt from the index
/// on a miss, so dropping it only costs lookups.
const MATCH_CACHE: usize = 4096;

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
    pub(crate) config: RouterConfig,
    pub(crate) index: TopicIndex<Entry>,
    pub(crate) groups: Groups,
    pub(crate) subs: HashMap<u64, Sub<M>>,
    pub(crate) next_id: u64,
    /// Topic → matching subscriptions, sorted; emptied whenever the
    /// subscriptions change, so a shared `Arc` means "the same set".
    matches: HashMap<Topic, Arc<Matched>>,
    /// The distinct subscription sets in `matches`.
    sets: HashSet<Arc<[u64]>>,
    /// The broadcast batch being filled, per lane.
    pub(crate) open: [Option<Open<M>>; 4],
    /// Per lane, the deliveries picked for queue-group members.
    pub(crate) member_open: [Vec<(u64, Vec<Envelope<M>>)>; 4],
    pub(crate) flush_scheduled: bool,
    /// Subscriptions with deliveries waiting in their queue (maybe again,
    /// or emptied since).
    pub(crate) waiting: Vec<u64>,
    pub(crate) retry_scheduled: bool,
    pub(crate) ack_check_scheduled: bool,
    /// A blocking subscriber's queue overflowed: stop taking messages.
    pub(crate) must_hold: bool,
    /// The router is not taking messages until that queue has room.
    pub(crate) holding: bool,
    dedup: Option<DedupWindow>,
    /// What this shard gave up since it last posted to `dead_letters`.
    pub(crate) undelivered: UndeliveredStore<M>,
    pub(crate) dead_letters: AgentRef<DeadLetters<M>>,
    pub(crate) post_scheduled: bool,
    /// The counters this shard writes its line of.
    pub(crate) stats: Arc<RouterStats>,
    pub(crate) shard: usize,
    /// A hand-over was refused (queued) since the gauge was last set.
    pub(crate) queued_changed: bool,
    /// A reused buffer for the members of a group being settled.
    pub(crate) scratch: Vec<u64>,
    /// The emptied buffer of the last batch sent, for the next one.
    pub(crate) spare: Vec<Envelope<M>>,
    /// The latest subscriptions removed, for [`RouterRef::ended`] and so
    /// that batches picked for one before it went (later in the same flush,
    /// or the next chunk of a retry) are kept under its name. Ids are never
    /// reused, so a few recent ones are all that is needed.
    ///
    /// [`RouterRef::ended`]: super::RouterRef::ended
    pub(crate) ended: EndedLog,
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
            index: TopicIndex::new(),
            groups: Groups::default(),
            subs: HashMap::new(),
            next_id: 0,
            matches: HashMap::new(),
            sets: HashSet::new(),
            open: [None, None, None, None],
            member_open: Default::default(),
            flush_scheduled: false,
            waiting: Vec::new(),
            retry_scheduled: false,
            ack_check_scheduled: false,
            must_hold: false,
            holding: false,
            dedup: (config.dedup_window > 0).then(|| DedupWindow::new(config.dedup_window)),
            undelivered: UndeliveredStore::new(config.undelivered),
            dead_letters,
            post_scheduled: false,
            stats,
            shard,
            queued_changed: false,
            scratch: Vec::new(),
            spare: Vec::new(),
            ended: EndedLog::default(),
        }
    }

    fn matching(&mut self, topic: &Topic) -> Arc<Matched> {
        if let Some(found) = self.matches.get(topic) {
            return found.clone();
        }
        let entries = self.index.matching(topic).into_iter().copied();
        let mut found = Matched::from_entries(entries);
        // Topics reaching the same subscriptions share one set, so that
        // their messages share batches.
        match self.sets.get(&*found.subs) {
            Some(set) => found.subs = set.clone(),
            None => {
                self.sets.insert(found.subs.clone());
            }
        }
        if self.matches.len() >= MATCH_CACHE {
            self.clear_matches();
        }
        let found = Arc::new(found);
        self.matches.insert(topic.clone(), found.clone());
        found
    }

    /// Forgets every cached match; the next publish per topic asks the index.
    pub(crate) fn clear_matches(&mut self) {
        self.matches.clear();
        self.sets.clear();
    }

    /// The subscriptions changed: nothing cached or open may outlive that.
    fn subscriptions_changed(&mut self, ctx: &mut AgentContext<Self>) {
        self.flush_all(ctx);
        self.clear_matches();
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
            self.undelivered.count_only(UndeliveredReason::Duplicate);
            return;
        }
        let matched = self.matching(envelope.topic());
        if matched.is_empty() {
            self.undelivered
                .record(envelope, UndeliveredReason::NoSubscriber, None);
            return;
        }
        for group in matched.groups.iter() {
            self.settle_group(*group, ctx);
            if let Some(member) = self.groups.pick(*group, envelope.key()) {
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
        self.stats.shards[self.shard].published();
        let id = publish.id.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        // A ttl counts from the publisher's call, stamped then.
        let at = publish.published_at.unwrap_or_else(Instant::now);
        let mut envelope = Envelope::published(id, publish.topic, publish.payload, at)
            .with_priority(publish.priority);
        if id.is_multiple_of(LATENCY_EVERY) {
            envelope.sampled = Some(self.stats.clone());
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
        let options = subscribe.options;
        let group = match &options.group {
            None => {
                self.index.insert(&subscribe.pattern, Entry::Sub(id));
                None
            }
            Some((name, strategy)) => {
                let (group, new) = self.groups.join(&subscribe.pattern, name, *strategy, id);
                if new {
                    self.index.insert(&subscribe.pattern, Entry::Group(group));
                }
                Some(group)
            }
        };
        self.subs.insert(
            id,
            Sub {
                pattern: subscribe.pattern,
                target: subscribe.target,
                queue: SubscriberQueue::new(options.queue, options.overflow),
                window: Window::new(
                    options.in_flight,
                    options.delivery == DeliveryMode::AtMostOnce,
                ),
                unacked: match options.delivery {
                    DeliveryMode::AtMostOnce => None,
                    DeliveryMode::AtLeastOnce(retry) => Some(Unacked::new(retry)),
                },
                group,
            },
        );
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
        self.flush_scheduled = false;
        self.retry_scheduled = false;
        self.ack_check_scheduled = false;
        self.holding = false;
        self.post_scheduled = false;
    }

    fn stopping(&mut self, ctx: &mut AgentContext<Self>) {
        self.post_undelivered(ctx);
    }
}

impl<M: Send + Sync + 'static> std::fmt::Debug for Router<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("subscriptions", &self.subs.len())
            .field("undelivered", &self.undelivered.total())
            .finish_non_exhaustive()
    }
}
