//! The registry: agents by name, capability and tag, and selection of one
//! agent for a job by load, health and score.
//!
//! A [`RegistryRef`] is a running registry (one agent per swarm is the
//! usual shape). Writes are messages to the registry agent: register one
//! agent or a batch of thousands in one message ([`Registration`]: name,
//! capabilities, tags, concurrency limit, metadata), deregister. Reads are
//! not: the agent publishes its indices (name shards, one candidate list
//! per capability and per tag) before answering a write, and lookups,
//! finds and selections read them on the caller's thread.
//!
//! - **Typed lookup**: [`RegistryRef::lookup::<A>`](RegistryRef::lookup)
//!   answers the agent as an `AgentRef<A>`, or [`LookupError::WrongType`]
//!   when it is another kind of agent.
//! - **Find and select** by a [`Query`] (all of its capabilities and tags),
//!   through the shortest of the query's lists: the cost does not grow with
//!   agents that do not match. [`Selection`]: round-robin, least-loaded,
//!   random, best score ([`Entry::score`]: load, success rate, response
//!   time). A [`Selected`] counts as load until finished; finishing reports
//!   the outcome.
//! - **Leaving**: an agent that stops for good leaves the registry (heard
//!   from the swarm's lifecycle events, and skipped by every read even
//!   before); a restarted one stays, at the same address.
//! - **Health**: every heartbeat interval ([`RegistryConfig::heartbeat`])
//!   the registry finds agents stuck in one handler for two intervals (or,
//!   for those that [report heartbeats](Registration::reports_heartbeat),
//!   silent for two) and marks them unhealthy, with a [`HealthEvent`];
//!   they recover at the next sign of life. Unhealthy agents (or marked so
//!   by hand, [`Entry::set_unhealthy`]) and agents at their limit are not
//!   selected.

mod actor;
mod entry;
mod handle;
mod health;
mod index;
pub(crate) mod label;
mod select;

pub use actor::Registry;
pub use entry::{Entry, Health, Registration, SCORE_LATENCY_SCALE};
pub use handle::{LookupError, QueryError, RegisterError, RegistryRef};
pub use health::{HealthEvent, HealthEvents, MISSED_BEATS, RegistryConfig};
pub use label::{Label, LabelError, LabelProblem, MAX_LABEL_LEN};
pub use select::{Query, Selected, Selection};
