//! Collecting at-least-once answers: acknowledged batches leave, refused
//! and timed-out ones are retried or given up, and queue groups learn the
//! outcomes.

use std::{sync::Arc, time::Duration};

use actix::AsyncContext;
use agentix_runtime::AgentContext;
use tokio::time::Instant;

use super::{
    Envelope, GroupStrategy, Outcome, UndeliveredReason, ack::Unacked, actor::Router,
    batch::sampled_in,
};

/// How often answers are collected while batches are in flight: answers are
/// flags in shared cells, not messages to the router.
const ACK_CHECK_EVERY: Duration = Duration::from_millis(1);

/// The router's state for collecting answers.
#[derive(Debug, Default)]
pub(crate) struct Settling {
    check_scheduled: bool,
    /// A reused buffer for the members of a group being settled.
    scratch: Vec<u64>,
}

impl Settling {
    /// A check scheduled by the old incarnation died with it.
    pub(crate) fn restarted(&mut self) {
        self.check_scheduled = false;
    }
}

impl<M: Send + Sync + 'static> Router<M> {
    pub(crate) fn schedule_ack_check(&mut self, ctx: &mut AgentContext<Self>) {
        if self.settling.check_scheduled {
            return;
        }
        self.settling.check_scheduled = true;
        ctx.run_later(ACK_CHECK_EVERY, |router, ctx| {
            router.settling.check_scheduled = false;
            router.check_acks(ctx);
        });
    }

    fn check_acks(&mut self, ctx: &mut AgentContext<Self>) {
        let now = Instant::now();
        let tracked: Vec<u64> = (self.table.iter())
            .filter(|(_, sub)| sub.unacked.as_ref().is_some_and(|u| !u.is_idle()))
            .map(|(id, _)| id)
            .collect();
        for id in tracked {
            self.settle(id, now, ctx);
        }
        let held: usize = (self.table.values())
            .filter_map(|sub| sub.unacked.as_ref().map(Unacked::held))
            .sum();
        self.counters.line().set_held_for_ack(held);
        if held > 0 {
            self.schedule_ack_check(ctx);
        }
        self.refresh_queued();
        self.post_undelivered(ctx);
    }

    /// Before a least-busy or weighted pick: the members' answers so far,
    /// so the pick sees who is actually busy.
    pub(crate) fn settle_group(&mut self, group: u64, ctx: &mut AgentContext<Self>) {
        // Called per publish: the member list goes through a reused buffer.
        let mut members = std::mem::take(&mut self.settling.scratch);
        members.clear();
        if let Some((GroupStrategy::LeastBusy | GroupStrategy::Weighted, all)) =
            self.table.members(group)
        {
            members.extend(all);
        }
        if !members.is_empty() {
            let now = Instant::now();
            for member in &members {
                self.settle(*member, now, ctx);
            }
        }
        self.settling.scratch = members;
    }

    /// Settles subscription `id`'s answers up to `now`.
    fn settle(&mut self, id: u64, now: Instant, ctx: &mut AgentContext<Self>) {
        let Some(sub) = self.table.get_mut(id) else {
            return;
        };
        let Some(unacked) = sub.unacked.as_mut() else {
            return;
        };
        if unacked.is_idle() {
            return;
        }
        let checked = unacked.check(now);
        let name = sub.target.name().clone();
        if let Some(group) = sub.group {
            let table = &mut self.table;
            table.finished(group, id, Outcome::Success, checked.acked);
            table.finished(group, id, Outcome::Failure, checked.failed);
            table.finished(group, id, Outcome::Timeout, checked.timed_out);
        }
        for item in checked.exhausted {
            let reason = UndeliveredReason::RetriesExhausted;
            self.outbox.record(item, reason, Some(name.clone()));
        }
        // A retry past its deadline is not sent: it has expired.
        let (expired, again): (Vec<_>, Vec<_>) =
            (checked.again.into_iter()).partition(|item| item.expired_at(now));
        for item in expired {
            let reason = UndeliveredReason::Expired;
            self.outbox.record(item, reason, Some(name.clone()));
        }
        for again in again.chunks(self.config.max_batch) {
            let batch: Arc<[Envelope<M>]> = again.into();
            self.hand(id, &batch, sampled_in(&batch), ctx);
        }
    }
}
