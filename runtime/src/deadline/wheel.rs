//! A per-thread wheel of coarse deadlines that asks can join without
//! reading the clock, driven by one ticker task per arbiter thread.
//!
//! Why: a tokio `Sleep` per ask costs ~230 ns and even one `Instant::now()`
//! ~26 ns, against a same-arbiter round trip of ~300-580 ns (2-core CI
//! machine). So an ask joins the *current epoch* (the entries joined since
//! the last stamp) with its waker and its length; the ticker stamps the
//! epoch with one clock read (at most once per millisecond) and files each
//! entry under the 1 ms bucket of `stamp + length`; when a bucket falls due
//! its entries fire: they leave the wheel and their wakers are woken. An
//! ask's ticket names its entry, so the ask has expired once the entry is
//! gone: no clock read per ask, and nothing scanned per distinct length.
//!
//! Memory follows the asks that are pending, not those that were: an entry
//! is shared by the deadlines one task joins in one epoch with one length
//! (a loop of asks joins one entry per millisecond), counts them, and
//! leaves when the last one is dropped (at once once stamped, at the next
//! stamp before).
//!
//! The wheel belongs to its actix system: the ticker runs on the thread's
//! arbiter, and when the system ends (its runtime drops the ticker) the
//! wheel goes with it; a later system on the thread starts a fresh one.
//! Tickets of an earlier wheel are not judged by a later one.
//!
//! Timing: a deadline never fires early (an epoch is stamped after its asks
//! joined it). It fires within about 2 ms of its length while the thread is
//! free; the stamp and the firing are work on the arbiter like any other,
//! so a handler that holds the thread delays each by as long as it holds it.

use std::{
    cell::RefCell,
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
    task::Waker,
    time::Duration,
};

use slotmap::{DefaultKey, SlotMap};
use tokio::time::Instant;

use super::FAR;

/// Bucket width, and the least time between two stamps.
const TICK: Duration = Duration::from_millis(1);

/// Distinguishes the wheels of different threads and systems.
static NEXT_WHEEL: AtomicU64 = AtomicU64::new(1);

/// Where a deadline lives: a wheel and an entry in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    wheel: u64,
    key: DefaultKey,
}

struct Entry {
    waker: Waker,
    after: Duration,
    /// Deadlines holding this entry.
    holders: u32,
    /// The bucket it falls due in, once stamped.
    bucket: Option<u64>,
}

struct Wheel {
    id: u64,
    /// The actix system the wheel's ticker runs in.
    system: usize,
    origin: Instant,
    entries: SlotMap<DefaultKey, Entry>,
    /// Entries joined since the last stamp (some maybe left already).
    young: Vec<DefaultKey>,
    last_stamp: Option<Instant>,
    /// Stamped entries by the 1 ms bucket (since `origin`) they fall due in.
    due: BTreeSet<(u64, DefaultKey)>,
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
    fn new(system: usize) -> Self {
        Self {
            id: NEXT_WHEEL.fetch_add(1, Ordering::Relaxed),
            system,
            origin: Instant::now(),
            entries: SlotMap::new(),
            young: Vec::new(),
            last_stamp: None,
            due: BTreeSet::new(),
            ticker: Ticker::Off,
        }
    }

    fn due_until(&self, now: Instant) -> u64 {
        millis_since(self.origin, now, false)
    }

    fn instant_of(&self, bucket: u64) -> Instant {
        self.origin
            .checked_add(Duration::from_millis(bucket))
            .unwrap_or_else(|| self.origin + FAR)
    }

    /// Adds a deadline of `after` for `waker` to the current epoch: to the
    /// entry the same task joined last with the same length, if any.
    fn join(&mut self, after: Duration, waker: &Waker) -> DefaultKey {
        if let Some(&last) = self.young.last()
            && let Some(entry) = self.entries.get_mut(last)
            && entry.after == after
            && entry.waker.will_wake(waker)
            && let Some(holders) = entry.holders.checked_add(1)
        {
            entry.holders = holders;
            return last;
        }
        let key = self.entries.insert(Entry {
            waker: waker.clone(),
            after,
            holders: 1,
            bucket: None,
        });
        self.young.push(key);
        if self.young.len() == 1
            && let Ticker::On { waker } = &mut self.ticker
            && let Some(ticker) = waker.take()
        {
            // Asleep until a later bucket: the new epoch needs its stamp.
            ticker.wake();
        }
        key
    }

