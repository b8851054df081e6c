//! What follows an ended incarnation: the agent's own policy when it has no
//! supervisor, its supervisor's otherwise.

use std::time::Duration;

use tokio::time::Instant;

use super::{AgentTask, Next, Owner, Phase, child_exit, final_status};
use crate::{
    Agent, AgentStatus, Event, ExitReason, Intensity, Restart,
    agent::overseer::{Decision, Link},
    agent::shared::AgentShared,
    restart::{RestartWindow, Verdict, decide},
};

/// An agent without a supervisor: its restart type and intensity decide.
struct Alone<'a> {
    shared: &'a AgentShared,
    restart: Restart,
    intensity: Intensity,
}

impl Alone<'_> {
    /// `Ok` to restart now, or how the agent ends.
    fn decide(
        &self,
        window: &mut RestartWindow,
        reason: ExitReason,
    ) -> Result<(), (AgentStatus, ExitReason)> {
        match decide(
            self.restart,
            &reason,
            self.intensity,
            window,
            Instant::now(),
        ) {
            Verdict::Restart => Ok(()),
            Verdict::End => {
                if matches!(reason, ExitReason::Escalated(_)) {
                    // A top-level supervisor gave up: nobody above can restart it.
                    self.shared.publish(Event::GaveUp {
                        reason: reason.clone(),
                    });
                }
                Err((final_status(&reason), reason))
            }
            Verdict::OverIntensity => {
                tracing::error!(
                    agent = %self.shared.name(),
                    intensity = %self.intensity,
                    "restart intensity exceeded; the agent gives up"
                );
                Err((AgentStatus::Failed, reason))
            }
        }
    }
}

impl<A: Agent> AgentTask<A> {
    /// The current incarnation has ended: why, and what comes next.
    pub(super) fn after_incarnation(&mut self) -> Next {
        let Some(fut) = self.fut.as_mut() else {
            return Next::End;
        };
        let ctx = fut.ctx();
        let stopping = std::mem::take(&mut self.stopping);
        let parking = std::mem::take(&mut self.parking);
        let forced = std::mem::take(&mut self.forced);
        self.draining = false;
        let reason = match ctx.core.exit.take() {
            Some(reason) => reason,
            None if forced => ExitReason::Killed,
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
        let link = match &mut self.owner {
            Owner::Alone { intensity, window } => {
                let alone = Alone {
                    shared: &self.shared,
                    restart: self.restart,
                    intensity: *intensity,
                };
                return match alone.decide(window, reason) {
                    Ok(()) => Next::Restart {
                        delay: Duration::ZERO,
                    },
                    Err(exit) => {
                        self.exit = Some(exit);
                        Next::End
                    }
                };
            }
            Owner::Supervisor(link) => link.clone(),
        };
        self.decide_supervised(&link, reason)
    }

    /// Under a supervisor: decide here when its policy allows, else report
    /// and wait for its directive.
    fn decide_supervised(&mut self, link: &Link, reason: ExitReason) -> Next {
        match link.overseer.decide(link.key, self.restart, &reason) {
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
                    .overseer
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
