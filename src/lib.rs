#![doc = include_str!("../README.md")]
//!
//! # Crate map
//!
//! | item | what for |
//! |---|---|
//! | [`derive@Agent`], [`handlers`], [`handle`] | define agents and their typed messages |
//! | [`Swarm`], [`SwarmConfig`] | run agents on a pool of arbiters; shut them down |
//! | [`AgentRef`], [`Ask`], [`Call`], [`TellWait`] | talk to an agent: tell, ask, call, each with a deadline |
//! | [`AgentContext`], [`Lifecycle`] | inside an agent: identity, hooks, actix context methods |
//! | [`AskError`], [`SendError`], [`SpawnError`], [`Error`] | typed errors naming the agent |
//! | [`Failure`], [`ExitReason`], [`Restart`], [`Intensity`] | failures and what follows them |
//! | [`DeadLetter`], [`DeadLetterSink`] | messages accepted but never handled |
//! | [`actix`] | the actix this crate is built on, for hand-written handlers |
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | yes | `#[derive(Agent)]`, `#[handlers]`, `#[handle]`, `#[agentix::main]`, `#[agentix::test]` |
//!
//! Sending a message the agent has no handler for does not compile:
//!
//! ```compile_fail
//! use agentix::prelude::*;
//!
//! #[derive(Agent, Default)]
//! struct Quiet;
//!
//! struct Unknown;
//! impl agentix::actix::Message for Unknown { type Result = (); }
//!
//! fn send(quiet: &QuietRef) {
//!     let _ = quiet.tell(Unknown); // Quiet has no handler for Unknown
//! }
//! ```
#![doc(test(attr(deny(warnings))))]

pub use agentix_runtime::*;

/// The actix crate agentix is built on, re-exported so hand-written handlers
/// use the same version.
pub use agentix_runtime::private::actix;

/// The built-in actors: registry, multicast router, dead-letter store and
/// monitor, arriving with the next issues.
pub use agentix_actors as actors;

#[cfg(feature = "macros")]
pub use agentix_macros::{Agent, handle, handlers, main, test};

pub mod prelude;

#[doc(hidden)]
pub mod __private {
    pub use agentix_runtime::private::*;
}
