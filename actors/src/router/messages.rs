//! The messages a router handles: publish, subscribe, unsubscribe, and the
//! questions about what it could not deliver.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use agentix_runtime::{AgentName, AgentRef, CorrelationId};
use tokio::time::Instant;

use super::{
    DEFAULT_IN_FLIGHT, DeliveryMode, GroupStrategy, MAX_DURATION, OverflowPolicy, Priority, Router,
    Topic, TopicPattern, Undelivered, UndeliveredFilter, UndeliveredReason, target::Target,
};

/// A message to publish, with its options.
///
/// ```
/// use std::time::Duration;
/// use agentix_actors::router::{Priority, Publish, Topic};
///
/// let publish = Publish::new(Topic::new("market.eu.btc").unwrap(), 42_u64)
///     .priority(Priority::High)
///     .ttl(Duration::from_millis(500))
///     .correlation(agentix_runtime::CorrelationId::new(17).unwrap());
/// # let _ = publish;
/// ```
pub struct Publish<M> {
    pub(crate) topic: Topic,
    pub(crate) payload: Arc<M>,
    pub(crate) priority: Priority,
    pub(crate) ttl: Option<Duration>,
    /// When a publish with a ttl was made ([`RouterRef::send`]), so that
    /// time spent in the router's mailbox counts against it. Without a ttl
    /// the router's own clock reading serves, and the publisher pays none.
    ///
    /// [`RouterRef::send`]: super::RouterRef::send
    pub(crate) published_at: Option<Instant>,
    pub(crate) id: Option<u64>,
    pub(crate) correlation: Option<CorrelationId>,
    pub(crate) sender: Option<AgentName>,
    pub(crate) key: Option<Arc<[u8]>>,
}

impl<M> Publish<M> {
    /// `payload` on `topic`, normal priority, no deadline.
    pub fn new(topic: Topic, payload: M) -> Self {
        Self::shared(topic, Arc::new(payload))
    }

    /// A payload already shared.
    pub fn shared(topic: Topic, payload: Arc<M>) -> Self {
        Self {
            topic,
            payload,
            priority: Priority::Normal,
            ttl: None,
            published_at: None,
            id: None,
            correlation: agentix_runtime::correlation::current(),
            sender: None,
            key: None,
        }
    }

    /// The key a consistent-hash queue group picks its member by: messages
    /// with one key go to one member.
    pub fn key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Some(Arc::from(key.as_ref()));
        self
    }

    /// In lane `priority`.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Not delivered later than `ttl` after publishing; kept as
    /// undelivered ([`UndeliveredReason::Expired`]) instead.
    ///
    /// Publishing is the call to [`RouterRef::send`] or
    /// [`send_wait`](super::RouterRef::send_wait): the time the message
    /// then waits in the router's mailbox (and for room in it) counts. A
    /// `Publish` told to the router agent directly counts from when the
    /// router takes it. A `ttl` longer than [`MAX_DURATION`] (about 30
    /// years) is taken as `MAX_DURATION`: no clock overflow, and no expiry
    /// in practice; [`Duration::ZERO`] expires at once.
    ///
    /// [`RouterRef::send`]: super::RouterRef::send
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl.min(MAX_DURATION));
        self
    }

    /// Stamps the publishing time when a ttl needs it: one clock reading,
    /// on the publisher's thread, only for messages that can expire.
    pub(crate) fn stamp(&mut self) {
        if self.ttl.is_some() {
            self.published_at = Some(Instant::now());
        }
    }

    /// The message id, for de-duplication; by default the router numbers
    /// messages itself.
    pub fn id(mut self, id: u64) -> Self {
        self.id = Some(id);
        self
    }

    /// A correlation id carried in every delivery's envelope. Without
    /// one, a publish carries the current id of the thread it is made on
    /// ([`correlation::current`](agentix_runtime::correlation::current)):
    /// published from a handler, the message's own.
    pub fn correlation(mut self, correlation: CorrelationId) -> Self {
        self.correlation = Some(correlation);
        self
    }

    /// The publishing agent, carried in every delivery's envelope.
    pub fn sender(mut self, sender: AgentName) -> Self {
        self.sender = Some(sender);
        self
    }
}

impl<M> std::fmt::Debug for Publish<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publish")
            .field("topic", &self.topic)
            .field("priority", &self.priority)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<M: Send + Sync + 'static> actix::Message for Publish<M> {
    type Result = ();
}

