//! Subscriptions that ended, and where in the stream they ended: what was
//! published before is the subscriber's (delivered or kept as undelivered
//! for it), what came after was never routed to it.

use std::collections::VecDeque;

use actix::Handler;
use agentix_runtime::{AgentContext, AgentName, AskError};

use super::{Envelope, Router, RouterRef, SubscriptionId, UndeliveredReason};

/// How many ended subscriptions a shard remembers.
pub(crate) const ENDED_KEPT: usize = 64;

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// [`RouterRef::unsubscribe`](super::RouterRef::unsubscribe) ended it.
    Unsubscribed,
    /// A hand-over found its subscriber stopped for good (a restarted
    /// subscriber keeps its address and its subscriptions).
    Stopped,
}

/// A subscription a router shard ended, from
/// [`RouterRef::ended`](super::RouterRef::ended).
///
/// The router learns that a subscriber stopped when it next hands it a
/// batch; until then it keeps routing to it. `routed_until` is where the
/// shard's numbering stood when the subscription went: every message the
/// shard numbered up to it ([`Envelope::id`]) and routed to the
/// subscription (each that matched its pattern; in a queue group, each
/// picked for this member) was delivered or is kept as undelivered for the
/// subscriber; later ones were not routed to it at all.
///
/// [`Envelope::id`]: super::Envelope::id
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ended {
    /// The subscription.
    pub subscription: SubscriptionId,
    /// Its subscriber.
    pub subscriber: AgentName,
    /// Why it ended.
    pub reason: EndReason,
    /// The shard that numbered the messages (see [`RouterRef::shard`]).
    ///
    /// [`RouterRef::shard`]: super::RouterRef::shard
    pub shard: usize,
    /// The id of the last message the shard numbered before it ended.
    pub routed_until: u64,
}

/// The last [`ENDED_KEPT`] subscriptions a shard ended, oldest first.
#[derive(Debug, Default)]
pub(crate) struct EndedLog(VecDeque<Ended>);

impl EndedLog {
    pub(crate) fn push(&mut self, ended: Ended) {
        if self.0.len() == ENDED_KEPT {
            self.0.pop_front();
        }
        self.0.push_back(ended);
    }

    /// The subscriber of subscription `id`, if it ended recently: batches
    /// picked for it before it went are kept as undelivered under its name.
    pub(crate) fn subscriber(&self, id: u64) -> Option<&AgentName> {
        let ended = self.0.iter().rev().find(|ended| ended.subscription.0 == id);
        ended.map(|ended| &ended.subscriber)
    }
}

/// Asks a shard for the subscriptions it ended.
pub(crate) struct QueryEnded;

impl actix::Message for QueryEnded {
    type Result = Vec<Ended>;
}

impl<M: Send + Sync + 'static> Handler<QueryEnded> for Router<M> {
    type Result = Vec<Ended>;

    fn handle(&mut self, _: QueryEnded, _: &mut AgentContext<Self>) -> Vec<Ended> {
        self.ended.0.iter().cloned().collect()
    }
}

impl<M: Send + Sync + 'static> RouterRef<M> {
    /// The subscriptions ended lately (the last 64 per shard), by
    /// unsubscribing or because the subscriber stopped for good, each with
    /// where its shard's numbering stood: what the subscriber is owed.
    ///
    /// ```
    /// use agentix::{actix, prelude::*};
    /// use agentix::actors::router::{Batch, EndReason, RouterConfig, RouterRef};
    ///
    /// #[derive(Agent, Default)]
    /// struct Sink;
    ///
    /// impl actix::Handler<Batch<u64>> for Sink {
    ///     type Result = ();
    ///     fn handle(&mut self, _: Batch<u64>, _: &mut AgentContext<Self>) {}
    /// }
    ///
    /// # #[agentix::main]
    /// # async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default())?;
    /// let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    /// let sink = swarm.spawn("sink", || Sink).await?;
    /// let id = router.subscribe("jobs.>", &sink).await?;
    /// router.publish("jobs.a", 1)?;
    /// router.publish("jobs.b", 2)?;
    /// router.unsubscribe(id).await?;
    /// let ended = router.ended().await?;
    /// assert_eq!(ended[0].reason, EndReason::Unsubscribed);
    /// assert_eq!(ended[0].routed_until, 2, "both were routed to it");
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ended(&self) -> Result<Vec<Ended>, AskError> {
        let mut ended = Vec::new();
        for shard in self.shard_agents() {
            ended.extend(shard.call(QueryEnded).await?);
        }
        Ok(ended)
    }
}

impl<M: Send + Sync + 'static> Router<M> {
    /// Subscription `id` has stopped for good: it goes, and so do `items`
    /// and whatever waited for it, as dead letters.
    pub(crate) fn gone(&mut self, id: u64, items: impl Iterator<Item = Envelope<M>>) {
        let name = (self.table.get(id).map(|sub| sub.target.name()))
            .or_else(|| self.ended.subscriber(id))
            .cloned();
        for item in items {
            self.outbox
                .record(item, UndeliveredReason::Closed, name.clone());
        }
        self.remove_subscription(id, EndReason::Stopped);
    }

    /// Removes subscription `id`; what waited for it becomes undelivered
    /// (`Closed`). `true` if it existed.
    pub(crate) fn remove_subscription(&mut self, id: u64, end: EndReason) -> bool {
        let reason = UndeliveredReason::Closed;
        let Some(mut sub) = self.table.remove(id) else {
            return false;
        };
        // Deliveries picked for it and not sent yet.
        let name = sub.target.name().clone();
        for item in self.fanout.take_picked(id) {
            self.outbox.record(item, reason, Some(name.clone()));
        }
        self.ended.push(Ended {
            subscription: SubscriptionId(id),
            subscriber: name.clone(),
            reason: end,
            shard: self.counters.shard(),
            routed_until: self.next_id,
        });
        let mut waiting: Vec<_> = sub.queue.drain(usize::MAX).collect();
        if let Some(unacked) = &mut sub.unacked {
            waiting.extend(unacked.abandon());
        }
        for item in waiting {
            self.outbox.record(item, reason, Some(name.clone()));
        }
        self.count_queued();
        true
    }
}
