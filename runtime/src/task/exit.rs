//! What follows an ended incarnation: the agent's own policy when it has no
//! supervisor, its supervisor's otherwise.

use std::time::Duration;

use tokio::time::Instant;

use super::{AgentTask, Next, Owner, Phase, child_exit, final_status};
use crate::{
    Agent, AgentStatus, Event, ExitReason,
    supervision::{Decision, Link},
};

impl<A: Agent> AgentTask<A> {
    /// The current incarnation has ended: why, and what comes next.
    pub(super) fn after_incarnation(&mut self) -> Next {
        let Some(fut) = self.fut.as_mut() else {
            return Next::End;
        };
        let ctx = fut.ctx();
        let stopping = std::mem::take(&mut self.stopping);
        let parking = std::mem::take(&mut self.parking);
        let reason = match ctx.core.exit.take() {
            Some(reason) => reason,
            None if stopping || parking => ExitReason::Shutdown,
            None => ExitReason::Normal,
        };
        if reason.is_failure() {
            self.shared.publish(Event::Failed {
                reason: reason.clone(),
            });
        }
        // Never started: the spawn reports it; restarting would hide it.
        let never_started = ctx.core.started_tx.is_some();
        ctx.core.restart_cause = Some(reason.clone());
        if never_started || stopping {
            self.exit = Some((final_status(&reason), reason));
            return Next::End;
        }
        if parking {
            // Ended at its supervisor's word: the directive says what next.
            return Next::Phase(Phase::Waiting);
        }
        match &self.owner {
            Owner::Alone { .. } => self.decide_alone(reason),
            Owner::Supervisor(link) => self.decide_supervised(&link.clone(), reason),
        }
    }

    /// No supervisor: the agent's restart type and intensity decide.
    fn decide_alone(&mut self, reason: ExitReason) -> Next {
        if !self.restart.restarts_after(&reason) {
            if matches!(reason, ExitReason::Escalated(_)) {
                // A top-level supervisor gave up: nobody above can restart it.
                self.shared.publish(Event::GaveUp {
                    reason: reason.clone(),
                });
            }
            self.exit = Some((final_status(&reason), reason));
            return Next::End;
        }
        let Owner::Alone { intensity, history } = &mut self.owner else {
            return Next::End;
        };
        let history = history.get_or_insert_default();
        if !history.try_restart(*intensity, Instant::now()) {
            tracing::error!(
                agent = %self.shared.name(),
                intensity = %intensity,
                "restart intensity exceeded; the agent gives up"
            );
            self.exit = Some((AgentStatus::Failed, reason));
            return Next::End;
        }
        Next::Restart {
            delay: Duration::ZERO,
        }
    }

    /// Under a supervisor: decide here when its policy allows, else report
    /// and wait for its directive.
    fn decide_supervised(&mut self, link: &Link, reason: ExitReason) -> Next {
        match link.core.decide(link.key, self.restart, &reason) {
            Decision::End => {
                self.exit = Some((final_status(&reason), reason));
                Next::End
            }
            Decision::Restart { delay } => Next::Restart { delay },
            Decision::Defer => {
                // Waiting before the report: the supervisor takes a report
                // from a child that is not waiting for stale.
                self.shared.set_status(AgentStatus::Waiting);
                if link
                    .core
                    .report(child_exit(link, &self.shared, reason.clone()))
                {
                    Next::Phase(Phase::Waiting)
                } else {
                    // The supervisor is gone: nobody would ever decide.
                    self.exit = Some((final_status(&reason), reason));
                    Next::End
                }
            }
        }
    }
}
