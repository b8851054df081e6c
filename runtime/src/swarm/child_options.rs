//! [`ChildOptions`]: what every way of starting an agent can set, and
//! [`option_setters!`], the one definition of each setter that [`Spawn`],
//! `ChildSpec`, `SupervisorSpec` and `SupervisorBuilder` share.
//!
//! The builders keep inherent methods (no trait to import, the same API as
//! before); each builder names the options it takes and the macro writes
//! them from the single definition here, so a limit or a saturation rule
//! cannot drift between builders again.
//!
//! [`Spawn`]: crate::Spawn

use std::time::Duration;

use crate::{AgentName, Intensity, NameError, Restart};

/// How an agent is to be started, whichever builder starts it. `None` is
/// "not set": the agent's own attribute or the swarm's default applies when
/// it is prepared.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildOptions {
    /// Checked when set, so the error is the name's; reported at the start.
    /// (A supervisor's child has its id apart: it must have one.)
    pub(crate) name: Option<Result<AgentName, NameError>>,
    /// A supervisor's child's only, checked with its siblings.
    pub(crate) depends_on: Vec<String>,
    /// An agent alone's only: under a supervisor, the supervisor's applies.
    pub(crate) intensity: Option<Intensity>,
    pub(crate) start: StartOptions,
}

/// The options every start reads. Apart and `Copy` because a supervisor
/// keeps them for each child's restarts: a kept child holds no second name
/// or dependency list, and a restart copies them without allocating.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StartOptions {
    pub(crate) restart: Option<Restart>,
    /// Saturated at [`MAX_DURATION`](crate::MAX_DURATION).
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) mailbox: Option<usize>,
    pub(crate) budget: Option<usize>,
    pub(crate) arbiter: Option<usize>,
    /// Saturated at [`MAX_DURATION`](crate::MAX_DURATION).
    pub(crate) ask_timeout: Option<Duration>,
}

impl ChildOptions {
    /// A supervisor's child's: a child always has a shutdown timeout,
    /// since its supervisor waits that long for it.
    pub(crate) fn child(shutdown_timeout: Duration) -> Self {
        let mut options = Self::default();
        options.start.shutdown_timeout = Some(shutdown_timeout);
        options
    }
}

/// A builder that carries [`ChildOptions`]: how [`option_setters!`] reaches
/// them.
pub(crate) trait CarriesOptions {
    fn options(&mut self) -> &mut ChildOptions;
}

/// Writes the listed option setters as inherent methods of the builder in
/// whose `impl` block it stands (which must implement [`CarriesOptions`]).
macro_rules! option_setters {
    ($($option:ident),+ $(,)?) => {
        $($crate::swarm::option_setters!(@ $option);)+
    };
    (@ restart) => {
        /// Restart type: permanent, transient or temporary. An agent's
        /// default is its `#[agent(restart = ..)]` (transient unless set);
        /// a nested supervisor's is permanent.
        pub fn restart(mut self, restart: $crate::Restart) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.restart = Some(restart);
            self
        }
    };
    (@ shutdown_timeout) => {
        /// How long it gets to stop before it is stopped by force: an
        /// agent's default is
        /// [`DEFAULT_SHUTDOWN_TIMEOUT`](crate::DEFAULT_SHUTDOWN_TIMEOUT), a
        /// nested supervisor's (for its whole tree) 30 s.
        ///
        /// Zero stops it by force at once (OTP's `brutal_kill`); longer
        /// than [`MAX_DURATION`](crate::MAX_DURATION) (up to
        /// `Duration::MAX`) is taken as `MAX_DURATION`: wait for as long as
        /// it takes (OTP's `infinity`).
        pub fn shutdown_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.shutdown_timeout =
                Some($crate::deadline::saturate(timeout));
            self
        }
    };
    (@ depends_on) => {
        /// Ids of siblings that must be running before it starts. An id its
        /// supervisor does not have, or a circle of dependencies, fails the
        /// tree's check with a [`TreeError`](crate::TreeError).
        pub fn depends_on<I, S>(mut self, ids: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            ($crate::swarm::CarriesOptions::options(&mut self).depends_on)
                .extend(ids.into_iter().map(Into::into));
            self
        }
    };
    (@ mailbox) => {
        /// Mailbox capacity, overriding the agent's and the swarm's default:
        /// from 1 to [`MAX_MAILBOX`](crate::MAX_MAILBOX), else the start
        /// fails with [`ConfigError::ZeroMailbox`](crate::ConfigError::ZeroMailbox)
        /// or [`ConfigError::MailboxTooLarge`](crate::ConfigError::MailboxTooLarge).
        pub fn mailbox(mut self, capacity: usize) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.mailbox = Some(capacity);
            self
        }
    };
    (@ budget) => {
        /// Messages handled per turn before the agent yields its arbiter
        /// thread, overriding the agent's `#[agent(budget = ..)]` and the
        /// swarm's default ([`SwarmConfig::budget`](crate::SwarmConfig::budget)).
        /// 0 fails the start with [`ConfigError::ZeroBudget`](crate::ConfigError::ZeroBudget).
        pub fn budget(mut self, messages: usize) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.budget = Some(messages);
            self
        }
    };
    (@ on_arbiter) => {
        /// Places it (a supervisor: the supervisor itself) on arbiter
        /// `index` (from 0) instead of round-robin; an index the swarm does
        /// not have fails the start with
        /// [`SpawnError::NoSuchArbiter`](crate::SpawnError::NoSuchArbiter).
        pub fn on_arbiter(mut self, index: usize) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.arbiter = Some(index);
            self
        }
    };
    (@ ask_timeout) => {
        /// Default deadline of asks to this agent, overriding the agent's
        /// `#[agent(ask_timeout = ..)]` and the swarm's default.
        ///
        /// Zero fails the start with
        /// [`ConfigError::ZeroTimeout`](crate::ConfigError::ZeroTimeout);
        /// longer than [`MAX_DURATION`](crate::MAX_DURATION) (up to
        /// `Duration::MAX`) is taken as `MAX_DURATION`: no deadline.
        pub fn ask_timeout(mut self, after: ::std::time::Duration) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).start.ask_timeout =
                Some($crate::deadline::saturate(after));
            self
        }
    };
    (@ intensity) => {
        /// Restart intensity, overriding the swarm's default. An empty
        /// window fails the start with
        /// [`ConfigError::ZeroIntensityWindow`](crate::ConfigError::ZeroIntensityWindow).
        pub fn intensity(mut self, intensity: $crate::Intensity) -> Self {
            $crate::swarm::CarriesOptions::options(&mut self).intensity = Some(intensity);
            self
        }
    };
}
pub(crate) use option_setters;
