//! The multicast router: publish on topics, fan out to subscriber agents in
//! batches of shared payloads.
//!
//! A [`RouterRef<M>`] is a running router carrying payloads of type `M`.
//! Topics use NATS syntax ([`Topic`], [`TopicPattern`]: `a.b.c`, `a.*.c`,
//! `a.>`), found through a pattern trie ([`TopicIndex`]) rather than a scan.
//!
//! Guarantees:
//!
//! - **Shared, batched payloads.** A subscriber receives [`Batch<M>`]: the
//!   deliveries of one mailbox message, in publish order (or one delivery
//!   at a time, with [`handle_deliveries!`](crate::handle_deliveries)). Subscribers with
//!   the same pending deliveries receive the same `Arc` batch; payloads are
//!   never cloned per subscriber. A batch leaves when it reaches
//!   [`RouterConfig::max_batch`] or at the end of the router's turn (its
//!   mailbox drained, or its budget or slice spent: see
//!   [`RouterConfig::budget`]), so batches stay small at low load and grow
//!   at high load.
//! - **Order** per (publisher, subscriber, [`Priority`] lane). Higher lanes
//!   are flushed first; a critical message leaves at once.
//! - **Isolation.** A subscriber whose mailbox is full, or whose window of
//!   messages in flight ([`SubscribeOptions::in_flight`]) is, gets its
//!   deliveries queued in the router, bounded, under its
//!   [`OverflowPolicy`]; the others are not held up.
//! - **Nothing lost silently.** What is not delivered is kept as
//!   [`Undelivered`] with its [`UndeliveredReason`] (no subscriber, closed,
//!   overflow, expired, retries exhausted; duplicates are counted) by the
//!   router's [`DeadLetters`] agent, bounded, queryable, countable and
//!   redrivable through the [`RouterRef`]. The shards post to it once per
//!   turn, not once per letter, and it keeps answering after the router
//!   has stopped.
//!
//! **Undelivered and the runtime's dead letters.** The swarm's
//! [`DeadLetterReason`] and [`UndeliveredReason`] are two layers, not two
//! words for one thing. The runtime's covers a message accepted into an
//! agent's mailbox and never handled; the router's covers a message the
//! router never got handled (it never reached a mailbox, or its
//! acknowledgement never came). Where they meet:
//!
//! | Router ([`UndeliveredReason`]) | Runtime ([`DeadLetterReason`]) |
//! |---|---|
//! | `Closed`: the subscriber was found stopped at hand-over, or ended with deliveries waiting in the router | `AgentStopped`: a batch was already in its mailbox when it stopped |
//! | `Expired`: the message's ttl passed before hand-over | `RequesterGone`: an ask's deadline passed before it was reached (the router tells, never asks, so its batches never get it) |
//! | `NoSubscriber`, `Overflow`, `RetriesExhausted`, `Duplicate` | none: only the router sees them |
//!
//! A batch left in a stopped subscriber's mailbox goes to the swarm's sink
//! as `AgentStopped`. Under at-least-once it is unanswered, so the router
//! sends it again and it ends as `Closed` (or `RetriesExhausted`) here too;
//! under at-most-once the swarm's sink is its only record.
//!
//! [`DeadLetterReason`]: agentix_runtime::DeadLetterReason
//!
//! - **Delivery modes** per subscription ([`DeliveryMode`]): at-most-once,
//!   or at-least-once, where the subscriber acknowledges each batch
//!   ([`Batch::ack`]) and a batch refused, dropped unanswered (a panicking
//!   handler) or not answered in time is sent again after a backoff, up to a
//!   limit ([`Retry`]), then kept as undelivered.
//!
//! - **Queue groups**: subscriptions with the same pattern and group name
//!   ([`SubscribeOptions::group`]) share its messages, one member per
//!   message, by [`GroupStrategy`]: round-robin, least-busy (fewest
//!   deliveries outstanding, answers collected before each pick),
//!   consistent hash on the message key ([`Publish::key`]), or weighted by
//!   outcomes. A member that stops leaves its group.
//!
//! - **Shards**: [`RouterRef::start_sharded`] spreads a router over several
//!   agents on the swarm's arbiters; subscriptions go to every shard, each
//!   reference publishes through one (clones take the next), so a
//!   publisher's order per subscriber holds and publishers share the load.

mod ack;
mod actor;
mod batch;
mod config;
mod credit;
mod dead_letters;
mod dedup;
mod ended;
mod envelope;
mod fanout;
mod group_name;
mod groups;
mod handle;
mod hash_ring;
mod messages;
mod queue_group;
mod refused;
mod settle;
mod stats;
mod subscriber;
mod subscriptions;
mod target;
pub(crate) mod topic;
mod trie;
mod undelivered;
mod waiting;

pub use ack::{DeliveryMode, Retry};
pub use actor::Router;
pub use batch::Batch;
pub use config::{MAX_DEDUP_WINDOW, MAX_DURATION, MAX_SHARDS, RouterConfig};
pub use credit::DEFAULT_IN_FLIGHT;
pub use dead_letters::DeadLetters;
pub use dedup::DedupWindow;
pub use ended::{EndReason, Ended};
pub use envelope::{Envelope, Priority};
pub use group_name::{GroupNameError, GroupNameProblem, MAX_GROUP_NAME_LEN};
pub use handle::RouterRef;
pub use messages::{Publish, SubscribeOptions, SubscriptionId};
pub use queue_group::{GroupStrategy, MAX_WEIGHT, MIN_WEIGHT, Outcome, QueueGroup};
pub use refused::{PublishError, SubscribeError};
pub use stats::{LATENCY_EVERY, LATENCY_TOPICS, OTHER_TOPICS, RouterCounts, RouterStats};
pub use subscriber::{OverflowPolicy, Pushed, SubscriberQueue};
pub use topic::{
    MAX_TOKENS, MAX_TOPIC_LEN, PatternToken, Topic, TopicError, TopicPattern, TopicProblem,
};
pub use trie::TopicIndex;
pub use undelivered::{Undelivered, UndeliveredFilter, UndeliveredReason, UndeliveredStore};
