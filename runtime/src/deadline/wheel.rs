//! A per-thread wheel of coarse deadlines that asks can join without
//! reading the clock, driven by one ticker task per arbiter thread.
//!
//! Why: a tokio `Sleep` per ask costs ~230 ns and even one `Instant::now()`
//! ~26 ns, against a same-arbiter round trip of ~300-580 ns (2-core CI
//! machine). So an ask joins the *current epoch* with its waker and its
//! duration; the ticker stamps each epoch with one clock read (at most once
//! per millisecond), files its entries into 1 ms buckets at `stamp + duration`,
//! and when a bucket falls due records, per duration, the newest epoch that
//! has expired. An ask then knows it has expired when that record reaches its
//! own epoch: no clock read and no allocation per ask.
//!
//! Guarantees: a deadline never fires early (an epoch is stamped after its
//! asks joined it), and fires within about 2 ms plus scheduling delay of its
//! nominal time. Entries are never cancelled: a completed ask's waker is woken
//! once at its deadline, a spurious poll every future tolerates. Repeated
//! joins of one task in one epoch are de-duplicated, so memory is bounded by
//! (asking tasks) × (longest deadline in ms).

use std::{
    cell::RefCell,
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll, Waker},
    time::Duration,
};

use tokio::time::{Instant, Sleep};

/// Bucket width, and the least time between two stamps.
const TICK: Duration = Duration::from_millis(1);

/// Distinguishes the wheels of different threads, for a future that moves.
static NEXT_WHEEL: AtomicU64 = AtomicU64::new(1);

/// Where an ask's deadline lives: a wheel (thread) and an epoch in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    wheel: u64,
    epoch: u64,
}

struct Entry {
    waker: Waker,
    after: Duration,
    epoch: u64,
}

struct Wheel {
    id: u64,
    origin: Instant,
    /// The epoch new joins go into; stamped (and advanced) by the ticker.
    epoch: u64,
    young: Vec<(Waker, Duration)>,
    last_stamp: Option<Instant>,
    /// Buckets of 1 ms since `origin`, each due at its end.
    buckets: BTreeMap<u64, Vec<Entry>>,
    /// Per duration, the newest epoch whose deadline has passed.
    expired: Vec<(Duration, u64)>,
    ticker: Ticker,
}

enum Ticker {
    Off,
    /// Running; `waker` is set while it sleeps and taken to wake it early.
    On {
        waker: Option<Waker>,
    },
}

thread_local! {
    static WHEEL: RefCell<Option<Wheel>> = const { RefCell::new(None) };
}

impl Wheel {
    fn new() -> Self {
        Self {
            id: NEXT_WHEEL.fetch_add(1, Ordering::Relaxed),
            origin: Instant::now(),
            epoch: 0,
            young: Vec::new(),
            last_stamp: None,
            buckets: BTreeMap::new(),
            expired: Vec::new(),
            ticker: Ticker::Off,
        }
    }

