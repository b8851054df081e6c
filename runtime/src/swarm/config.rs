//! [`SwarmConfig`]: every setting has a working default, and a setting that
//! cannot work is a [`ConfigError`] when the swarm starts, never a panic.

use std::{fmt, num::NonZeroUsize, sync::Arc, time::Duration};

pub use super::config_error::ConfigError;
use crate::{DeadLetterLog, DeadLetterSink, Intensity, deadline::saturate};

/// The largest mailbox capacity accepted (actix's channel refuses more;
/// `#[agent(mailbox = ..)]` is checked against the same limit).
pub use agentix_rules::MAX_MAILBOX;
/// The largest number of arbiters accepted.
pub const MAX_ARBITERS: usize = 1024;
/// The largest [`SwarmConfig::event_buffer`] accepted: the buffer is
/// allocated in full when the swarm starts (about 100 bytes an event).
pub const MAX_EVENT_BUFFER: usize = 1 << 20;
/// Messages an agent handles in one turn on its arbiter (which also ends
/// after about [`TURN_SLICE`](crate::TURN_SLICE)), unless it or the swarm
/// sets another ([`SwarmConfig::budget`]).
pub const DEFAULT_BUDGET: usize = 256;

/// How a swarm runs. `SwarmConfig::default()` is the embedded default: one
/// arbiter per core, mailboxes of 1024, asks with a 5 s deadline.
///
/// ```
/// use agentix::{Intensity, SwarmConfig};
/// use std::time::Duration;
///
/// let config = SwarmConfig::default()
///     .arbiters(2)
///     .default_mailbox(256)
///     .ask_timeout(Duration::from_millis(500))
///     .intensity(Intensity::new(10, Duration::from_secs(1)));
/// assert_eq!(config.arbiter_count(), 2);
/// assert!(SwarmConfig::default().arbiters(0).validate().is_err());
/// ```
#[derive(Clone)]
pub struct SwarmConfig {
    pub(crate) arbiters: Option<usize>,
    pub(crate) default_mailbox: usize,
    pub(crate) ask_timeout: Duration,
    pub(crate) start_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) intensity: Intensity,
    pub(crate) dead_letters: Arc<dyn DeadLetterSink>,
    pub(crate) event_buffer: usize,
    pub(crate) budget: usize,
    pub(crate) turn_slice: Duration,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        Self {
            arbiters: None,
            default_mailbox: 1024,
            ask_timeout: Duration::from_secs(5),
            start_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
            intensity: Intensity::default(),
            dead_letters: Arc::new(DeadLetterLog::default()),
            event_buffer: 4096,
            budget: DEFAULT_BUDGET,
            turn_slice: crate::TURN_SLICE,
        }
    }
}

impl SwarmConfig {
    /// Number of arbiters (threads with an event loop) agents are placed on.
    /// Default: one per core.
    pub fn arbiters(mut self, count: usize) -> Self {
        self.arbiters = Some(count);
        self
    }

    /// Mailbox capacity of agents that set none themselves. Default 1024;
    /// from 1 to [`MAX_MAILBOX`], else [`ConfigError::ZeroMailbox`] or
    /// [`ConfigError::MailboxTooLarge`].
    pub fn default_mailbox(mut self, capacity: usize) -> Self {
        self.default_mailbox = capacity;
        self
    }

    /// Deadline of asks to agents that set none themselves. Default 5 s.
    ///
    /// Zero is [`ConfigError::ZeroTimeout`]; longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (up to `Duration::MAX`) is
    /// taken as `MAX_DURATION`: no deadline.
    pub fn ask_timeout(mut self, after: Duration) -> Self {
        self.ask_timeout = saturate(after);
        self
    }

    /// How long `spawn` (and a supervisor starting its children) waits for
    /// an agent's factory and `started` hook. Default 5 s.
    ///
    /// Zero is [`ConfigError::ZeroTimeout`]; longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (up to `Duration::MAX`) is
    /// taken as `MAX_DURATION`: no deadline.
    pub fn start_timeout(mut self, after: Duration) -> Self {
        self.start_timeout = saturate(after);
        self
    }

