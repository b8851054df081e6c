//! What a subscription may have in flight: messages handed to the
//! subscriber and not yet done with.
//!
//! Without a bound, a subscriber's mailbox (its capacity in batches of up
//! to `max_batch` each) would hold hundreds of thousands of messages before
//! its router queue, and with it the overflow policy, ever came into play:
//! after a stall a `DropOldest` subscriber got the stale backlog, not the
//! freshest data. With it, at most [`SubscribeOptions::in_flight`] messages
//! are handed over and unfinished; the rest wait in the router's queue for
//! the subscriber, where the policy decides.
//!
//! At-least-once counts what waits for an acknowledgement (the router holds
//! those batches anyway). At-most-once counts what the subscriber's handler
//! has dropped: each batch carries the subscription's [`Done`] counter and
//! adds its length when dropped. The router keeps its own count of what it
//! handed over and reads the shared counter only when its estimate says the
//! window is full, so the hot path pays one atomic add per batch, on the
//! subscriber's side.
//!
//! [`SubscribeOptions::in_flight`]: super::SubscribeOptions::in_flight

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use super::{ack::Unacked, subscriptions::Sub};

/// The default bound of a subscription's messages in flight.
pub const DEFAULT_IN_FLIGHT: usize = 4096;

/// Messages of an at-most-once subscription its handler is done with.
#[derive(Debug, Default)]
pub(crate) struct Done(AtomicU64);

impl Done {
    /// A batch of `len` deliveries was dropped by the subscriber.
    pub(crate) fn finished(&self, len: usize) {
        self.0.fetch_add(len as u64, Ordering::Release);
    }
}

/// A subscription's account of what it has in flight.
#[derive(Debug)]
pub(crate) struct Window {
    limit: usize,
    /// At-most-once: the subscriber's count, shared with its batches.
    done: Option<Arc<Done>>,
    /// Messages handed over (at-most-once).
    sent: u64,
    /// The subscriber's count as last read.
    seen_done: u64,
}

impl Window {
    /// A window of `limit` messages; `counted` for at-most-once, where the
    /// subscriber counts what it has finished.
    pub(crate) fn new(limit: usize, counted: bool) -> Self {
        Self {
            limit,
            done: counted.then(Arc::default),
            sent: 0,
            seen_done: 0,
        }
    }

    /// Messages in flight, given `held` waiting for an acknowledgement
    /// (at-least-once); at-most-once reads the subscriber's count if
    /// `look` (else the estimate stands, never below the truth).
    fn in_flight(&mut self, held: usize, look: bool) -> u64 {
        match &self.done {
            None => held as u64,
            Some(done) => {
                if look {
                    self.seen_done = done.0.load(Ordering::Acquire);
                }
                self.sent.saturating_sub(self.seen_done)
            }
        }
    }

    /// Whether `len` more messages may go out, given `held` messages
    /// waiting for an acknowledgement (at-least-once). One batch may
    /// always go when nothing is in flight, however large.
    pub(crate) fn admits(&mut self, len: usize, held: usize) -> bool {
        let len = len as u64;
        let mut in_flight = self.in_flight(held, false);
        if in_flight.saturating_add(len) > self.limit as u64 {
            in_flight = self.in_flight(held, true);
        }
        in_flight == 0 || in_flight.saturating_add(len) <= self.limit as u64
    }

    /// How many messages may go out now, given `held` messages waiting for
    /// an acknowledgement; unbounded when nothing is in flight. Reads the
    /// subscriber's count: for the slow path, where queued deliveries are
    /// sized to the window.
    pub(crate) fn room(&mut self, held: usize) -> usize {
        let in_flight = self.in_flight(held, true);
        if in_flight == 0 {
            return usize::MAX;
        }
        let room = (self.limit as u64).saturating_sub(in_flight);
        usize::try_from(room).unwrap_or(usize::MAX)
    }

    /// `len` messages were handed over; the counter their batch returns
    /// them to, for at-most-once.
    pub(crate) fn handed(&mut self, len: usize) -> Option<Arc<Done>> {
        let done = self.done.as_ref()?;
        self.sent += len as u64;
        Some(done.clone())
    }
}

impl<M> Sub<M> {
    /// Whether a batch of `len` fits its window now; at-least-once answers
    /// that came in since the last check count.
    pub(crate) fn admits(&mut self, len: usize) -> bool {
        let held = self.unacked.as_ref().map_or(0, Unacked::held);
        if self.window.admits(len, held) {
            return true;
        }
        let Some(unacked) = &mut self.unacked else {
            return false;
        };
        let held = unacked.release_acked();
        self.window.admits(len, held)
    }

    /// How many messages its window takes now.
    pub(crate) fn room(&mut self) -> usize {
        let held = self.unacked.as_mut().map_or(0, Unacked::release_acked);
        self.window.room(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_once_admits_up_to_the_limit_and_again_as_batches_are_done() {
        let mut window = Window::new(10, true);
        assert!(window.admits(6, 0));
        let first = window.handed(6).unwrap();
        assert!(window.admits(4, 0));
        let second = window.handed(4).unwrap();
        assert!(!window.admits(1, 0), "10 in flight");
        first.finished(6);
        assert!(window.admits(6, 0), "the first batch is done");
        assert!(!window.admits(7, 0));
        assert_eq!(window.room(0), 6, "4 of 10 in flight");
        second.finished(4);
        assert!(window.admits(100, 0), "nothing in flight: any batch may go");
        assert_eq!(window.room(0), usize::MAX);
    }

    #[test]
    fn at_least_once_counts_what_waits_for_an_acknowledgement() {
        let mut window = Window::new(10, false);
        assert!(window.handed(8).is_none());
        assert!(window.admits(2, 8));
        assert!(!window.admits(3, 8));
        assert!(window.admits(50, 0));
    }
}
