//! The agentix runtime: agents on actix, with panics caught, restarts in
//! place at the same address, typed asks with deadlines, and the swarm that
//! hosts them. Use it through the `agentix` facade, which adds the macros.
//!
//! | module | what it holds |
//! |---|---|
//! | [`Agent`], [`Lifecycle`], [`AgentMessage`] | the agent model the macros implement |
//! | [`AgentContext`] | the actix context agents run in; identity, restart count |
//! | [`AgentRef`], [`Ask`], [`Call`], [`TellWait`] | addresses and requests, each with a deadline |
//! | [`SendError`], [`AskError`], [`Error`] | typed errors naming the agent; tells hand the message back |
//! | [`Failure`], [`ExitReason`], [`Restart`], [`Intensity`] | what failed, why an incarnation ended, what happens next |
//! | [`Swarm`], [`SwarmConfig`], [`Spawn`] | arbiters, placement, spawn, shutdown |
//! | [`DeadLetter`], [`DeadLetterSink`], [`DeadLetterLog`] | messages accepted but never handled, with the reason |
//!
//! How a message travels and where each guarantee is enforced is described in
//! `docs/architecture.md` and `docs/semantics.md`.

mod address;
mod agent;
mod budget;
mod context;
pub mod correlation;
mod dead_letter;
mod deadline;
mod envelope;
mod error;
mod failure;
mod fault;
mod holding;
mod metrics;
mod name;
#[doc(hidden)]
pub mod private;
mod request;
mod restart;
mod send_error;
mod shared;
mod start_latch;
mod supervision;
mod swarm;
mod task;
#[cfg(feature = "testkit")]
pub mod testkit;
mod turns;

pub use address::AgentRef;
pub use agent::{Agent, AgentMessage, Lifecycle};
pub use budget::TURN_SLICE;
pub use context::AgentContext;
pub use correlation::CorrelationId;
pub use dead_letter::{DeadLetter, DeadLetterLog, DeadLetterReason, DeadLetterSink};
pub use deadline::MAX_DURATION;
pub use error::{AskError, BoxError, Error, Result};
pub use failure::{During, Escalation, ExitReason, Failure};
pub use metrics::{Activity, BUCKETS, Histogram, HistogramSnapshot, KindCensus, TIMING_EVERY};
pub use name::{AgentName, MAX_NAME_LEN, NameError, NameProblem};
pub use request::{Ask, Call, TellWait};
pub use restart::{Intensity, Restart};
pub use send_error::{SendError, SendErrorKind};
pub use shared::AgentStatus;
pub use supervision::{
    Backoff, ChildInfo, ChildSpec, DEFAULT_SHUTDOWN_TIMEOUT, Event, EventError, Events,
    LifecycleEvent, StopReport, Strategy, Supervisor, SupervisorBuilder, SupervisorRef,
    SupervisorSpec, TreeError,
};
pub use swarm::{
    ConfigError, DEFAULT_BUDGET, MAX_ARBITERS, MAX_EVENT_BUFFER, MAX_MAILBOX, ShutdownError,
    ShutdownReport, Spawn, SpawnError, Swarm, SwarmConfig, SwarmMetrics,
};