/// Identifies one subscription of a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub(crate) u64);

/// Options of a subscription.
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    pub(crate) queue: usize,
    pub(crate) overflow: OverflowPolicy,
    pub(crate) in_flight: usize,
    pub(crate) delivery: DeliveryMode,
    pub(crate) group: Option<(Arc<str>, GroupStrategy)>,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        Self {
            queue: 4096,
            overflow: OverflowPolicy::default(),
            in_flight: DEFAULT_IN_FLIGHT,
            delivery: DeliveryMode::AtMostOnce,
            group: None,
        }
    }
}

impl SubscribeOptions {
    /// At most `capacity` messages wait in the router for this subscriber
    /// while its mailbox is full (default 4096); then `overflow` applies.
    pub fn queue(mut self, capacity: usize, overflow: OverflowPolicy) -> Self {
        self.queue = capacity.max(1);
        self.overflow = overflow;
        self
    }

    /// At most `messages` handed to the subscriber and not yet done with
    /// (default [`DEFAULT_IN_FLIGHT`], at least 1; `usize::MAX` for no
    /// bound), per router shard. Done means dropped by its handler under
    /// at-most-once, acknowledged (or given up) under at-least-once. The
    /// rest waits in the router's queue for the subscriber
    /// ([`queue`](Self::queue)), where the overflow policy decides what
    /// survives, and goes out as the subscriber catches up. One batch
    /// always goes when nothing is in flight, even one larger than this.
    ///
    /// ```
    /// use agentix_actors::router::{OverflowPolicy, SubscribeOptions};
    ///
    /// // After a stall, at most 64 stale messages, then the newest 1,000.
    /// let freshest = SubscribeOptions::default()
    ///     .in_flight(64)
    ///     .queue(1_000, OverflowPolicy::DropOldest);
    /// # let _ = freshest;
    /// ```
    pub fn in_flight(mut self, messages: usize) -> Self {
        self.in_flight = messages.max(1);
        self
    }

    /// At-most-once (the default) or at-least-once with acknowledgements.
    pub fn delivery(mut self, mode: DeliveryMode) -> Self {
        self.delivery = mode;
        self
    }

    /// Joins the queue group `name` of this pattern: each message goes to
    /// one of its members, picked by `strategy` (the group's first member
    /// sets it). Without a group, the subscription gets every message.
    ///
    /// `name` is 1 to [`MAX_GROUP_NAME_LEN`](super::MAX_GROUP_NAME_LEN)
    /// bytes of `A-Z a-z 0-9 - _ . :`; the subscription checks it, and
    /// fails with [`SubscribeError::Group`](super::SubscribeError::Group)
    /// otherwise.
    pub fn group(mut self, name: &str, strategy: GroupStrategy) -> Self {
        self.group = Some((Arc::from(name), strategy));
        self
    }
}

pub(crate) struct Subscribe<M> {
    /// Chosen by the reference, the same on every shard.
    pub(crate) id: u64,
    pub(crate) pattern: TopicPattern,
    pub(crate) target: Box<dyn Target<M>>,
    pub(crate) options: SubscribeOptions,
}

impl<M: Send + Sync + 'static> actix::Message for Subscribe<M> {
    /// The subscription's id (a [`SubscriptionId`] to the caller).
    type Result = u64;
}

pub(crate) struct Unsubscribe(pub(crate) SubscriptionId);

impl actix::Message for Unsubscribe {
    type Result = bool;
}

pub(crate) struct QueryUndelivered<M>(
    pub(crate) UndeliveredFilter,
    pub(crate) std::marker::PhantomData<fn() -> M>,
);

impl<M: Send + Sync + 'static> actix::Message for QueryUndelivered<M> {
    type Result = Vec<Undelivered<M>>;
}

pub(crate) struct Redrive<M: Send + Sync + 'static> {
    pub(crate) filter: UndeliveredFilter,
    /// The shard to route the letters through.
    pub(crate) router: AgentRef<Router<M>>,
}

impl<M: Send + Sync + 'static> actix::Message for Redrive<M> {
    /// How many letters went back to the router.
    type Result = usize;
}

/// Asks a shard to post what it gave up to the dead letters now, so that a
/// question asked after this one sees it.
pub(crate) struct PostUndelivered;

impl actix::Message for PostUndelivered {
    type Result = ();
}

pub(crate) struct Counts;

impl actix::Message for Counts {
    type Result = BTreeMap<UndeliveredReason, u64>;
}
