//! When an ended incarnation is replaced, and how often that may happen.
//!
//! Pure logic, no runtime: the restart type ([`Restart::restarts_after`]),
//! one sliding window of recent restarts ([`RestartWindow`]) and the one
//! decision over them ([`decide`]), which an agent without a supervisor
//! and a one-for-one supervisor deciding for its child both take. Unit-tested
//! with injected time.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

use crate::{ExitReason, Intensity};

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

/// The restarts inside the current window, oldest first: one pointer
/// until the first restart (most agents never restart, and a supervisor
/// with 100k children keeps one per child).
#[derive(Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "one pointer where most never restart, instead of a 32-byte deque"
)]
pub(crate) struct RestartWindow(Option<Box<VecDeque<Instant>>>);

impl RestartWindow {
    /// Forgets the restarts at least `within` before `now`.
    fn forget(&mut self, within: Duration, now: Instant) -> &mut VecDeque<Instant> {
        let recent = self.0.get_or_insert_default();
        while recent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= within)
        {
            recent.pop_front();
        }
        recent
    }

    /// Records a restart at `now` if `intensity` allows one more; `false`
    /// (and nothing recorded) once the limit is reached.
    pub(crate) fn try_record(&mut self, intensity: Intensity, now: Instant) -> bool {
        let recent = self.forget(intensity.within(), now);
        if recent.len() >= intensity.max_restarts() as usize {
            return false;
        }
        recent.push_back(now);
        true
    }

    /// Records a restart at `now`, whatever the limit; how many fall in the
    /// window of length `within`, this one included (a backoff's attempt).
    pub(crate) fn record(&mut self, within: Duration, now: Instant) -> u32 {
        let recent = self.forget(within, now);
        recent.push_back(now);
        u32::try_from(recent.len()).unwrap_or(u32::MAX)
    }

    /// Forgets every restart (a restarted supervisor starts afresh).
    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }
}

/// What follows an incarnation that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not restarted: its restart type says so for this reason.
    End,
    /// Restarted; the restart is recorded in the window.
    Restart,
    /// A restart is due, but one more would exceed the intensity: the agent
    /// gives up, or its supervisor escalates.
    OverIntensity,
}

/// The one restart decision: whether an incarnation of restart type
/// `restart` that ended for `reason` at `now` is replaced, within
/// `intensity` over the restarts in `window`.
pub(crate) fn decide(
    restart: Restart,
    reason: &ExitReason,
    intensity: Intensity,
    window: &mut RestartWindow,
    now: Instant,
) -> Verdict {
    if !restart.restarts_after(reason) {
        Verdict::End
    } else if window.try_record(intensity, now) {
        Verdict::Restart
    } else {
        Verdict::OverIntensity
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
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(
                window.try_record(intensity, t0 + Duration::from_secs(i)),
                "restart {i}"
            );
        }
        assert!(!window.try_record(intensity, t0 + Duration::from_millis(4999)));
    }

    #[test]
    fn restarts_older_than_the_window_no_longer_count() {
        let intensity = Intensity::new(2, Duration::from_secs(1));
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        assert!(window.try_record(intensity, t0));
        assert!(window.try_record(intensity, t0 + Duration::from_millis(500)));
        assert!(!window.try_record(intensity, t0 + Duration::from_millis(999)));
        assert!(window.try_record(intensity, t0 + Duration::from_millis(1000)));
    }

    #[test]
    fn zero_intensity_never_restarts() {
        let mut window = RestartWindow::default();
        assert!(!window.try_record(Intensity::new(0, Duration::from_secs(1)), Instant::now()));
    }

    #[test]
    fn the_decision_ends_restarts_or_gives_up_by_type_and_intensity() {
        let intensity = Intensity::new(1, Duration::from_secs(1));
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        let normal = ExitReason::Normal;
        assert_eq!(
            decide(Restart::Transient, &normal, intensity, &mut window, t0),
            Verdict::End,
            "a transient agent that stopped itself is not restarted"
        );
        assert_eq!(
            decide(Restart::Permanent, &failed(), intensity, &mut window, t0),
            Verdict::Restart
        );
        assert_eq!(
            decide(Restart::Permanent, &failed(), intensity, &mut window, t0),
            Verdict::OverIntensity
        );
        assert_eq!(
            decide(
                Restart::Permanent,
                &failed(),
                intensity,
                &mut window,
                t0 + Duration::from_secs(1)
            ),
            Verdict::Restart,
            "the first restart left the window"
        );
    }

    #[test]
    fn record_counts_the_restarts_in_the_window_whatever_the_limit() {
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        let within = Duration::from_secs(1);
        assert_eq!(window.record(within, t0), 1);
        assert_eq!(window.record(within, t0 + Duration::from_millis(10)), 2);
        assert_eq!(window.record(within, t0 + Duration::from_secs(2)), 1);
        window.clear();
        assert_eq!(window.record(within, t0 + Duration::from_secs(2)), 1);
    }
}
