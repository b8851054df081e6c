//! An agent prepared but not yet started, and how its start is judged: the
//! same for one spawn and for a supervisor starting thousands in batches.

use super::{SpawnError, Swarm};
use crate::{Agent, AgentRef, ExitReason, agent::shared::AgentShared, agent::task::Launch};

/// What `launch.run()` on arbiter `arbiter` starts; it reports how in the
/// start slot it was prepared with.
pub(crate) struct Prepared<A: Agent> {
    pub(crate) launch: Launch<A>,
    pub(crate) agent: AgentRef<A>,
    pub(crate) arbiter: usize,
}

impl Swarm {
    /// Judges a start: `None` is a deadline passed, `Some(None)` a launch
    /// dropped unrun (its arbiter stopped), else the agent's own report.
    pub(crate) fn start_outcome(
        &self,
        shared: &AgentShared,
        started: Option<Option<Result<(), ExitReason>>>,
    ) -> Result<(), SpawnError> {
        let agent = shared.name().clone();
        match started {
            Some(Some(Ok(()))) => Ok(()),
            Some(Some(Err(reason))) => Err(SpawnError::StartFailed { agent, reason }),
            Some(None) => {
                shared.leave_roster();
                Err(SpawnError::SwarmStopped)
            }
            None => {
                shared.request_stop();
                Err(SpawnError::StartTimeout {
                    agent,
                    after: self.inner.config.start_timeout,
                })
            }
        }
    }
}