    /// One holder of `key` is gone; the entry goes with its last holder
    /// (once stamped; a young one waits for the stamp, so that the next
    /// ask of the same task in this epoch can share it again).
    fn leave(&mut self, key: DefaultKey) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.holders = entry.holders.saturating_sub(1);
        if entry.holders == 0
            && let Some(bucket) = entry.bucket
        {
            self.due.remove(&(bucket, key));
            self.entries.remove(key);
        }
    }

    /// One run of the ticker at `now`: stamps the young epoch if a tick has
    /// passed since the last stamp, fires what is due, and says when to run
    /// next.
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
        let until = self.due_until(now);
        while let Some(&(bucket, key)) = self.due.first()
            && bucket <= until
        {
            self.due.pop_first();
            if let Some(entry) = self.entries.remove(key) {
                woken.push(entry.waker);
            }
        }
        let next_bucket = self.due.first().map(|(bucket, _)| self.instant_of(*bucket));
        match (next_stamp, next_bucket) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn stamp(&mut self, now: Instant) {
        // Taken and given back, so the list keeps its capacity.
        let mut young = std::mem::take(&mut self.young);
        for key in young.drain(..) {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            if entry.holders == 0 {
                self.entries.remove(key);
                continue;
            }
            let at = now.checked_add(entry.after).unwrap_or_else(|| now + FAR);
            // Rounded up, so no entry fires before its deadline.
            let bucket = millis_since(self.origin, at, true);
            entry.bucket = Some(bucket);
            self.due.insert((bucket, key));
        }
        self.young = young;
        self.last_stamp = Some(now);
    }

    /// Makes sure a ticker runs (or will) for this wheel; `false` if none
    /// can run on this thread.
    fn ensure_ticker(&mut self) -> bool {
        if matches!(self.ticker, Ticker::On { .. }) {
            return true;
        }
        let spawned = actix_rt::Arbiter::try_current()
            .is_some_and(|arbiter| arbiter.spawn(TickerTask::new()));
        if spawned {
            self.ticker = Ticker::On { waker: None };
        }
        spawned
    }
}

/// Whole milliseconds from `origin` to `at`, rounded up or down.
fn millis_since(origin: Instant, at: Instant, up: bool) -> u64 {
    let since = at.saturating_duration_since(origin);
    let whole = since.as_secs().saturating_mul(1000);
    let nanos = since.subsec_nanos();
    let part = if up {
        nanos.div_ceil(1_000_000)
    } else {
        nanos / 1_000_000
    };
    whole.saturating_add(u64::from(part))
}

/// The current actix system's id, if any.
fn current_system() -> Option<usize> {
    actix_rt::System::try_current().map(|system| system.id())
}

/// Joins the current epoch of this thread's wheel. `None` when this thread
/// is not a running actix arbiter (the caller needs another timer).
pub(crate) fn join(after: Duration, waker: &Waker) -> Option<Ticket> {
    WHEEL
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let stale = slot
                .as_ref()
                .is_none_or(|wheel| matches!(wheel.ticker, Ticker::Off));
            if stale {
                // Without a running ticker the wheel holds nothing pending;
                // make sure it is this system's, then start its ticker.
                let system = current_system()?;
                if slot.as_ref().is_none_or(|wheel| wheel.system != system) {
                    *slot = Some(Wheel::new(system));
                }
            }
            let wheel = slot.as_mut()?;
            if !wheel.ensure_ticker() {
                return None;
            }
            let key = wheel.join(after, waker);
            Some(Ticket {
                wheel: wheel.id,
                key,
            })
        })
        .ok()
        .flatten()
}

/// Whether the deadline of `ticket` has passed; if not, makes sure `waker`
/// is woken when it does (which may move the deadline to an entry of its
/// own, so `ticket` is updated). `None` if the ticket belongs to another
/// wheel: the future moved threads, or the wheel's system ended.
pub(crate) fn check(ticket: &mut Ticket, waker: &Waker) -> Option<bool> {
    WHEEL
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let wheel = slot.as_mut().filter(|w| w.id == ticket.wheel)?;
            let Some(entry) = wheel.entries.get_mut(ticket.key) else {
                // Gone while held: it fired.
                return Some(true);
            };
            if entry.waker.will_wake(waker) {
                return Some(false);
            }
            if entry.holders == 1 {
                entry.waker = waker.clone();
                return Some(false);
            }
            // Shared with deadlines that keep the old waker: a twin entry
            // that falls due with this one.
            entry.holders -= 1;
            let twin = Entry {
                waker: waker.clone(),
                after: entry.after,
                holders: 1,
                bucket: entry.bucket,
            };
            let bucket = twin.bucket;
            let key = wheel.entries.insert(twin);
            match bucket {
                Some(bucket) => {
                    wheel.due.insert((bucket, key));
                }
                None => wheel.young.push(key),
            }
            ticket.key = key;
            Some(false)
        })
        .ok()
        .flatten()
}

/// A deadline holding `ticket` is dropped (its ask completed or was
/// dropped): what it held goes.
pub(crate) fn leave(ticket: Ticket) {
    let _ = WHEEL.try_with(|cell| {
        // Busy only if the wheel itself drops a future; nothing to free then.
        if let Ok(mut slot) = cell.try_borrow_mut()
            && let Some(wheel) = slot.as_mut().filter(|w| w.id == ticket.wheel)
        {
            wheel.leave(ticket.key);
        }
    });
}

/// How many entries the wheel of this thread holds, for tests.
#[cfg(test)]
pub(crate) fn entries() -> usize {
    WHEEL.with(|cell| cell.borrow().as_ref().map_or(0, |w| w.entries.len()))
}

mod ticker;

use ticker::TickerTask;

#[cfg(test)]
mod tests;
