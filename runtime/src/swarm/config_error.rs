//! [`ConfigError`]: a swarm or spawn setting that cannot work.

use std::fmt;

use super::config::{MAX_ARBITERS, MAX_EVENT_BUFFER, MAX_MAILBOX};

/// A swarm or spawn setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Zero arbiters: agents would have nowhere to run.
    ZeroArbiters,
    /// More arbiters than [`MAX_ARBITERS`].
    TooManyArbiters {
        /// The number asked for.
        requested: usize,
    },
    /// A mailbox of capacity zero could never accept a message.
    ZeroMailbox,
    /// A mailbox larger than [`MAX_MAILBOX`].
    MailboxTooLarge {
        /// The capacity asked for.
        requested: usize,
    },
    /// An event buffer of zero could hold no event.
    ZeroEventBuffer,
    /// An event buffer larger than [`MAX_EVENT_BUFFER`].
    EventBufferTooLarge {
        /// The number of events asked for.
        requested: usize,
    },
    /// A per-turn budget of zero messages would never handle one.
    ZeroBudget,
    /// A timeout of zero would fail every request at once.
    ZeroTimeout {
        /// Which setting.
        setting: &'static str,
    },
    /// A restart intensity with an empty window.
    ZeroIntensityWindow,
    /// A size or count above its documented maximum: the built-in actors'
    /// settings (a router's de-duplication window or shard count, say).
    TooLarge {
        /// Which setting.
        setting: &'static str,
        /// The value asked for.
        requested: usize,
        /// The largest allowed.
        max: usize,
    },
    /// `Swarm::start` was called outside an actix system.
    NoSystem,
    /// The operating system refused to start an arbiter thread.
    ArbiterStart {
        /// The system's error, as text.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroArbiters => f.write_str("invalid swarm config: arbiters must be at least 1"),
            Self::TooManyArbiters { requested } => write!(
                f,
                "invalid swarm config: {requested} arbiters requested, at most {MAX_ARBITERS} allowed"
            ),
            Self::ZeroMailbox => f.write_str("invalid config: a mailbox capacity must be at least 1"),
            Self::MailboxTooLarge { requested } => write!(
                f,
                "invalid config: mailbox capacity {requested} exceeds the maximum {MAX_MAILBOX}"
            ),
            Self::ZeroEventBuffer => {
                f.write_str("invalid swarm config: the event buffer must hold at least 1 event")
            }
            Self::EventBufferTooLarge { requested } => write!(
                f,
                "invalid swarm config: event buffer of {requested} exceeds the maximum {MAX_EVENT_BUFFER}"
            ),
            Self::ZeroBudget => f.write_str(
                "invalid config: a per-turn budget must be at least 1 message (usize::MAX for no limit)",
            ),
            Self::ZeroTimeout { setting } => {
                write!(f, "invalid config: {setting} must be longer than zero")
            }
            Self::ZeroIntensityWindow => {
                f.write_str("invalid config: the restart intensity window must be longer than zero")
            }
            Self::TooLarge {
                setting,
                requested,
                max,
            } => write!(
                f,
                "invalid config: {setting} {requested} exceeds the maximum {max}"
            ),
            Self::NoSystem => f.write_str(
                "Swarm::start must run inside an actix system: use #[agentix::main] or #[agentix::test]",
            ),
            Self::ArbiterStart { reason } => write!(f, "could not start an arbiter thread: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}
