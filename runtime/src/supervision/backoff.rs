//! Exponential backoff with jitter between restarts of the same child.

use std::time::Duration;

use crate::deadline::saturate;

/// The delay before a child's restart: `min × factor^(attempt-1)`, capped at
/// `max`, then spread by ± `jitter` (a fraction) so that children failing
/// together do not restart in lockstep.
///
/// While a child waits, its address stays valid and messages sent to it are
/// queued in order (up to its mailbox bound); the new incarnation handles
/// them. The default is [`Backoff::none`]: restart at once, as OTP does.
///
/// ```
/// use agentix::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1))
///     .factor(2.0)
///     .jitter(0.0);
/// assert_eq!(backoff.delay(1, 7), Duration::from_millis(10));
/// assert_eq!(backoff.delay(3, 7), Duration::from_millis(40));
/// assert_eq!(backoff.delay(30, 7), Duration::from_secs(1));
/// ```
///
/// Durations longer than [`MAX_DURATION`](crate::MAX_DURATION) (about 30
/// years, up to `Duration::MAX`) are taken as `MAX_DURATION`: a child with
/// such a backoff waits, restarting in effect never, but it is not lost; it
/// stays [`Restarting`](crate::AgentStatus::Restarting) and a shutdown
/// still stops it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
}

impl Backoff {
    /// No delay: a child is restarted as soon as it ends.
    pub const fn none() -> Self {
        Self {
            min: Duration::ZERO,
            max: Duration::ZERO,
            factor: 1.0,
            jitter: 0.0,
        }
    }

    /// Starts at `min`, doubles per attempt (see [`factor`](Self::factor)),
    /// never exceeds `max`; jitter ± 10 %. Each is saturated to
    /// [`MAX_DURATION`](crate::MAX_DURATION); a `max` below `min` is taken
    /// as `min`.
    pub fn exponential(min: Duration, max: Duration) -> Self {
        let (min, max) = (saturate(min), saturate(max));
        Self {
            min,
            max: max.max(min),
            factor: 2.0,
            jitter: 0.1,
        }
    }

    /// Growth per attempt (at least 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Random spread as a fraction of the delay, from 0 (none) to 1.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The delay before restart number `attempt` (from 1) of one child,
    /// its jitter drawn from `seed`: the same seed gives the same delay.
    /// A supervisor draws from one generator seeded by
    /// [`SupervisorSpec::seed`](crate::SupervisorSpec::seed), so its runs
    /// repeat.
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        self.delay_from(attempt, &mut fastrand::Rng::with_seed(seed))
    }

    /// [`delay`](Self::delay) with the jitter drawn from `rng`.
    pub(crate) fn delay_from(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        if self.min.is_zero() {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let base = self.min.as_secs_f64() * self.factor.powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let spread = if self.jitter > 0.0 {
            1.0 + self.jitter * (rng.f64() * 2.0 - 1.0)
        } else {
            1.0
        };
        let secs = (capped * spread).clamp(0.0, self.max.as_secs_f64());
        // f64 seconds round: the result may land a hair above `max`.
        Duration::try_from_secs_f64(secs).map_or(self.max, |delay| delay.min(self.max))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_never_waits() {
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 0..10 {
            assert_eq!(
                Backoff::none().delay_from(attempt, &mut rng),
                Duration::ZERO
            );
        }
    }

    #[test]
    fn delays_grow_by_the_factor_up_to_the_cap() {
        let backoff =
            Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1)).jitter(0.0);
        let mut rng = fastrand::Rng::with_seed(7);
        let delays: Vec<u64> = (1..=6)
            .map(|a| backoff.delay_from(a, &mut rng).as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_is_seeded() {
        let backoff =
            Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10)).jitter(0.2);
        let sample = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..100)
                .map(|_| backoff.delay_from(1, &mut rng))
                .collect::<Vec<_>>()
        };
        let delays = sample(42);
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(80) && *d <= Duration::from_millis(120))
        );
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "jitter spreads the delays"
        );
        assert_eq!(delays, sample(42), "the same seed gives the same delays");
    }

    #[test]
    fn silly_parameters_are_tamed() {
        let backoff = Backoff::exponential(Duration::from_millis(10), Duration::from_millis(5))
            .factor(f64::NAN)
            .jitter(7.0);
        let delay = backoff.delay(3, 1);
        assert!(delay <= Duration::from_millis(10), "{delay:?}");
    }

    #[test]
    fn the_longest_backoff_is_saturated_not_a_panic() {
        let backoff = Backoff::exponential(Duration::MAX, Duration::MAX);
        for attempt in [0, 1, 2, u32::MAX] {
            assert_eq!(backoff.delay(attempt, 3), crate::MAX_DURATION);
        }
    }
}
