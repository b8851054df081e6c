//! An agent's turn on its arbiter: how much it may handle before its
//! neighbours get theirs.
//!
//! A turn ends after the agent's budget of messages, or once it has taken
//! about [`TURN_SLICE`], whichever comes first. The clock is read rarely:
//! first after [`FIRST_LOOK`] messages (a turn of fewer, most turns, never
//! reads it), then once more a few messages later, and from then on only
//! where the messages so far say the slice will end (at most every 256
//! messages). So cheap messages go by the count with a few clock reads per
//! turn, and expensive ones by the clock: a router fanning out and an agent
//! doing real work per message hold the thread about as long.

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

/// How long an agent's turn on its arbiter lasts at most by default, give
/// or take a few messages, when its budget of messages
/// ([`SwarmConfig::budget`](crate::SwarmConfig::budget)) does not end it
/// first; a swarm sets its own with
/// [`SwarmConfig::turn_slice`](crate::SwarmConfig::turn_slice). A single
/// handler that runs longer holds the thread for as long as it runs.
pub const TURN_SLICE: Duration = Duration::from_micros(50);

thread_local! {
    /// The turn slice of the swarm whose arbiter this thread is
    /// ([`SwarmConfig::turn_slice`](crate::SwarmConfig::turn_slice)): read
    /// only when a turn looks at the clock.
    static SLICE: Cell<Duration> = const { Cell::new(TURN_SLICE) };

    /// The current turn's first look at the clock: when, and after how many
    /// messages. Per thread, not per agent: one turn runs on a thread at a
    /// time, each starts by clearing it, and only the turn's rare stops
    /// read it (an agent keeps 24 bytes less).
    static FIRST: Cell<Option<(Instant, usize)>> = const { Cell::new(None) };
}

/// Sets the turn slice of agents on this thread (an arbiter, at its start).
pub(crate) fn set_slice(slice: Duration) {
    SLICE.set(slice);
}

/// Messages of a turn before its first look at the clock.
pub(crate) const FIRST_LOOK: usize = 4;

/// The most messages between two looks at the clock.
const LONGEST_STRETCH: usize = 256;

/// The count and the clock of one agent's current turn.
///
/// Messages are counted as the agent takes them out of its mailbox (not
/// as actix asks whether to go on, which it also does after polling each
/// of the agent's timers and futures). The hot path is one countdown:
/// after `next` more messages the turn stops to think (its budget is spent,
/// or it looks at the clock).
#[derive(Debug)]
pub(crate) struct Turn {
    budget: usize,
    /// Messages that may still be taken before the next stop.
    next: Cell<usize>,
    /// Messages taken in this turn when `next` reaches zero.
    stop_at: Cell<usize>,
    /// The turn ended by its budget or its slice.
    over: Cell<bool>,
}

impl Turn {
    /// `budget` messages per turn, at least 1.
    pub(crate) fn new(budget: usize) -> Self {
        let turn = Self {
            budget: budget.max(1),
            next: Cell::new(0),
            stop_at: Cell::new(0),
            over: Cell::new(false),
        };
        turn.start();
        turn
    }

    /// A new turn begins.
    pub(crate) fn start(&self) {
        let stop_at = FIRST_LOOK.min(self.budget);
        self.stop_at.set(stop_at);
        self.next.set(stop_at);
        FIRST.set(None);
        self.over.set(false);
    }

    /// One message was taken out of the mailbox.
    #[inline]
    pub(crate) fn took(&self) {
        // Compared before it is decremented: one branch, no saturation.
        let next = self.next.get();
        if next <= 1 {
            self.next.set(0);
            self.stop();
        } else {
            self.next.set(next - 1);
        }
    }

    /// Whether the turn is over: its budget or its slice is spent, so no
    /// more messages are taken until the next turn.
    #[inline]
    pub(crate) fn over(&self) -> bool {
        self.over.get()
    }

    /// `stop_at` messages are taken: ends the turn, or says when to stop
    /// next.
    #[cold]
    fn stop(&self) {
        let taken = self.stop_at.get();
        if self.over.get() || taken >= self.budget {
            self.over.set(true);
            return;
        }
        let now = Instant::now();
        let ahead = match FIRST.get() {
            None => {
                FIRST.set(Some((now, taken)));
                taken.saturating_mul(3)
            }
            Some((since, at)) => {
                let elapsed = now.saturating_duration_since(since);
                let slice = SLICE.get();
                if elapsed >= slice {
                    self.over.set(true);
                    return;
                }
                // Where the slice ends at the pace so far.
                let per_message = elapsed.as_nanos() / (taken - at).max(1) as u128;
                let rest = (slice - elapsed).as_nanos();
                let ahead = rest.checked_div(per_message).unwrap_or(u128::MAX);
                usize::try_from(ahead).unwrap_or(usize::MAX)
            }
        };
        let stop_at = taken
            .saturating_add(ahead.clamp(1, LONGEST_STRETCH))
            .min(self.budget);
        self.stop_at.set(stop_at);
        self.next.set(stop_at - taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes messages until the turn is over; how many it took.
    fn run(turn: &Turn, mut each: impl FnMut()) -> usize {
        let mut taken = 0;
        while !turn.over() {
            turn.took();
            taken += 1;
            each();
        }
        taken
    }

    #[test]
    fn a_turn_ends_after_its_budget_and_a_new_one_refills_it() {
        let turn = Turn::new(3);
        assert_eq!(run(&turn, || {}), 3);
        turn.start();
        assert!(!turn.over());
        assert_eq!(run(&turn, || {}), 3);
    }

    #[test]
    fn a_turn_of_expensive_messages_ends_after_its_slice() {
        let turn = Turn::new(usize::MAX);
        let started = Instant::now();
        let taken = run(&turn, || std::thread::sleep(Duration::from_micros(5)));
        // Marked at the first look; the second finds the slice gone.
        assert!(taken > FIRST_LOOK && taken <= 4 * FIRST_LOOK, "{taken}");
        assert!(started.elapsed() >= TURN_SLICE);
    }

    #[test]
    fn a_turn_of_cheap_messages_ends_by_its_count_or_its_slice() {
        let turn = Turn::new(100_000);
        let taken = run(&turn, || {});
        // The second look comes after a fixed stretch, whatever the clock
        // says; the rest depends on the pace (and on how busy the machine is).
        assert!(taken >= 4 * FIRST_LOOK, "{taken}");
        assert!(taken <= 100_000, "{taken}");
    }

    #[test]
    fn the_thread_s_turn_slice_decides_when_expensive_messages_end_a_turn() {
        // Each test runs on a thread of its own: the setting stays here.
        set_slice(Duration::from_secs(3600));
        let turn = Turn::new(64);
        let taken = run(&turn, || std::thread::sleep(Duration::from_micros(5)));
        assert_eq!(taken, 64, "a slice of an hour leaves it to the budget");
        set_slice(Duration::from_micros(1));
        turn.start();
        let taken = run(&turn, || std::thread::sleep(Duration::from_micros(5)));
        assert!(taken <= 4 * FIRST_LOOK, "{taken}");
        set_slice(TURN_SLICE);
    }

    #[test]
    fn a_budget_of_zero_is_taken_as_one() {
        let turn = Turn::new(0);
        assert_eq!(run(&turn, || {}), 1);
    }
}
