//! Where an agent is in its life, as every reference and monitor reads it.

/// Where an agent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentStatus {
    /// Spawned; its factory and `started` hook have not finished yet.
    Starting,
    /// Handling messages.
    Running,
    /// An incarnation ended and the next one is being started in place
    /// (possibly after a backoff delay). Messages sent now are queued.
    Restarting,
    /// An incarnation ended and the agent waits for its supervisor's
    /// decision (during a group restart or an escalation). Messages sent now
    /// are queued.
    Waiting,
    /// Stopping for good.
    Stopping,
    /// Ended for good without a failure (stopped itself, or shut down).
    Stopped,
    /// Ended for good after a failure it was not restarted from.
    Failed,
}

impl AgentStatus {
    pub(crate) fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Starting,
            1 => Self::Running,
            2 => Self::Restarting,
            3 => Self::Waiting,
            4 => Self::Stopping,
            5 => Self::Stopped,
            _ => Self::Failed,
        }
    }

    /// Whether the agent has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Stopped | Self::Failed)
    }
}
