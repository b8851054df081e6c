//! The one import most code needs: `use agentix::prelude::*;`.
//!
//! It brings the agent model, the swarm, the errors (`SpawnError` and
//! `ConfigError` included), lifecycle `Event`s, and actix's context
//! traits (anonymously, for `ctx.stop()`, `ctx.spawn(..)` and friends).

pub use agentix_runtime::{
    Agent, AgentContext, AgentMessage, AgentRef, AgentStatus, AskError, Backoff, ChildSpec,
    ConfigError, Event, ExitReason, Failure, Intensity, Lifecycle, Restart, SendError, SpawnError,
    Strategy, SupervisorRef, SupervisorSpec, Swarm, SwarmConfig,
};

#[cfg(feature = "macros")]
pub use agentix_macros::{Agent, handle, handlers};

pub use agentix_runtime::__private::actix::{ActorContext as _, AsyncContext as _};
