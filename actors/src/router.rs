//! The multicast router: topics in NATS syntax, an index of subscriptions,
//! and (as they land) batched fan-out of shared payloads to subscriber
//! agents.
//!
//! Built so far: [`Topic`] and [`TopicPattern`] with their validation, and
//! [`TopicIndex`], the pattern trie that finds every subscription matching a
//! topic without scanning them all.

mod dedup;
mod envelope;
mod hash_ring;
mod queue_group;
mod subscriber;
mod topic;
mod trie;
mod undelivered;

pub use dedup::DedupWindow;
pub use envelope::{Envelope, Priority};
pub use queue_group::{GroupStrategy, MAX_WEIGHT, MIN_WEIGHT, Outcome, QueueGroup};
pub use subscriber::{OverflowPolicy, Pushed, SubscriberQueue};
pub use topic::{
    MAX_TOKENS, MAX_TOPIC_LEN, PatternToken, Topic, TopicError, TopicPattern, TopicProblem,
};
pub use trie::TopicIndex;
pub use undelivered::{Undelivered, UndeliveredFilter, UndeliveredReason, UndeliveredStore};