    /// How long `shutdown` waits for agents spawned without a supervisor to
    /// stop before it stops them by force, and how long any such agent's
    /// `stop()` lets the message it is handling finish (an async handler
    /// awaiting, a future in `ctx.wait`) before abandoning it
    /// ([`ExitReason::Killed`](crate::ExitReason::Killed)). A child's own is
    /// [`ChildSpec::shutdown_timeout`](crate::ChildSpec::shutdown_timeout).
    /// Default 5 s.
    ///
    /// Zero is [`ConfigError::ZeroTimeout`]; longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (up to `Duration::MAX`) is
    /// taken as `MAX_DURATION`: wait for as long as the agents take.
    ///
    /// ```
    /// use agentix::SwarmConfig;
    /// use std::time::Duration;
    ///
    /// let config = SwarmConfig::default().shutdown_timeout(Duration::MAX);
    /// assert!(config.validate().is_ok());
    /// assert!(SwarmConfig::default().shutdown_timeout(Duration::ZERO).validate().is_err());
    /// ```
    pub fn shutdown_timeout(mut self, after: Duration) -> Self {
        self.shutdown_timeout = saturate(after);
        self
    }

    /// Restart intensity of agents spawned without their own. Default 3 in
    /// 5 s. An empty window is [`ConfigError::ZeroIntensityWindow`].
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// How many lifecycle events each subscriber may fall behind before it
    /// is told it missed some. Default 4096; from 1 to
    /// [`MAX_EVENT_BUFFER`], else [`ConfigError::ZeroEventBuffer`] or
    /// [`ConfigError::EventBufferTooLarge`] (the buffer is allocated when
    /// the swarm starts).
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events;
        self
    }

    /// Messages an agent handles in one turn, by default, before its
    /// neighbours on the arbiter get theirs (default [`DEFAULT_BUDGET`]).
    ///
    /// actix handles an actor's messages until its mailbox is empty; an
    /// agent whose producers keep its mailbox full would keep the thread,
    /// and its neighbours on the arbiter, its own timers and its spawned
    /// futures would wait. So a turn ends after `messages` messages, or
    /// once it has taken about [`TURN_SLICE`](crate::TURN_SLICE) (50 µs)
    /// of handling, whichever comes first; then the agent's timers and
    /// futures run, and the agent queues up again behind the agents of its
    /// arbiter that are ready (in the order they were woken, whichever
    /// thread woke them). A neighbour waits for at most one turn of each
    /// agent ready before it. A smaller budget shortens turns of cheap
    /// messages; a larger one saves a switch per turn (a few hundred
    /// nanoseconds). A handler that blocks the thread holds it for as long
    /// as it runs whatever the budget: give such an agent a budget of 1,
    /// or an arbiter of its own.
    ///
    /// At least 1 (0 is [`ConfigError::ZeroBudget`]); `usize::MAX` means no
    /// count limit (the slice still ends a long turn). An agent sets its own
    /// with `#[agent(budget = N)]`, a spawn with
    /// [`Spawn::budget`](crate::Spawn::budget), a child with
    /// [`ChildSpec::budget`](crate::ChildSpec::budget).
    ///
    /// ```
    /// use agentix::SwarmConfig;
    ///
    /// let config = SwarmConfig::default().budget(16);
    /// assert!(config.validate().is_ok());
    /// assert!(SwarmConfig::default().budget(0).validate().is_err());
    /// ```
    pub fn budget(mut self, messages: usize) -> Self {
        self.budget = messages;
        self
    }

    /// How long an agent's turn may take before it yields its arbiter
    /// thread to the agents ready behind it, when its budget of messages
    /// ([`budget`](Self::budget)) does not end it first. Default
    /// [`TURN_SLICE`](crate::TURN_SLICE), 50 µs. Longer turns switch less
    /// and make neighbours wait longer; a turn is checked against it only
    /// every few messages, so it is a target, not a bound. Zero is
    /// [`ConfigError::ZeroTimeout`]; longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) is taken as that (turns then
    /// end by the budget alone, which is how `benches/instructions.rs` keeps
    /// valgrind's slowness from ending them).
    ///
    /// ```
    /// use agentix::SwarmConfig;
    /// use std::time::Duration;
    ///
    /// assert!(SwarmConfig::default().turn_slice(Duration::from_micros(200)).validate().is_ok());
    /// assert!(SwarmConfig::default().turn_slice(Duration::ZERO).validate().is_err());
    /// ```
    pub fn turn_slice(mut self, slice: Duration) -> Self {
        self.turn_slice = saturate(slice);
        self
    }

    /// Where dead letters go. Default: a [`DeadLetterLog`].
    pub fn dead_letters(mut self, sink: Arc<dyn DeadLetterSink>) -> Self {
        self.dead_letters = sink;
        self
    }

    /// The number of arbiters this configuration starts.
    pub fn arbiter_count(&self) -> usize {
        self.arbiters
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
    }

    /// Checks every setting; [`Swarm::start`](crate::Swarm::start) does this too.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.arbiter_count() {
            0 => return Err(ConfigError::ZeroArbiters),
            n if n > MAX_ARBITERS => return Err(ConfigError::TooManyArbiters { requested: n }),
            _ => {}
        }
        check_mailbox(self.default_mailbox)?;
        match self.event_buffer {
            0 => return Err(ConfigError::ZeroEventBuffer),
            n if n > MAX_EVENT_BUFFER => {
                return Err(ConfigError::EventBufferTooLarge { requested: n });
            }
            _ => {}
        }
        check_budget(self.budget)?;
        for (setting, value) in [
            ("ask_timeout", self.ask_timeout),
            ("start_timeout", self.start_timeout),
            ("shutdown_timeout", self.shutdown_timeout),
            ("turn_slice", self.turn_slice),
        ] {
            check_timeout(setting, value)?;
        }
        check_intensity(self.intensity)
    }
}

