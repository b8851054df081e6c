//! The crate-wide payload-free [`Error`]: every agentix error converts into
//! it, so `?` works from every API.

use std::fmt;

use crate::{
    AgentName, AskError, BoxError, ConfigError, NameError, SendError, SendErrorKind, ShutdownError,
    SpawnError,
};

/// Any agentix error, without payloads: `Send + Sync + 'static`, so `?` works
/// from every API into [`Result`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An invalid agent name.
    Name(NameError),
    /// An invalid swarm or spawn configuration.
    Config(ConfigError),
    /// An agent could not be spawned.
    Spawn(SpawnError),
    /// A tell failed; the message was dropped on conversion to this error.
    Send {
        /// The agent the message was for.
        agent: AgentName,
        /// What went wrong.
        kind: SendErrorKind,
    },
    /// An ask failed; a handler's own error is boxed.
    Ask(AskError<BoxError>),
    /// The swarm could not shut down cleanly.
    Shutdown(ShutdownError),
    /// An error of a built-in actor (an invalid topic, say), as its own
    /// type in [`source`](std::error::Error::source).
    Actor(BoxError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(err) => fmt::Display::fmt(err, f),
            Self::Config(err) => fmt::Display::fmt(err, f),
            Self::Spawn(err) => fmt::Display::fmt(err, f),
            Self::Send { agent, kind } => match kind {
                SendErrorKind::Full => write!(f, "mailbox of agent `{agent}` is full"),
                SendErrorKind::Closed => write!(f, "agent `{agent}` has stopped"),
                SendErrorKind::Timeout => {
                    write!(
                        f,
                        "mailbox of agent `{agent}` stayed full until the deadline"
                    )
                }
            },
            Self::Ask(err) => fmt::Display::fmt(err, f),
            Self::Shutdown(err) => fmt::Display::fmt(err, f),
            Self::Actor(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Name(err) => Some(err),
            Self::Config(err) => Some(err),
            Self::Spawn(err) => Some(err),
            Self::Ask(AskError::Panicked(failure)) => Some(failure),
            Self::Ask(AskError::Handler { error, .. }) => Some(error.as_ref()),
            Self::Ask(_) => None,
            Self::Shutdown(err) => Some(err),
            Self::Actor(err) => Some(err.as_ref()),
            Self::Send { .. } => None,
        }
    }
}

impl From<NameError> for Error {
    fn from(err: NameError) -> Self {
        Self::Name(err)
    }
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}

impl From<SpawnError> for Error {
    fn from(err: SpawnError) -> Self {
        Self::Spawn(err)
    }
}

impl From<ShutdownError> for Error {
    fn from(err: ShutdownError) -> Self {
        Self::Shutdown(err)
    }
}

impl<M> From<SendError<M>> for Error {
    fn from(err: SendError<M>) -> Self {
        Self::Send {
            kind: err.kind(),
            agent: err.agent().clone(),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<AskError<E>> for Error {
    fn from(err: AskError<E>) -> Self {
        Self::Ask(err.map_handler(|error| Box::new(error) as BoxError))
    }
}

/// `Result` with the crate-wide [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
