//! What went wrong in an agent, and why an incarnation ended.

use std::{any::Any, fmt};

use crate::{AgentName, Intensity};

/// Where in an agent's life a panic happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum During {
    /// While handling the message of this type (sync handler, or the
    /// synchronous part of an async one).
    Handler {
        /// The message type, as `std::any::type_name` spells it.
        message: &'static str,
    },
    /// While polling the future returned by an async handler.
    AsyncHandler {
        /// The message type, as `std::any::type_name` spells it.
        message: &'static str,
    },
    /// In the agent's factory, building a fresh incarnation.
    Factory,
    /// In a lifecycle hook, a spawned future or a hand-written handler whose
    /// message the runtime could not attribute.
    Lifecycle,
}

/// A panic caught inside an agent: which agent, where, and the panic text.
///
/// It is what the caller of the failing message receives (inside
/// [`AskError::Panicked`](crate::AskError::Panicked)) and what the new
/// incarnation's [`Lifecycle::restarted`](crate::Lifecycle::restarted) hook
/// is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(Box<FailureInner>);

/// Boxed so that a reply `Result<T, Failure>` stays as small as `T` allows:
/// every reply of a generated handler carries this type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FailureInner {
    agent: AgentName,
    during: During,
    panic: String,
}

impl Failure {
    /// Records a caught panic from its payload.
    pub(crate) fn from_panic(agent: AgentName, during: During, payload: &(dyn Any + Send)) -> Self {
        Self(Box::new(FailureInner {
            agent,
            during,
            panic: panic_text(payload),
        }))
    }

    /// The agent that failed.
    pub fn agent(&self) -> &AgentName {
        &self.0.agent
    }

    /// Where the panic happened.
    pub fn during(&self) -> During {
        self.0.during
    }

    /// The panic message (`"explicit panic"` style text of `panic!`).
    pub fn panic_text(&self) -> &str {
        &self.0.panic
    }

    /// The message type being handled, if the panic happened in a handler.
    pub fn message_type(&self) -> Option<&'static str> {
        match self.0.during {
            During::Handler { message } | During::AsyncHandler { message } => Some(message),
            During::Factory | During::Lifecycle => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let agent = &self.0.agent;
        let text = &self.0.panic;
        match self.0.during {
            During::Handler { message } => {
                write!(f, "agent `{agent}` panicked handling {message}: {text}")
            }
            During::AsyncHandler { message } => {
                write!(
                    f,
                    "agent `{agent}` panicked in the async handler of {message}: {text}"
                )
            }
            During::Factory => write!(f, "agent `{agent}` panicked in its factory: {text}"),
            During::Lifecycle => write!(f, "agent `{agent}` panicked: {text}"),
        }
    }
}

impl std::error::Error for Failure {}

/// Why an agent incarnation ended.
///
/// ```
/// # use agentix::prelude::*;
/// # #[derive(Agent, Default)] struct Worker;
/// # #[handlers] impl Worker { #[handle] fn quit(&mut self, ctx: &mut AgentContext<Self>) { ctx.stop() } }
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let worker = swarm.spawn("worker", Worker::default).await?;
/// worker.quit().await?;
/// assert_eq!(worker.stopped().await, ExitReason::Normal);
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// The agent stopped itself (`ctx.stop()`), or every address to it was dropped.
    Normal,
    /// The swarm, its supervisor or a caller of `stop()` asked it to stop,
    /// and it did, after the message it was handling finished.
    Shutdown,
    /// It was asked to end and did not finish within its shutdown timeout,
    /// so it was stopped by force: what it was still handling (an async
    /// handler awaiting, a future in `ctx.wait`) was abandoned, and the
    /// callers got [`AskError::Closed`](crate::AskError::Closed); its
    /// stopping hooks ran. A stop for good is never followed by a restart;
    /// an incarnation its supervisor ended this way for a group restart
    /// (one-for-all, rest-for-one) is restarted as the group is, and its
    /// `restarted` hook is told `Killed`.
    Killed,
    /// It panicked.
    Failed(Failure),
    /// It is a supervisor, and gave up: a child needed more restarts than
    /// its intensity allows. Its parent treats this like a failure.
    Escalated(Escalation),
}

impl ExitReason {
    /// The panic, if the incarnation ended in one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(failure) => Some(failure),
            Self::Normal | Self::Shutdown | Self::Killed | Self::Escalated(_) => None,
        }
    }

    /// Whether the incarnation ended in a failure: a panic or an escalation.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed(_) | Self::Escalated(_))
    }
}

/// Why a supervisor gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation(Box<EscalationInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct EscalationInner {
    supervisor: AgentName,
    child: AgentName,
    intensity: Intensity,
    cause: ExitReason,
}

impl Escalation {
    pub(crate) fn new(
        supervisor: AgentName,
        child: AgentName,
        intensity: Intensity,
        cause: ExitReason,
    ) -> Self {
        Self(Box::new(EscalationInner {
            supervisor,
            child,
            intensity,
            cause,
        }))
    }

    /// The supervisor that gave up.
    pub fn supervisor(&self) -> &AgentName {
        &self.0.supervisor
    }

    /// The child whose restart was one too many.
    pub fn child(&self) -> &AgentName {
        &self.0.child
    }

    /// The intensity that was exceeded.
    pub fn intensity(&self) -> Intensity {
        self.0.intensity
    }

    /// How that child's last incarnation ended.
    pub fn cause(&self) -> &ExitReason {
        &self.0.cause
    }
}

impl fmt::Display for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "supervisor `{}` gave up: child `{}` needed more than {} ({})",
            self.0.supervisor, self.0.child, self.0.intensity, self.0.cause
        )
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("stopped normally"),
            Self::Shutdown => f.write_str("shut down"),
            Self::Killed => f.write_str("stopped by force after its shutdown timeout"),
            Self::Failed(failure) => fmt::Display::fmt(failure, f),
            Self::Escalated(escalation) => fmt::Display::fmt(escalation, f),
        }
    }
}

/// The text of a panic payload: `panic!` produces `&str` or `String`.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Drops a caught panic's payload, which may panic itself (a payload type
/// whose `Drop` panics): that second panic must not escape where the first
/// was caught, or a reply meant to carry the failure would be lost. A third
/// payload is leaked rather than risk an abort.
pub(crate) fn discard(payload: Box<dyn Any + Send>) {
    if let Err(again) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)))
    {
        tracing::error!("a panic payload's Drop panicked; its payload is leaked");
        std::mem::forget(again);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> AgentName {
        AgentName::new("worker").unwrap()
    }

    #[test]
    fn panic_text_reads_str_string_and_other_payloads() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_text(&*caught), "boom 7");
        let caught = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_text(&*caught), "static");
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(42u8)).unwrap_err();
        assert_eq!(panic_text(&*caught), "panic with a non-string payload");
    }

    #[test]
    fn display_names_agent_message_and_text() {
        let failure = Failure(Box::new(FailureInner {
            agent: name(),
            during: During::Handler {
                message: "app::Add",
            },
            panic: "overflow".into(),
        }));
        assert_eq!(
            failure.to_string(),
            "agent `worker` panicked handling app::Add: overflow"
        );
        assert_eq!(failure.message_type(), Some("app::Add"));
    }
}
