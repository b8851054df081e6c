//! The error of a tell: which agent, what happened, and the message back.

use std::{fmt, time::Duration};

use crate::AgentName;

/// A tell that could not be queued. The message is handed back in every case,
/// so nothing is lost: retry it, route it elsewhere, or drop it knowingly.
///
/// `Debug` does not require `M: Debug`.
///
/// ```
/// # use agentix::prelude::*;
/// # use std::future::Future;
/// # use tokio::sync::oneshot;
/// #[derive(Agent, Default)]
/// #[agent(mailbox = 2)]
/// struct Slow;
///
/// #[handlers]
/// impl Slow {
///     /// Busy until `until` fires (async handlers hold the mailbox).
///     #[handle]
///     fn busy(&mut self, until: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
///         async move {
///             let _ = until.await;
///         }
///     }
///
///     #[handle]
///     fn work(&mut self, n: u32) -> u32 {
///         n
///     }
/// }
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let slow = swarm.spawn("slow", Slow::default).await?;
/// let (done, until) = oneshot::channel();
/// slow.tell(Busy { until })?;
/// let mut handed_back = None;
/// for n in 0..10 {
///     if let Err(err) = slow.tell(Work { n }) {
///         assert!(err.is_full());
///         handed_back = Some(err.into_inner()); // the message, not lost
///         break;
///     }
/// }
/// assert!(handed_back.is_some());
/// # drop(done); // a shutdown lets `busy` finish (up to its timeout)
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[non_exhaustive]
pub enum SendError<M> {
    /// The agent's mailbox is at capacity.
    Full {
        /// The agent the message was for.
        agent: AgentName,
        /// The message, handed back.
        msg: M,
    },
    /// The agent has stopped for good; its mailbox is closed.
    Closed {
        /// The agent the message was for.
        agent: AgentName,
        /// The message, handed back.
        msg: M,
    },
    /// No room came free in the mailbox before the deadline of a waiting send.
    Timeout {
        /// The agent the message was for.
        agent: AgentName,
        /// How long the send waited.
        after: Duration,
        /// The message, handed back.
        msg: M,
    },
}

/// The kind of a [`SendError`], without its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendErrorKind {
    /// See [`SendError::Full`].
    Full,
    /// See [`SendError::Closed`].
    Closed,
    /// See [`SendError::Timeout`].
    Timeout,
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::Full { msg, .. } | Self::Closed { msg, .. } | Self::Timeout { msg, .. } => msg,
        }
    }

    /// The agent the message was for.
    pub fn agent(&self) -> &AgentName {
        match self {
            Self::Full { agent, .. } | Self::Closed { agent, .. } | Self::Timeout { agent, .. } => {
                agent
            }
        }
    }

    /// What went wrong, without the message.
    pub fn kind(&self) -> SendErrorKind {
        match self {
            Self::Full { .. } => SendErrorKind::Full,
            Self::Closed { .. } => SendErrorKind::Closed,
            Self::Timeout { .. } => SendErrorKind::Timeout,
        }
    }

    /// Whether the mailbox was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full { .. })
    }

    /// Whether the agent has stopped for good.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }

    /// Transforms the handed-back message, keeping the rest.
    pub fn map_msg<N>(self, f: impl FnOnce(M) -> N) -> SendError<N> {
        match self {
            Self::Full { agent, msg } => SendError::Full { agent, msg: f(msg) },
            Self::Closed { agent, msg } => SendError::Closed { agent, msg: f(msg) },
            Self::Timeout { agent, after, msg } => SendError::Timeout {
                agent,
                after,
                msg: f(msg),
            },
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(match self {
            Self::Full { .. } => "Full",
            Self::Closed { .. } => "Closed",
            Self::Timeout { .. } => "Timeout",
        });
        out.field("agent", self.agent());
        if let Self::Timeout { after, .. } = self {
            out.field("after", after);
        }
        out.field("msg", &std::any::type_name::<M>()).finish()
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = std::any::type_name::<M>();
        match self {
            Self::Full { agent, .. } => write!(
                f,
                "mailbox of agent `{agent}` is full; the {message} was handed back to the sender"
            ),
            Self::Closed { agent, .. } => write!(
                f,
                "agent `{agent}` has stopped; the {message} was handed back to the sender"
            ),
            Self::Timeout { agent, after, .. } => write!(
                f,
                "mailbox of agent `{agent}` stayed full for {after:?}; the {message} was handed back to the sender"
            ),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct NotDebug(u8);

    #[test]
    fn hands_the_message_back_and_names_the_agent() {
        let agent = AgentName::new("pump").unwrap();
        let err = SendError::Full {
            agent,
            msg: NotDebug(9),
        };
        assert!(err.is_full());
        assert_eq!(err.kind(), SendErrorKind::Full);
        let text = err.to_string();
        assert!(
            text.contains("`pump`") && text.contains("NotDebug") && text.contains("full"),
            "{text}"
        );
        assert!(format!("{err:?}").starts_with("Full { agent: \"pump\""));
        assert_eq!(err.map_msg(|m| m.0 + 1).into_inner(), 10);
    }
}
