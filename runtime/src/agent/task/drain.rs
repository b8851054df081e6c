//! An incarnation asked to end (a stop, or its supervisor's directive)
//! first lets the async handlers it is awaiting reply, up to its shutdown
//! timeout: the current message finishes, as OTP and Akka users expect.

use std::{task::Context, time::Duration};

use actix::ActorContext;
use tokio::time::Instant;

use super::AgentTask;
use crate::Agent;

impl<A: Agent> AgentTask<A> {
    /// The incarnation is asked to end: the mailbox is paused already (a
    /// raised signal pauses it), and async handlers still awaiting get up to
    /// the agent's shutdown timeout to reply, as a gen_server finishes the
    /// callback it is in before it acts on a shutdown.
    pub(super) fn begin_draining(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        let pending = self
            .fut
            .as_mut()
            .is_some_and(|fut| fut.ctx().core.replies_pending > 0);
        if pending {
            let now = Instant::now();
            let until = now
                .checked_add(Duration::from_nanos(self.grace_ns))
                .unwrap_or_else(|| now + crate::deadline::FAR);
            self.set_timer(until);
        }
    }

    /// Tells the context to stop once no reply is awaited any more, or when
    /// the grace has run out (abandoning what still awaits).
    pub(super) fn drain(&mut self, cx: &mut Context<'_>) {
        let Some(fut) = self.fut.as_mut() else {
            return;
        };
        if fut.ctx().core.replies_pending > 0 {
            let out = self
                .timer
                .as_mut()
                .is_none_or(|sleep| sleep.as_mut().poll(cx).is_ready());
            if !out {
                return;
            }
            self.forced = true;
            tracing::warn!(
                agent = %self.shared.name(),
                grace = ?Duration::from_nanos(self.grace_ns),
                "async handlers did not finish within the shutdown timeout; abandoning them"
            );
        }
        self.draining = false;
        fut.ctx().stop();
    }

    pub(super) fn set_timer(&mut self, until: Instant) {
        match self.timer.as_mut() {
            Some(sleep) => sleep.as_mut().reset(until),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(until))),
        }
    }
}
