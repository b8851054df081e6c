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
    Msg: actix::Message + Send + 'static,
    Msg::Result: Send,
{
    fn deliver(&self, batch: Batch<M>) -> Result<(), Refused> {
        #[cfg(feature = "testkit")]
        let batch = {
            use agentix_runtime::testkit::{Intercepted, intercept};
            match intercept(&self.agent, batch) {
                Intercepted::Deliver(batch) => batch,
                Intercepted::Dropped => return Ok(()),
                Intercepted::Delayed(batch, after) => {
                    // Handed over as far as the router knows. A late tell
                    // that fails drops the batch: unanswered, so an
                    // at-least-once subscription sends it again.
                    let (agent, msg) = (self.agent.clone(), (self.wrap)(batch));
                    actix::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = agent.tell(msg);
                    });
                    return Ok(());
                }
            }
        };
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
