//! What travels with each payload: the envelope a subscriber receives, and
//! the priority lane a message is published in.

use std::{fmt, sync::Arc};

use agentix_runtime::{AgentName, CorrelationId};
use tokio::time::Instant;

use super::{RouterStats, Topic};

/// The lane a message travels in. Higher lanes are flushed first, and a
/// critical message is sent at once, never batched behind others. Order is
/// kept per publisher, subscriber and lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    /// Sent at once, ahead of anything waiting.
    Critical,
    /// Flushed before normal and low.
    High,
    /// The default.
    #[default]
    Normal,
    /// Flushed last.
    Low,
}

impl Priority {
    /// Every lane, in flush order.
    pub const LANES: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// The lane's index in [`LANES`](Self::LANES).
    pub const fn lane(self) -> usize {
        self as usize
    }
}

/// One delivery: the shared payload and what is known about it. Cloning an
/// envelope never clones the payload.
///
/// ```
/// use std::sync::Arc;
/// use agentix_actors::router::{Envelope, Priority, Topic};
///
/// let topic = Topic::new("market.eu.btc").unwrap();
/// let envelope = Envelope::new(7, topic, Arc::new(42_u64)).with_priority(Priority::High);
/// let copy = envelope.clone();
/// assert!(Arc::ptr_eq(copy.payload_arc(), envelope.payload_arc()));
/// assert_eq!((copy.id(), *copy.payload(), copy.attempt()), (7, 42, 1));
/// ```
pub struct Envelope<M> {
    id: u64,
    topic: Topic,
    priority: Priority,
    published_at: Instant,
    deadline: Option<Instant>,
    correlation: Option<CorrelationId>,
    sender: Option<AgentName>,
    key: Option<Arc<[u8]>>,
    attempt: u32,
    payload: Arc<M>,
    /// Set on one publish in [`LATENCY_EVERY`](super::stats::LATENCY_EVERY):
    /// where its subscribers record publish-to-handle.
    pub(crate) sampled: Option<Arc<RouterStats>>,
}

impl<M> Envelope<M> {
    /// A first delivery of `payload`, published now, normal priority, no
    /// deadline.
    pub fn new(id: u64, topic: Topic, payload: Arc<M>) -> Self {
        Self::published(id, topic, payload, Instant::now())
    }

    /// A first delivery of `payload`, published at `at`.
    pub(crate) fn published(id: u64, topic: Topic, payload: Arc<M>, at: Instant) -> Self {
        Self {
            id,
            topic,
            priority: Priority::Normal,
            published_at: at,
            deadline: None,
            correlation: None,
            sender: None,
            key: None,
            attempt: 1,
            payload,
            sampled: None,
        }
    }

    /// With `key`, which picks the member of a consistent-hash queue group.
    pub fn with_key(mut self, key: Arc<[u8]>) -> Self {
        self.key = Some(key);
        self
    }

    /// The key, if the publisher gave one.
    pub fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }

    /// In lane `priority`.
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Not to be delivered after `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Carrying `correlation`, to follow it across hops.
    pub fn with_correlation(mut self, correlation: CorrelationId) -> Self {
        self.correlation = Some(correlation);
        self
    }

    /// Published by `sender`.
    pub fn with_sender(mut self, sender: AgentName) -> Self {
        self.sender = Some(sender);
        self
    }

    /// The same message, delivered once more.
    pub fn retry(&self) -> Self {
        let mut next = self.clone();
        next.attempt = next.attempt.saturating_add(1);
        next
    }

    /// The message id (unique per router unless the publisher chose it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The topic it was published on.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// Its lane.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// When it was published.
    pub fn published_at(&self) -> Instant {
        self.published_at
    }

    /// When it expires, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether it is past its deadline at `now`.
    pub fn expired_at(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline)
    }

    /// The correlation id, if any.
    pub fn correlation(&self) -> Option<CorrelationId> {
        self.correlation
    }

    /// The publishing agent, if it said.
    pub fn sender(&self) -> Option<&AgentName> {
        self.sender.as_ref()
    }

    /// Which delivery attempt this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The payload.
    pub fn payload(&self) -> &M {
        &self.payload
    }

    /// The payload's shared handle.
    pub fn payload_arc(&self) -> &Arc<M> {
        &self.payload
    }
}

impl<M> Clone for Envelope<M> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            topic: self.topic.clone(),
            priority: self.priority,
            published_at: self.published_at,
            deadline: self.deadline,
            correlation: self.correlation,
            sender: self.sender.clone(),
            key: self.key.clone(),
            attempt: self.attempt,
            payload: self.payload.clone(),
            sampled: self.sampled.clone(),
        }
    }
}

impl<M> fmt::Debug for Envelope<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .field("priority", &self.priority)
            .field("attempt", &self.attempt)
            .field("deadline", &self.deadline)
            .field("correlation", &self.correlation)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn lanes_flush_in_priority_order() {
        let mut lanes = Priority::LANES;
        lanes.sort();
        assert_eq!(lanes, Priority::LANES);
        assert_eq!(Priority::Critical.lane(), 0);
        assert_eq!(Priority::Low.lane(), 3);
        assert_eq!(Priority::default(), Priority::Normal);
    }

    #[tokio::test(start_paused = true)]
    async fn expires_at_its_deadline_and_not_before() {
        let topic = Topic::new("t").unwrap();
        let deadline = Instant::now() + Duration::from_millis(10);
        let envelope = Envelope::new(1, topic, Arc::new(())).with_deadline(deadline);
        assert!(!envelope.expired_at(Instant::now()));
        tokio::time::advance(Duration::from_millis(9)).await;
        assert!(!envelope.expired_at(Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(envelope.expired_at(Instant::now()));
        let forever = Envelope::new(2, Topic::new("t").unwrap(), Arc::new(()));
        assert!(!forever.expired_at(Instant::now() + Duration::from_secs(3600)));
    }

    #[test]
    fn a_retry_counts_the_attempt_and_shares_the_payload() {
        let id = CorrelationId::new(17).unwrap();
        let first = Envelope::new(1, Topic::new("t").unwrap(), Arc::new(5)).with_correlation(id);
        let second = first.retry().retry();
        assert_eq!(second.attempt(), 3);
        assert_eq!(second.correlation(), Some(id));
        assert!(Arc::ptr_eq(first.payload_arc(), second.payload_arc()));
    }
}
