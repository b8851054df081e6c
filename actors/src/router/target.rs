//! A subscriber as the router sees it: somewhere to hand a batch, with its
//! agent type erased.

use agentix_runtime::{Agent, AgentName, AgentRef, SendError};

use super::Batch;

/// Why a subscriber did not take a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its mailbox is full: keep the batch and try again later.
    Full,
    /// It has stopped for good.
    Closed,
}

/// Hands batches to one subscriber agent.
pub(crate) trait Target<M>: Send {
    fn deliver(&self, batch: Batch<M>) -> Result<(), Refused>;
    fn name(&self) -> &AgentName;
}

/// An agent taking batches as `Msg` (a `#[handle]` method's message, or
/// [`Batch`] itself).
pub(crate) struct AgentTarget<A: Agent, W> {
    pub(crate) agent: AgentRef<A>,
    pub(crate) wrap: W,
}

impl<M, A, W, Msg> Target<M> for AgentTarget<A, W>
where
    M: Send + Sync + 'static,
    A: Agent + actix::Handler<Msg>,
    W: Fn(Batch<M>) -> Msg + Send + 'static,
    Msg: actix::Message<Result = ()> + Send + 'static,
{
    fn deliver(&self, batch: Batch<M>) -> Result<(), Refused> {
        match self.agent.tell((self.wrap)(batch)) {
            Ok(()) => Ok(()),
            Err(SendError::Full { .. }) => Err(Refused::Full),
            Err(_) => Err(Refused::Closed),
        }
    }

    fn name(&self) -> &AgentName {
        self.agent.name()
    }
}
