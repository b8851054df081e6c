//! An agent's end: its context and mailbox dropped (queued messages become
//! dead letters), then the one end-of-life routine every agent goes through,
//! also one whose first factory call failed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use actix::ActorContext;

use super::AgentTask;
use crate::{
    Agent, AgentStatus, Event, ExitReason, agent::shared::AgentShared,
    agent::start_latch::StartSlot, dead_letter,
};

impl<A: Agent> AgentTask<A> {
    /// Ends the agent: drops its context and mailbox (queued messages become
    /// dead letters), then tells everyone waiting.
    pub(super) fn finish(&mut self) {
        let (status, reason) = self
            .exit
            .take()
            .unwrap_or((AgentStatus::Stopped, ExitReason::Shutdown));
        let mut never_started = None;
        if let Some(mut fut) = self.fut.take() {
            never_started = fut.ctx().core.started_tx.take();
            // Stop first, so a still-running context does not re-run hooks
            // when actix's drop polls it one last time.
            fut.ctx().stop();
            let shared = &self.shared;
            dead_letter::draining(shared.name(), &shared.dead_letters, || {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(fut))) {
                    crate::failure::discard(payload);
                }
            });
        }
        end_for_good(
            &self.shared,
            self.on_end.take().map(|on_end| *on_end),
            never_started,
            status,
            reason,
        );
    }
}

/// The one end of every agent, whether its task ran or its first factory
/// call failed: the end hook, its counts handed to its kind, out of the
/// roster, the spawner told if it never started, `Stopped` published, and
/// then the waiters woken.
pub(crate) fn end_for_good(
    shared: &AgentShared,
    on_end: Option<super::OnEnd>,
    never_started: Option<StartSlot>,
    status: AgentStatus,
    reason: ExitReason,
) {
    // Leave the swarm's roster before waking waiters, so whoever awaited
    // the end sees the agent gone from it too.
    if let Some(on_end) = on_end {
        on_end();
    }
    shared.retire();
    shared.leave_roster();
    // Never started: the spawner learns why from here.
    if let Some(tx) = never_started {
        tx.report(Err(reason.clone()));
    }
    shared.publish(Event::Stopped {
        reason: reason.clone(),
    });
    shared.end(status, reason);
}

impl<A: Agent> Drop for AgentTask<A> {
    fn drop(&mut self) {
        // Dropped while still running: its arbiter is being torn down. Told
        // to stop by force, or still finishing a handler: that is forced.
        if self.fut.is_some() {
            let forced = self.draining || self.shared.kill_requested();
            let reason = if forced {
                ExitReason::Killed
            } else {
                ExitReason::Shutdown
            };
            self.exit = Some((AgentStatus::Stopped, reason));
            self.finish();
        }
    }
}
