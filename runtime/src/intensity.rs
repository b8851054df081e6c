//! How often an agent or a supervisor may restart: the sliding-window
//! limit, a plain value (the window that counts is [`crate::restart`]'s).

use std::{fmt, time::Duration};

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