    /// Rounded up, so no entry fires before its deadline.
    fn bucket_of(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin);
        let whole = since.as_secs().saturating_mul(1000);
        whole.saturating_add(u64::from(since.subsec_nanos().div_ceil(1_000_000)))
    }

    fn due_until(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        let whole = since.as_secs().saturating_mul(1000);
        whole.saturating_add(u64::from(since.subsec_millis()))
    }

    fn instant_of(&self, bucket: u64) -> Instant {
        self.origin
            .checked_add(Duration::from_millis(bucket))
            .unwrap_or_else(|| self.origin + Duration::from_secs(86_400 * 365))
    }

    fn expired_epoch(&self, after: Duration) -> Option<u64> {
        self.expired
            .iter()
            .find(|(d, _)| *d == after)
            .map(|(_, e)| *e)
    }

    /// Adds `waker` to the current epoch; makes sure the ticker will stamp it.
    /// `false` if no ticker can run on this thread.
    fn join(&mut self, after: Duration, waker: &Waker) -> bool {
        if let Some((last, last_after)) = self.young.last()
            && *last_after == after
            && last.will_wake(waker)
        {
            return true;
        }
        let first = self.young.is_empty();
        self.young.push((waker.clone(), after));
        if first {
            match &mut self.ticker {
                Ticker::On { waker } => {
                    if let Some(ticker) = waker.take() {
                        ticker.wake();
                    }
                }
                Ticker::Off => {
                    let spawned = actix_rt::Arbiter::try_current()
                        .is_some_and(|arbiter| arbiter.spawn(TickerTask::new()));
                    if !spawned {
                        self.young.pop();
                        return false;
                    }
                    self.ticker = Ticker::On { waker: None };
                }
            }
        }
        true
    }

    /// One run of the ticker at `now`: stamps the young epoch if a tick has
    /// passed since the last stamp, collects due wakers, and says when to
    /// run next.
    fn turn(&mut self, now: Instant, woken: &mut Vec<Waker>) -> Option<Instant> {
        let mut next_stamp = None;
        if !self.young.is_empty() {
            match self.last_stamp {
                Some(last) if now.saturating_duration_since(last) < TICK => {
                    next_stamp = Some(last + TICK);
                }
                _ => self.stamp(now),
            }
        }
        let later = self
            .buckets
            .split_off(&self.due_until(now).saturating_add(1));
        for entry in std::mem::replace(&mut self.buckets, later)
            .into_values()
            .flatten()
        {
            match self.expired.iter_mut().find(|(d, _)| *d == entry.after) {
                Some((_, epoch)) => *epoch = (*epoch).max(entry.epoch),
                None => self.expired.push((entry.after, entry.epoch)),
            }
            woken.push(entry.waker);
        }
        let next_bucket = self.buckets.keys().next().map(|b| self.instant_of(*b));
        match (next_stamp, next_bucket) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn stamp(&mut self, now: Instant) {
        let epoch = self.epoch;
        for (waker, after) in std::mem::take(&mut self.young) {
            let at = now
                .checked_add(after)
                .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
            let bucket = self.bucket_of(at);
            self.buckets.entry(bucket).or_default().push(Entry {
                waker,
                after,
                epoch,
            });
        }
        self.epoch += 1;
        self.last_stamp = Some(now);
    }
}

/// Joins the current epoch of this thread's wheel. `None` when this thread
/// is not a running actix arbiter (the caller needs another timer).
pub(crate) fn join(after: Duration, waker: &Waker) -> Option<Ticket> {
    WHEEL
        .try_with(|cell| {
            let mut slot = cell.borrow_mut();
            let wheel = slot.get_or_insert_with(Wheel::new);
            wheel.join(after, waker).then_some(Ticket {
                wheel: wheel.id,
                epoch: wheel.epoch,
            })
        })
        .ok()
        .flatten()
}

/// Whether the deadline of `ticket` (with length `after`) has passed; if not,
/// makes sure `waker` is woken when it does. `None` if the ticket belongs to
/// another thread's wheel (the future moved).
pub(crate) fn check(ticket: Ticket, after: Duration, waker: &Waker) -> Option<bool> {
    WHEEL
        .try_with(|cell| {
            let mut slot = cell.borrow_mut();
            let wheel = slot.as_mut().filter(|w| w.id == ticket.wheel)?;
            if wheel
                .expired_epoch(after)
                .is_some_and(|e| e >= ticket.epoch)
            {
                return Some(true);
            }
            // Not yet: a spurious poll, or a new waker. A fresh join expires
            // no earlier than the ticket, so it is a safe reminder.
            wheel.join(after, waker).then_some(false)
        })
        .ok()
        .flatten()
}

/// The ticker of one thread.
struct TickerTask {
    sleep: Pin<Box<Sleep>>,
}

impl TickerTask {
    fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }
}

impl Future for TickerTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut woken = Vec::new();
        loop {
            let now = Instant::now();
            let next = WHEEL.try_with(|cell| {
                let mut slot = cell.borrow_mut();
                let wheel = slot.as_mut()?;
                let next = wheel.turn(now, &mut woken);
                wheel.ticker = match next {
                    Some(_) => Ticker::On {
                        waker: Some(cx.waker().clone()),
                    },
                    None => Ticker::Off,
                };
                next
            });
            // Wake outside the borrow: a waker may run code that joins again.
            for waker in woken.drain(..) {
                waker.wake();
            }
            let Ok(Some(next)) = next else {
                return Poll::Ready(());
            };
            self.sleep.as_mut().reset(next);
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl Drop for TickerTask {
    fn drop(&mut self) {
        // The arbiter is going away: a later join must start a new ticker
        // (or fall back) rather than trust this one.
        let _ = WHEEL.try_with(|cell| {
            if let Ok(mut slot) = cell.try_borrow_mut()
                && let Some(wheel) = slot.as_mut()
            {
                wheel.ticker = Ticker::Off;
            }
        });
    }
}

#[cfg(test)]
mod tests;
