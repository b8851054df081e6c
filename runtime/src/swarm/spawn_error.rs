//! [`SpawnError`]: why an agent, or a child of a supervisor, did not start.

use std::{fmt, time::Duration};

use crate::{AgentName, ConfigError, ExitReason, NameError, TreeError};

/// Why an agent could not be spawned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The name breaks the naming rules.
    Name(NameError),
    /// A live agent of the swarm already has this name (names are unique
    /// among agents that have not stopped for good, supervisors and their
    /// children included, as Erlang's registered names are).
    NameTaken {
        /// The name.
        name: AgentName,
    },
    /// A supervision tree is malformed: duplicate ids, unknown dependencies,
    /// a dependency cycle.
    Tree(TreeError),
    /// A supervisor could not start one of its children; the children it
    /// had started were stopped again.
    Child {
        /// The supervisor.
        supervisor: AgentName,
        /// The child that failed to start.
        child: AgentName,
        /// Why.
        cause: Box<SpawnError>,
    },
    /// A setting of this spawn cannot work.
    Config(ConfigError),
    /// The arbiter asked for does not exist.
    NoSuchArbiter {
        /// The index asked for.
        index: usize,
        /// How many arbiters the swarm has.
        arbiters: usize,
    },
    /// The swarm is shutting down or has shut down.
    SwarmStopped,
    /// The factory or the `started` hook panicked, or the agent stopped
    /// before it finished starting.
    StartFailed {
        /// The agent.
        agent: AgentName,
        /// How its first incarnation ended.
        reason: ExitReason,
    },
    /// The agent had not started when the swarm's start timeout passed; it
    /// has been asked to stop.
    StartTimeout {
        /// The agent.
        agent: AgentName,
        /// The timeout.
        after: Duration,
    },
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(err) => fmt::Display::fmt(err, f),
            Self::NameTaken { name } => write!(
                f,
                "an agent named `{name}` is already running in this swarm; \
                 the name is free again once it has stopped for good"
            ),
            Self::Tree(err) => fmt::Display::fmt(err, f),
            Self::Child {
                supervisor,
                child,
                cause,
            } => write!(
                f,
                "supervisor `{supervisor}` could not start child `{child}`: {cause}"
            ),
            Self::Config(err) => fmt::Display::fmt(err, f),
            Self::NoSuchArbiter { index, arbiters } => write!(
                f,
                "no arbiter {index}: the swarm has {arbiters} (indices 0..{arbiters})"
            ),
            Self::SwarmStopped => f.write_str("the swarm is shut down; no agent can be spawned"),
            Self::StartFailed { agent, reason } => {
                write!(f, "agent `{agent}` failed to start: {reason}")
            }
            Self::StartTimeout { agent, after } => {
                write!(f, "agent `{agent}` had not started after {after:?}")
            }
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Name(err) => Some(err),
            Self::Tree(err) => Some(err),
            Self::Child { cause, .. } => Some(&**cause),
            Self::Config(err) => Some(err),
            Self::StartFailed { reason, .. } => reason.failure().map(|f| f as _),
            _ => None,
        }
    }
}

impl From<NameError> for SpawnError {
    fn from(err: NameError) -> Self {
        Self::Name(err)
    }
}

impl From<ConfigError> for SpawnError {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}