pub(crate) fn check_mailbox(capacity: usize) -> Result<(), ConfigError> {
    match capacity {
        0 => Err(ConfigError::ZeroMailbox),
        n if n > MAX_MAILBOX => Err(ConfigError::MailboxTooLarge { requested: n }),
        _ => Ok(()),
    }
}

pub(crate) fn check_budget(messages: usize) -> Result<(), ConfigError> {
    if messages == 0 {
        Err(ConfigError::ZeroBudget)
    } else {
        Ok(())
    }
}

pub(crate) fn check_timeout(setting: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        Err(ConfigError::ZeroTimeout { setting })
    } else {
        Ok(())
    }
}

pub(crate) fn check_intensity(intensity: Intensity) -> Result<(), ConfigError> {
    if intensity.within().is_zero() {
        Err(ConfigError::ZeroIntensityWindow)
    } else {
        Ok(())
    }
}

impl fmt::Debug for SwarmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwarmConfig")
            .field("arbiters", &self.arbiter_count())
            .field("default_mailbox", &self.default_mailbox)
            .field("ask_timeout", &self.ask_timeout)
            .field("start_timeout", &self.start_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("intensity", &self.intensity)
            .field("budget", &self.budget)
            .field("turn_slice", &self.turn_slice)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_is_valid() {
        let config = SwarmConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert!(config.arbiter_count() >= 1);
    }

    #[test]
    fn each_unworkable_setting_is_named() {
        let base = SwarmConfig::default;
        assert_eq!(
            base().arbiters(0).validate(),
            Err(ConfigError::ZeroArbiters)
        );
        assert_eq!(
            base().arbiters(MAX_ARBITERS + 1).validate(),
            Err(ConfigError::TooManyArbiters {
                requested: MAX_ARBITERS + 1
            })
        );
        assert_eq!(
            base().default_mailbox(0).validate(),
            Err(ConfigError::ZeroMailbox)
        );
        assert_eq!(
            base().default_mailbox(MAX_MAILBOX + 1).validate(),
            Err(ConfigError::MailboxTooLarge {
                requested: MAX_MAILBOX + 1
            })
        );
        assert_eq!(
            base().event_buffer(0).validate(),
            Err(ConfigError::ZeroEventBuffer)
        );
        assert_eq!(
            base().event_buffer(usize::MAX).validate(),
            Err(ConfigError::EventBufferTooLarge {
                requested: usize::MAX
            })
        );
        assert_eq!(base().budget(0).validate(), Err(ConfigError::ZeroBudget));
        assert_eq!(base().budget(usize::MAX).validate(), Ok(()));
        let err = base().ask_timeout(Duration::ZERO).validate().unwrap_err();
        assert_eq!(
            err,
            ConfigError::ZeroTimeout {
                setting: "ask_timeout"
            }
        );
        assert!(err.to_string().contains("ask_timeout"));
        assert_eq!(
            base()
                .intensity(Intensity::new(1, Duration::ZERO))
                .validate(),
            Err(ConfigError::ZeroIntensityWindow)
        );
    }
}
