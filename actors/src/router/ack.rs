//! At-least-once delivery: acknowledgements, retries with backoff, and the
//! dead letter at the end of them.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

use super::{Envelope, MAX_DURATION, config::later};

/// How a subscription's deliveries are guaranteed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeliveryMode {
    /// Handed over once; a subscriber that fails on it loses it (the
    /// router's fastest mode).
    #[default]
    AtMostOnce,
    /// The subscriber acknowledges each batch ([`Batch::ack`]); a batch not
    /// acknowledged in time, refused ([`Batch::nack`]) or dropped without an
    /// answer (its handler panicked, or the subscriber stopped) is sent
    /// again after a backoff, up to a limit, then kept as undelivered
    /// (`RetriesExhausted`). A retried message may arrive after later ones.
    ///
    /// [`Batch::ack`]: super::Batch::ack
    /// [`Batch::nack`]: super::Batch::nack
    AtLeastOnce(Retry),
}

/// The retry policy of at-least-once delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub(crate) ack_timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
}

impl Default for Retry {
    /// 5 s to acknowledge; 5 retries, 10 ms apart at first, doubling up to 1 s.
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(5),
            retries: 5,
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// How long a subscriber has to acknowledge a batch (default 5 s).
    /// Longer than [`MAX_DURATION`] (about 30 years) is taken as
    /// `MAX_DURATION`: never, in practice. [`Duration::ZERO`] times a batch
    /// out at the first check after it is sent (within a millisecond or
    /// so), so it goes again unless already acknowledged.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout.min(MAX_DURATION);
        self
    }

    /// How many times a message is sent again before it is given up.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before the first retry, doubling per retry up to `max`
    /// (default 10 ms up to 1 s). A `max` below `min` is taken as `min`;
    /// either longer than [`MAX_DURATION`] (about 30 years) is taken as
    /// `MAX_DURATION`, so a retry is put off for that long (never, in
    /// practice: the messages stay held for the subscription until it
    /// ends), and no clock overflows.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min.min(MAX_DURATION);
        self.backoff_max = max.max(min).min(MAX_DURATION);
        self
    }

    /// The wait before retry number `retry` (from 1).
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(20);
        let delay = self.backoff_min.saturating_mul(1 << doublings);
        delay.min(self.backoff_max)
    }
}

const PENDING: u8 = 0;
const ACKED: u8 = 1;
const FAILED: u8 = 2;

/// The answer to one batch, shared by the batch and the router.
#[derive(Debug, Default)]
pub(crate) struct AckCell {
    answer: AtomicU8,
    /// 0 while the subscriber acknowledges whole batches; `n + 1` once it
    /// has acknowledged the first `n` deliveries one by one.
    progress: AtomicUsize,
}

/// What became of a batch in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Pending,
    Acked,
    Failed,
}

