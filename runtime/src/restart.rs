//! When an ended incarnation is replaced, and how often that may happen.
//!
//! Pure logic, no runtime: the decision ([`Restart::restarts_after`]) and the
//! sliding-window limit ([`Intensity`]) are unit-tested with injected time.

use std::{collections::VecDeque, fmt, time::Duration};

use tokio::time::Instant;

use crate::ExitReason;

/// Restart types, as in Erlang/OTP child specs.
///
/// ```
/// # use agentix::prelude::*;
/// # #[derive(Agent, Default)] struct Job;
/// # #[handlers] impl Job { #[handle] fn fail(&mut self) { panic!("once is enough") } }
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let job = swarm.agent(Job::default).restart(Restart::Temporary).spawn().await?;
/// job.fail().await.unwrap_err();
/// assert!(job.stopped().await.failure().is_some()); // not restarted
/// assert_eq!(job.status(), AgentStatus::Failed);
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whether it failed or stopped itself.
    Permanent,
    /// Restarted after a failure (a panic), not after a normal stop.
    #[default]
    Transient,
    /// Never restarted.
    Temporary,
}

impl Restart {
    /// Whether an incarnation that ended for `reason` is replaced.
    ///
    /// A shutdown (clean or forced) is never followed by a restart.
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match (self, reason) {
            (_, ExitReason::Shutdown | ExitReason::Killed) | (Self::Temporary, _) => false,
            (Self::Permanent, _) => true,
            (Self::Transient, reason) => reason.is_failure(),
        }
    }
}

/// At most `max_restarts` restarts within any window of length `within`;
/// one more and the agent gives up (stops for good, reported as failed).
///
/// The default, 3 restarts in 5 seconds, is Elixir's supervisor default.
///
/// ```
/// use agentix::Intensity;
/// use std::time::Duration;
///
/// let intensity = Intensity::new(10, Duration::from_secs(1));
/// assert_eq!(intensity.max_restarts(), 10);
/// assert_eq!(Intensity::default(), Intensity::new(3, Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    max_restarts: u32,
    within: Duration,
}

impl Intensity {
    /// At most `max_restarts` restarts within `within`.
    ///
    /// A window longer than [`MAX_DURATION`](crate::MAX_DURATION) (up to
    /// `Duration::MAX`) is taken as `MAX_DURATION`: restarts are never
    /// forgotten. An empty window (`Duration::ZERO`) would forget each
    /// restart at once and so never stop a restart loop: a swarm, spawn or
    /// supervisor given one fails with
    /// [`ConfigError::ZeroIntensityWindow`](crate::ConfigError::ZeroIntensityWindow).
    pub const fn new(max_restarts: u32, within: Duration) -> Self {
        Self {
            max_restarts,
            within: crate::deadline::saturate(within),
        }
    }

    /// The number of restarts allowed in a window.
    pub fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The length of the window.
    pub fn within(&self) -> Duration {
        self.within
    }
}

impl Default for Intensity {
    fn default() -> Self {
        Self::new(3, Duration::from_secs(5))
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} restarts in {:?}", self.max_restarts, self.within)
    }
}

/// The restarts of one agent inside the current window.
#[derive(Debug, Default)]
pub(crate) struct RestartHistory {
    at: VecDeque<Instant>,
}

impl RestartHistory {
    /// Records a restart at `now` if `intensity` allows it; `false` means the
    /// limit is exceeded and the agent must give up.
    pub(crate) fn try_restart(&mut self, intensity: Intensity, now: Instant) -> bool {
        while let Some(&first) = self.at.front() {
            if now.saturating_duration_since(first) >= intensity.within {
                self.at.pop_front();
            } else {
                break;
            }
        }
        if self.at.len() >= intensity.max_restarts as usize {
            return false;
        }
        self.at.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentName, During, Failure};

    fn failed() -> ExitReason {
        let payload: Box<dyn std::any::Any + Send> = Box::new("x");
        ExitReason::Failed(Failure::from_panic(
            AgentName::new("a").unwrap(),
            During::Lifecycle,
            &*payload,
        ))
    }

    #[test]
    fn restart_types_follow_otp() {
        use ExitReason::{Normal, Shutdown};
        assert!(Restart::Permanent.restarts_after(&Normal));
        assert!(Restart::Permanent.restarts_after(&failed()));
        assert!(!Restart::Transient.restarts_after(&Normal));
        assert!(Restart::Transient.restarts_after(&failed()));
        assert!(!Restart::Temporary.restarts_after(&failed()));
        for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
            assert!(
                !restart.restarts_after(&Shutdown),
                "{restart:?} after shutdown"
            );
        }
    }

    #[test]
    fn exactly_max_restarts_fit_in_the_window_and_the_next_one_does_not() {
        let intensity = Intensity::new(3, Duration::from_secs(5));
        let mut history = RestartHistory::default();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(
                history.try_restart(intensity, t0 + Duration::from_secs(i)),
                "restart {i}"
            );
        }
        assert!(!history.try_restart(intensity, t0 + Duration::from_millis(4999)));
    }

    #[test]
    fn restarts_older_than_the_window_no_longer_count() {
        let intensity = Intensity::new(2, Duration::from_secs(1));
        let mut history = RestartHistory::default();
        let t0 = Instant::now();
        assert!(history.try_restart(intensity, t0));
        assert!(history.try_restart(intensity, t0 + Duration::from_millis(500)));
        assert!(!history.try_restart(intensity, t0 + Duration::from_millis(999)));
        assert!(history.try_restart(intensity, t0 + Duration::from_millis(1000)));
    }

    #[test]
    fn zero_intensity_never_restarts() {
        let mut history = RestartHistory::default();
        assert!(!history.try_restart(Intensity::new(0, Duration::from_secs(1)), Instant::now()));
    }
}
