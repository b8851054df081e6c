//! The ways an ask can fail, and the boxed error handlers may return.

use std::{convert::Infallible, fmt, time::Duration};

use crate::{AgentName, Failure};

/// A boxed error as handlers may return them, kept `Send + Sync`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The ways an ask can fail. `E` is the error type of a handler that returns
/// `Result<T, E>`; it reaches the caller typed, in [`AskError::Handler`].
///
/// Every ask has a deadline, so a caller always ends with a reply or one of
/// these; it never hangs.
///
/// ```
/// # use agentix::prelude::*;
/// # use std::time::Duration;
/// #[derive(Agent, Default)]
/// struct Calc;
///
/// #[derive(Debug, PartialEq)]
/// struct DivByZero;
///
/// impl std::fmt::Display for DivByZero {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("division by zero")
///     }
/// }
///
/// impl std::error::Error for DivByZero {}
///
/// #[handlers]
/// impl Calc {
///     #[handle]
///     fn div(&mut self, a: u32, b: u32) -> Result<u32, DivByZero> {
///         a.checked_div(b).ok_or(DivByZero)
///     }
///     #[handle]
///     fn crash(&mut self) {
///         panic!("on purpose")
///     }
/// }
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let calc = swarm.spawn("calc", Calc::default).await?;
/// assert_eq!(calc.div(6, 3).await?, 2);
/// match calc.div(1, 0).await {
///     Err(AskError::Handler { error, .. }) => assert_eq!(error, DivByZero),
///     other => panic!("{other:?}"),
/// }
/// match calc.crash().await {
///     Err(AskError::Panicked(failure)) => assert_eq!(failure.panic_text(), "on purpose"),
///     other => panic!("{other:?}"),
/// }
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum AskError<E = Infallible> {
    /// No reply came before the deadline.
    Timeout {
        /// The agent asked.
        agent: AgentName,
        /// The deadline that passed.
        after: Duration,
    },
    /// The agent stopped for good before replying (or was stopped already).
    Closed {
        /// The agent asked.
        agent: AgentName,
    },
    /// The handler panicked; the agent was stopped (and restarted, if enabled).
    Panicked(Failure),
    /// The handler returned `Err(error)`.
    Handler {
        /// The agent asked.
        agent: AgentName,
        /// The handler's own error.
        error: E,
    },
    /// The deadline could not be enforced: this thread has no actix arbiter
    /// and no tokio runtime with timers. Await asks inside a runtime.
    NoTimer {
        /// The agent asked.
        agent: AgentName,
    },
    /// An agent's handler awaited an ask to its own agent while holding its
    /// mailbox (a sync handler, or a serial async handler): the reply could
    /// only come after the handler returns, so the ask fails at once rather
    /// than at its deadline (or never, for a handler blocking its thread).
    /// The message stays queued and is skipped as a dead letter
    /// ([`RequesterGone`](crate::DeadLetterReason::RequesterGone)). Ask
    /// yourself from a `#[handle(concurrent)]` handler, or use `tell`.
    OwnMailbox {
        /// The agent asked (and asking).
        agent: AgentName,
    },
}

impl<E> AskError<E> {
    /// The agent that was asked.
    pub fn agent(&self) -> &AgentName {
        match self {
            Self::Timeout { agent, .. }
            | Self::Closed { agent }
            | Self::Handler { agent, .. }
            | Self::NoTimer { agent }
            | Self::OwnMailbox { agent } => agent,
            Self::Panicked(failure) => failure.agent(),
        }
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// The handler's own error, if that is what this is.
    pub fn into_handler_error(self) -> Option<E> {
        match self {
            Self::Handler { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Transforms the handler error, keeping the rest.
    pub fn map_handler<F>(self, f: impl FnOnce(E) -> F) -> AskError<F> {
        match self {
            Self::Timeout { agent, after } => AskError::Timeout { agent, after },
            Self::Closed { agent } => AskError::Closed { agent },
            Self::Panicked(failure) => AskError::Panicked(failure),
            Self::Handler { agent, error } => AskError::Handler {
                agent,
                error: f(error),
            },
            Self::NoTimer { agent } => AskError::NoTimer { agent },
            Self::OwnMailbox { agent } => AskError::OwnMailbox { agent },
        }
    }
}

impl<E: fmt::Display> fmt::Display for AskError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { agent, after } => {
                write!(f, "ask to agent `{agent}` got no reply within {after:?}")
            }
            Self::Closed { agent } => {
                write!(
                    f,
                    "agent `{agent}` stopped before replying (its mailbox is closed)"
                )
            }
            Self::Panicked(failure) => fmt::Display::fmt(failure, f),
            Self::Handler { agent, error } => {
                write!(f, "handler of agent `{agent}` returned an error: {error}")
            }
            Self::NoTimer { agent } => write!(
                f,
                "ask to agent `{agent}` cannot enforce its deadline: await it inside an actix or tokio runtime with timers"
            ),
            Self::OwnMailbox { agent } => write!(
                f,
                "agent `{agent}` asked itself from a handler holding its mailbox; the reply could only come after that handler returns (ask from a concurrent handler, or tell)"
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AskError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Panicked(failure) => Some(failure),
            Self::Handler { error, .. } => Some(error),
            _ => None,
        }
    }
}