impl AckCell {
    /// Records the first answer; later ones do not change it.
    pub(crate) fn answer(&self, acked: bool) {
        let answer = if acked { ACKED } else { FAILED };
        let _ = self
            .answer
            .compare_exchange(PENDING, answer, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The first `count` deliveries are handled (never fewer than before).
    pub(crate) fn handled(&self, count: usize) {
        self.progress
            .fetch_max(count.saturating_add(1), Ordering::AcqRel);
    }

    /// How many deliveries from the front were acknowledged one by one, if
    /// the subscriber acknowledges that way.
    pub(crate) fn progress(&self) -> Option<usize> {
        self.progress.load(Ordering::Acquire).checked_sub(1)
    }

    pub(crate) fn get(&self) -> Answer {
        match self.answer.load(Ordering::Acquire) {
            PENDING => Answer::Pending,
            ACKED => Answer::Acked,
            _ => Answer::Failed,
        }
    }
}

/// A batch handed to an at-least-once subscriber, not yet acknowledged.
pub(crate) struct InFlight<M> {
    pub(crate) cell: Arc<AckCell>,
    pub(crate) items: Arc<[Envelope<M>]>,
    pub(crate) sent_at: Instant,
}

/// What an at-least-once subscription has in flight and waiting to be
/// retried.
pub(crate) struct Unacked<M> {
    pub(crate) retry: Retry,
    pub(crate) in_flight: VecDeque<InFlight<M>>,
    /// Messages to send again, each not before its time.
    pub(crate) retries: VecDeque<(Instant, Envelope<M>)>,
    /// Messages in `in_flight` and `retries`: what the router holds for
    /// this subscription until it is acknowledged or given up.
    held: usize,
    /// Acknowledged deliveries released early, not yet reported by `check`.
    released: usize,
}

/// What a check of the batches in flight found.
pub(crate) struct Checked<M> {
    /// Due for another attempt.
    pub(crate) again: Vec<Envelope<M>>,
    /// Out of attempts.
    pub(crate) exhausted: Vec<Envelope<M>>,
    /// Deliveries acknowledged, refused and timed out since the last check.
    pub(crate) acked: usize,
    pub(crate) failed: usize,
    pub(crate) timed_out: usize,
}

impl<M> Unacked<M> {
    pub(crate) fn new(retry: Retry) -> Self {
        Self {
            retry,
            in_flight: VecDeque::new(),
            retries: VecDeque::new(),
            held: 0,
            released: 0,
        }
    }

    /// Forgets the acknowledged batches at the front of those in flight: a
    /// cheap look at the answers when the subscription's window is full,
    /// between two full checks (which report them). Returns what is still
    /// held.
    pub(crate) fn release_acked(&mut self) -> usize {
        while let Some(flight) = self.in_flight.front()
            && flight.cell.get() == Answer::Acked
        {
            let count = flight.items.len();
            self.in_flight.pop_front();
            self.held = self.held.saturating_sub(count);
            self.released += count;
        }
        self.held
    }

    /// What the router holds for this subscription: in flight, or waiting
    /// for a retry.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    pub(crate) fn sent(&mut self, cell: Arc<AckCell>, items: Arc<[Envelope<M>]>, now: Instant) {
        self.held += items.len();
        self.in_flight.push_back(InFlight {
            cell,
            items,
            sent_at: now,
        });
    }

    /// Settles the answered and timed-out batches: acknowledged ones leave,
    /// the others are scheduled again or, out of attempts, handed back as
    /// exhausted. Then takes the retries that are due.
    pub(crate) fn check(&mut self, now: Instant) -> Checked<M> {
        // In place: this runs before every least-busy or weighted pick, and
        // the vectors below allocate only when something is to be done.
        let (mut exhausted, mut scheduled) = (Vec::new(), Vec::new());
        let released = std::mem::take(&mut self.released);
        let (mut acked, mut failed, mut timed_out) = (released, 0, 0);
        let policy = self.retry;
        self.in_flight.retain(|flight| {
            let answer = flight.cell.get();
            if answer == Answer::Acked {
                acked += flight.items.len();
                return false;
            }
            let late = now.saturating_duration_since(flight.sent_at) >= policy.ack_timeout;
            if answer == Answer::Pending && !late {
                return true;
            }
            // Acknowledged one by one: those before the one it failed on
            // are done, and those after it were never tried.
            let progress = flight.cell.progress();
            let done = progress.unwrap_or(0).min(flight.items.len());
            let tried = if progress.is_some() {
                flight.items.len().min(done + 1)
            } else {
                flight.items.len()
            };
            acked += done;
            if answer == Answer::Failed {
                failed += tried - done;
            } else {
                timed_out += tried - done;
            }
            // The untried follow the failed one, or go at once if it is
            // out of attempts.
            let first_due = flight
                .items
                .get(done)
                .filter(|item| item.attempt() <= policy.retries)
                .map_or(now, |item| later(now, policy.delay(item.attempt())));
            for (at, item) in flight.items.iter().enumerate().skip(done) {
                if at >= tried {
                    // Not tried: goes again with the failed one, uncounted.
                    scheduled.push((first_due, item.clone()));
                    continue;
                }
                // `attempt` counts the first delivery as 1.
                let retry = item.attempt();
                if retry > policy.retries {
                    exhausted.push(item.clone());
                } else {
                    scheduled.push((later(now, policy.delay(retry)), item.retry()));
                }
            }
            false
        });
        self.retries.extend(scheduled);
        // Retries are kept in the order they failed; take the due ones.
        let mut again = Vec::new();
        self.retries.retain(|(due, item)| {
            let is_due = *due <= now;
            if is_due {
                again.push(item.clone());
            }
            !is_due
        });
        // Acknowledged, given up, or taken out to go again (those released
        // early were taken off already).
        let settled = acked - released + exhausted.len() + again.len();
        self.held = self.held.saturating_sub(settled);
        Checked {
            again,
            exhausted,
            acked,
            failed,
            timed_out,
        }
    }

    /// Whether nothing is in flight, waiting for a retry, or acknowledged
    /// and not yet reported.
    pub(crate) fn is_idle(&self) -> bool {
        // Acknowledgements released early still have to be reported.
        self.in_flight.is_empty() && self.retries.is_empty() && self.released == 0
    }

    /// Everything not acknowledged, for the dead letters when the
    /// subscription ends: a batch acknowledged one by one leaves only what
    /// follows its handled prefix.
    pub(crate) fn abandon(&mut self) -> Vec<Envelope<M>> {
        let mut left = Vec::new();
        for flight in self.in_flight.drain(..) {
            if flight.cell.get() != Answer::Acked {
                let done = flight.cell.progress().unwrap_or(0);
                left.extend(flight.items.iter().skip(done).cloned());
            }
        }
        left.extend(self.retries.drain(..).map(|(_, item)| item));
        self.held = 0;
        left
    }
}

#[cfg(test)]
mod tests;
