//! Messages the router could not deliver, with the reason: a bounded store
//! with counts by reason, queries, and hand-back for redrive.

use std::{collections::VecDeque, fmt};

use agentix_runtime::AgentName;
use tokio::time::Instant;

use super::{Envelope, TopicPattern};

/// Why a message was not delivered. Ordered as [`ALL`](Self::ALL) lists
/// them, so that counts by reason keep a fixed order in a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum UndeliveredReason {
    /// No subscription matched its topic.
    NoSubscriber,
    /// The subscriber had stopped for good, or its mailbox was closed.
    Closed,
    /// The subscriber's queue in the router was full.
    Overflow,
    /// Past its deadline before it could be delivered.
    Expired,
    /// Not acknowledged after the last retry (at-least-once).
    RetriesExhausted,
    /// Its id was seen within the de-duplication window.
    Duplicate,
}

impl UndeliveredReason {
    /// Every reason, in a fixed order.
    pub const ALL: [Self; 6] = [
        Self::NoSubscriber,
        Self::Closed,
        Self::Overflow,
        Self::Expired,
        Self::RetriesExhausted,
        Self::Duplicate,
    ];

    /// A short snake_case label, stable for metrics.
    pub const fn label(self) -> &'static str {
        match self {
            Self::NoSubscriber => "no_subscriber",
            Self::Closed => "closed",
            Self::Overflow => "overflow",
            Self::Expired => "expired",
            Self::RetriesExhausted => "retries_exhausted",
            Self::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for UndeliveredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One undelivered message: its envelope, why, and for whom.
#[derive(Debug)]
pub struct Undelivered<M> {
    /// The message as it was to be delivered.
    pub envelope: Envelope<M>,
    /// Why it was not.
    pub reason: UndeliveredReason,
    /// The subscriber it was meant for, when there was one.
    pub subscriber: Option<AgentName>,
    /// When it was given up.
    pub at: Instant,
}

impl<M> Clone for Undelivered<M> {
    fn clone(&self) -> Self {
        Self {
            envelope: self.envelope.clone(),
            reason: self.reason,
            subscriber: self.subscriber.clone(),
            at: self.at,
        }
    }
}

/// Which undelivered messages a query or a redrive is about.
#[derive(Debug, Clone, Default)]
pub struct UndeliveredFilter {
    reason: Option<UndeliveredReason>,
    topic: Option<TopicPattern>,
}

impl UndeliveredFilter {
    /// Every message.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only those given up for `reason`.
    pub fn reason(mut self, reason: UndeliveredReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Only those whose topic matches `pattern`.
    pub fn topic(mut self, pattern: TopicPattern) -> Self {
        self.topic = Some(pattern);
        self
    }

    fn admits<M>(&self, letter: &Undelivered<M>) -> bool {
        self.reason.is_none_or(|reason| reason == letter.reason)
            && self
                .topic
                .as_ref()
                .is_none_or(|pattern| pattern.matches(letter.envelope.topic()))
    }
}

/// The last `capacity` undelivered messages, and counts by reason of all of
/// them (counts include those evicted, and those dropped by a policy whose
/// payload is not kept).
///
/// ```
/// use std::sync::Arc;
/// use agentix_actors::router::{
///     Envelope, Topic, UndeliveredFilter, UndeliveredReason, UndeliveredStore,
/// };
///
/// let mut store = UndeliveredStore::new(100);
/// let envelope = Envelope::new(1, Topic::new("orders.eu").unwrap(), Arc::new("order"));
/// store.record(envelope, UndeliveredReason::Expired, None);
/// store.count_only(UndeliveredReason::Overflow);
/// assert_eq!(store.count(UndeliveredReason::Expired), 1);
/// assert_eq!(store.count(UndeliveredReason::Overflow), 1);
/// let redrive = store.take(&UndeliveredFilter::all().reason(UndeliveredReason::Expired));
/// assert_eq!(redrive.len(), 1);
/// assert!(store.is_empty());
/// ```
#[derive(Debug)]
pub struct UndeliveredStore<M> {
    letters: VecDeque<Undelivered<M>>,
    capacity: usize,
    counts: [u64; UndeliveredReason::ALL.len()],
    evicted: u64,
}

impl<M> UndeliveredStore<M> {
    /// A store keeping the last `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            letters: VecDeque::new(),
            capacity: capacity.max(1),
            counts: [0; UndeliveredReason::ALL.len()],
            evicted: 0,
        }
    }

    /// Keeps `envelope` as undelivered for `reason` (evicting the oldest
    /// when full) and counts it.
    pub fn record(
        &mut self,
        envelope: Envelope<M>,
        reason: UndeliveredReason,
        subscriber: Option<AgentName>,
    ) {
        self.counts[reason as usize] += 1;
        if self.letters.len() == self.capacity {
            self.letters.pop_front();
            self.evicted += 1;
        }
        self.letters.push_back(Undelivered {
            envelope,
            reason,
            subscriber,
            at: Instant::now(),
        });
    }

    /// The counts by reason, in [`UndeliveredReason::ALL`]'s order.
    pub fn counts(&self) -> [u64; UndeliveredReason::ALL.len()] {
        self.counts
    }

    /// Takes in everything `other` kept and counted (the router's shards
    /// collect in a store of their own and hand it over whole); the oldest
    /// are evicted past the capacity.
    pub fn absorb(&mut self, other: UndeliveredStore<M>) {
        for (total, count) in self.counts.iter_mut().zip(other.counts) {
            *total += count;
        }
        self.evicted += other.evicted;
        self.letters.extend(other.letters);
        self.trim();
    }

    /// Puts letters taken out with [`take`](Self::take) back, ahead of the
    /// newer ones, without counting them again (a redrive that could not
    /// be made).
    pub fn restore(&mut self, letters: Vec<Undelivered<M>>) {
        let newer = std::mem::take(&mut self.letters);
        self.letters = letters.into();
        self.letters.extend(newer);
        self.trim();
    }

    fn trim(&mut self) {
        let over = self.letters.len().saturating_sub(self.capacity);
        self.letters.drain(..over);
        self.evicted += over as u64;
    }

    /// Counts one undelivered message whose payload is not kept.
    pub fn count_only(&mut self, reason: UndeliveredReason) {
        self.counts[reason as usize] += 1;
    }

    /// How many were given up for `reason`, kept or not.
    pub fn count(&self, reason: UndeliveredReason) -> u64 {
        self.counts[reason as usize]
    }

    /// How many were given up, for any reason.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// How many kept messages were evicted to make room.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The kept messages `filter` admits, oldest first.
    pub fn query(&self, filter: &UndeliveredFilter) -> Vec<&Undelivered<M>> {
        self.letters.iter().filter(|l| filter.admits(l)).collect()
    }

    /// Takes the kept messages `filter` admits out of the store, oldest
    /// first, to redrive them. Counts stay.
    pub fn take(&mut self, filter: &UndeliveredFilter) -> Vec<Undelivered<M>> {
        let (taken, kept) = std::mem::take(&mut self.letters)
            .into_iter()
            .partition(|l| filter.admits(l));
        self.letters = kept;
        taken.into()
    }

    /// How many messages are kept.
    pub fn len(&self) -> usize {
        self.letters.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.letters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::router::Topic;

    fn envelope(id: u64, topic: &str) -> Envelope<u64> {
        Envelope::new(id, Topic::new(topic).unwrap(), Arc::new(id))
    }

    #[test]
    fn keeps_the_newest_and_counts_them_all() {
        let mut store = UndeliveredStore::new(3);
        for id in 0..5 {
            store.record(envelope(id, "a"), UndeliveredReason::Closed, None);
        }
        store.count_only(UndeliveredReason::Overflow);
        assert_eq!(store.len(), 3);
        assert_eq!(store.evicted(), 2);
        assert_eq!(store.count(UndeliveredReason::Closed), 5);
        assert_eq!(store.total(), 6);
        let ids: Vec<_> = store
            .query(&UndeliveredFilter::all())
            .iter()
            .map(|l| l.envelope.id())
            .collect();
        assert_eq!(ids, [2, 3, 4]);
    }

    #[test]
    fn queries_and_takes_by_reason_and_topic() {
        let mut store = UndeliveredStore::new(10);
        store.record(envelope(1, "orders.eu"), UndeliveredReason::Expired, None);
        store.record(envelope(2, "orders.us"), UndeliveredReason::Expired, None);
        store.record(envelope(3, "orders.eu"), UndeliveredReason::Overflow, None);
        let eu = UndeliveredFilter::all().topic(TopicPattern::new("orders.eu").unwrap());
        assert_eq!(store.query(&eu).len(), 2);
        let expired_eu = eu.reason(UndeliveredReason::Expired);
        let taken = store.take(&expired_eu);
        assert_eq!(
            taken.iter().map(|l| l.envelope.id()).collect::<Vec<_>>(),
            [1]
        );
        let left: Vec<_> = store
            .query(&UndeliveredFilter::all())
            .iter()
            .map(|l| l.envelope.id())
            .collect();
        assert_eq!(left, [2, 3], "order kept");
        assert_eq!(store.count(UndeliveredReason::Expired), 2, "counts stay");
    }

    fn ids(store: &UndeliveredStore<u64>) -> Vec<u64> {
        let all = store.query(&UndeliveredFilter::all());
        all.iter().map(|l| l.envelope.id()).collect()
    }

    #[test]
    fn absorbing_a_shard_store_adds_its_counts_once_and_keeps_the_newest() {
        let mut central = UndeliveredStore::new(3);
        central.record(envelope(1, "a"), UndeliveredReason::Closed, None);
        let mut shard = UndeliveredStore::new(3);
        for id in 2..5 {
            shard.record(envelope(id, "a"), UndeliveredReason::Expired, None);
        }
        shard.count_only(UndeliveredReason::Duplicate);
        central.absorb(shard);
        assert_eq!(ids(&central), [2, 3, 4]);
        assert_eq!(central.evicted(), 1);
        assert_eq!(central.count(UndeliveredReason::Closed), 1);
        assert_eq!(central.count(UndeliveredReason::Expired), 3);
        assert_eq!(central.total(), 5);
    }

    #[test]
    fn restored_letters_go_back_ahead_of_newer_ones_uncounted() {
        let mut store = UndeliveredStore::new(3);
        for id in 1..3 {
            store.record(envelope(id, "a"), UndeliveredReason::Closed, None);
        }
        let taken = store.take(&UndeliveredFilter::all());
        store.record(envelope(3, "a"), UndeliveredReason::Overflow, None);
        store.restore(taken);
        assert_eq!(ids(&store), [1, 2, 3]);
        assert_eq!(store.total(), 3, "restoring counts nothing again");
        store.record(envelope(4, "a"), UndeliveredReason::Overflow, None);
        assert_eq!(ids(&store), [2, 3, 4]);
    }

    #[test]
    fn every_reason_has_a_distinct_label() {
        let mut labels: Vec<_> = UndeliveredReason::ALL.iter().map(|r| r.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), UndeliveredReason::ALL.len());
    }
}
