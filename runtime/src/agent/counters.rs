//! The per-agent counters in the control block: what the agent's task
//! writes at every message and what senders add while the swarm is
//! observed. The kind-wide metrics they feed are `crate::metrics`.

use std::sync::atomic::Ordering;

use super::shared::AgentShared;
use crate::metrics::{Activity, OBSERVED, Watch};

/// The per-agent counters, in its control block.
impl AgentShared {
    /// Counts one message about to be queued, if the swarm is observed;
    /// whether it was counted. Counted before it is queued, so the agent
    /// can never take out a message not yet counted.
    ///
    /// Only while observed: the read-modify-write costs a same-arbiter tell
    /// about 6% (measured), too much to pay when nobody looks.
    #[inline]
    pub(crate) fn count_sent(&self) -> bool {
        self.count_sent_with(self.sender_flags())
    }

    /// What senders must do besides queueing: [`OBSERVED`], [`FAULTY`].
    #[inline(always)]
    pub(crate) fn sender_flags(&self) -> u8 {
        self.sender.kind.flags.load(Ordering::Relaxed)
    }

    /// [`count_sent`](Self::count_sent) with the flags already read.
    #[inline(always)]
    pub(crate) fn count_sent_with(&self, flags: u8) -> bool {
        let on = flags & OBSERVED != 0;
        if on {
            self.sender.sent.fetch_add(1, Ordering::Relaxed);
        }
        on
    }

    /// Takes back a count for a message that could not be queued.
    pub(crate) fn uncount_sent(&self) {
        self.sender.sent.fetch_sub(1, Ordering::Relaxed);
    }

    /// Counts an ask taken out of the mailbox unhandled (its asker left).
    pub(crate) fn count_skipped(&self) {
        let skipped = self.skipped.load(Ordering::Relaxed);
        self.skipped.store(skipped + 1, Ordering::Relaxed);
    }

    /// Messages waiting in the mailbox, approximately: counted by senders
    /// and not yet taken out.
    ///
    /// Messages queued while the swarm was not observed were never counted,
    /// so more can be taken out than were counted: the sample then raises
    /// the count to what was taken (a depth of zero), which absorbs the
    /// deficit as those messages drain. It never raises it above: every
    /// message is counted before it is queued.
    pub(crate) fn queued(&self) -> u64 {
        let taken = self.handled() + self.skipped.load(Ordering::Relaxed);
        let sent = self.sender.sent.fetch_max(taken, Ordering::Relaxed);
        sent.saturating_sub(taken)
    }

    /// Marks the start or the end of a poll of the agent's task. Only that
    /// task writes: a load and a store, no read-modify-write on the hot
    /// path.
    #[inline]
    pub(crate) fn step_activity(&self) {
        let seq = self.activity.load(Ordering::Relaxed);
        self.activity.store(seq.wrapping_add(1), Ordering::Relaxed);
    }

    /// Counts one handled message; what else this handling needs, from one
    /// load of the kind's flags: [`Watch::timed`] (one in [`TIMING_EVERY`]
    /// while the swarm is observed) and [`Watch::faulty`] (a fault plan is
    /// installed in the swarm).
    #[inline]
    pub(crate) fn count_handled(&self) -> Watch {
        let handled = self.handled.load(Ordering::Relaxed) + 1;
        self.handled.store(handled, Ordering::Relaxed);
        match self.kind.flags.load(Ordering::Relaxed) {
            0 => Watch::PLAIN,
            flags => Watch::of(flags, handled),
        }
    }

    pub(crate) fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Hands the agent's counts to its kind as it ends for good, so the
    /// kind's totals never go down.
    pub(crate) fn retire(&self) {
        (self.kind.retired_handled).fetch_add(self.handled(), Ordering::Relaxed);
        let restarts = u64::from(self.restarts());
        self.kind
            .retired_restarts
            .fetch_add(restarts, Ordering::Relaxed);
    }

    pub(crate) fn activity(&self) -> Activity {
        Activity(self.activity.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_depth_is_counted_while_observed_and_absorbs_what_came_before() {
        let agent = AgentShared::detached(1, "a", std::sync::Weak::new());
        // Queued before observation: never counted, and taken out.
        assert!(!agent.count_sent());
        let _ = agent.count_handled();
        assert_eq!(agent.queued(), 0, "the deficit is absorbed, not negative");
        agent.kind.flags.store(OBSERVED, Ordering::Relaxed);
        for _ in 0..3 {
            assert!(agent.count_sent());
        }
        assert_eq!(agent.queued(), 3);
        let _ = agent.count_handled();
        agent.count_skipped();
        assert_eq!(agent.queued(), 1);
        assert!(agent.count_sent());
        agent.uncount_sent();
        assert_eq!(agent.queued(), 1, "a send that failed is taken back");
        let _ = agent.count_handled();
        assert_eq!(agent.queued(), 0);
    }
}
