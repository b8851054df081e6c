//! Dead letters: messages that were accepted into a mailbox but never
//! handled, with the reason. Nothing the runtime accepted disappears without
//! one.
//!
//! A swarm hands every dead letter to its [`DeadLetterSink`]; the default,
//! [`DeadLetterLog`], counts them by reason and logs each at `warn` level.
//! These are untyped (the payload is `Box<dyn Any>`); what a router could not
//! deliver is kept typed, queryable and redrivable by the router's own
//! dead-letter agent (`agentix::actors::router::DeadLetters`).

use std::{
    any::Any,
    cell::RefCell,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::AgentName;

/// Why a message was not handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The agent stopped for good with the message still in its mailbox.
    AgentStopped,
    /// The caller of an ask gave up (its deadline passed) before the agent
    /// reached the message, so it was skipped.
    RequesterGone,
}

impl DeadLetterReason {
    /// Every reason, in a fixed order.
    pub const ALL: [Self; 2] = [Self::AgentStopped, Self::RequesterGone];

    /// A short snake_case label, stable for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AgentStopped => "agent_stopped",
            Self::RequesterGone => "requester_gone",
        }
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One undelivered message.
pub struct DeadLetter {
    agent: AgentName,
    message_type: &'static str,
    reason: DeadLetterReason,
    payload: Box<dyn Any + Send>,
}

impl DeadLetter {
    pub(crate) fn new<M: Send + 'static>(
        agent: AgentName,
        reason: DeadLetterReason,
        msg: M,
    ) -> Self {
        Self {
            agent,
            message_type: std::any::type_name::<M>(),
            reason,
            payload: Box::new(msg),
        }
    }

    /// The agent the message was for.
    pub fn agent(&self) -> &AgentName {
        &self.agent
    }

    /// The message type, as `std::any::type_name` spells it.
    pub fn message_type(&self) -> &'static str {
        self.message_type
    }

    /// Why it was not handled.
    pub fn reason(&self) -> DeadLetterReason {
        self.reason
    }

    /// The message itself, to look at: downcast it to its type.
    pub fn payload(&self) -> &(dyn Any + Send) {
        &*self.payload
    }

    /// The message itself, to inspect or resend: downcast it to its type.
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        self.payload
    }
}

impl fmt::Debug for DeadLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadLetter")
            .field("agent", &self.agent)
            .field("message_type", &self.message_type)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Where a swarm sends its dead letters.
///
/// Called on the thread of the agent that could not handle the message, so
/// an implementation should be quick and must not block.
///
/// ```
/// use std::future::Future;
/// use std::sync::{Arc, Mutex};
/// use agentix::{DeadLetter, DeadLetterSink, prelude::*};
/// use tokio::sync::oneshot;
///
/// /// Keeps the undelivered messages for a later retry.
/// #[derive(Default)]
/// struct Keep(Mutex<Vec<DeadLetter>>);
///
/// impl DeadLetterSink for Keep {
///     fn dead_letter(&self, letter: DeadLetter) {
///         self.0.lock().unwrap().push(letter);
///     }
/// }
///
/// #[derive(Agent, Default)]
/// struct Worker;
///
/// #[handlers]
/// impl Worker {
///     /// Holds the mailbox (async handlers are serial) until `until` fires.
///     #[handle]
///     fn pause(&mut self, until: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
///         async move {
///             let _ = until.await;
///         }
///     }
///
///     #[handle]
///     fn job(&mut self, id: u32) {}
/// }
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let kept = Arc::new(Keep::default());
/// let swarm = Swarm::start(SwarmConfig::default().arbiters(1).dead_letters(kept.clone()))?;
/// let worker = swarm.spawn("worker", Worker::default).await?;
/// let (resume, until) = oneshot::channel();
/// worker.tell(Pause { until })?;
/// worker.tell(Job { id: 1 })?;
/// worker.tell(Job { id: 2 })?;
/// worker.stop(); // the pause may finish; the jobs behind it are never handled
/// drop(resume);
/// worker.stopped().await;
/// let letters = std::mem::take(&mut *kept.0.lock().unwrap());
/// let jobs: Vec<u32> = letters
///     .into_iter()
///     .filter_map(|letter| letter.into_payload().downcast::<Job>().ok())
///     .map(|job| job.id)
///     .collect();
/// assert_eq!(jobs, [1, 2]);
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub trait DeadLetterSink: Send + Sync + 'static {
    /// Receives one dead letter.
    fn dead_letter(&self, letter: DeadLetter);
}

/// The default sink: counts by reason and logs each letter at `warn`.
#[derive(Debug, Default)]
pub struct DeadLetterLog {
    counts: [AtomicU64; DeadLetterReason::ALL.len()],
}

impl DeadLetterLog {
    /// How many dead letters of this reason were received.
    pub fn count(&self, reason: DeadLetterReason) -> u64 {
        self.counts[reason as usize].load(Ordering::Relaxed)
    }

    /// How many dead letters were received in all.
    pub fn total(&self) -> u64 {
        DeadLetterReason::ALL.iter().map(|r| self.count(*r)).sum()
    }
}

impl DeadLetterSink for DeadLetterLog {
    fn dead_letter(&self, letter: DeadLetter) {
        self.counts[letter.reason as usize].fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            agent = %letter.agent,
            message = letter.message_type,
            reason = %letter.reason,
            "dead letter"
        );
    }
}

thread_local! {
    /// The agent whose mailbox is being torn down on this thread, if any.
    static DRAINING: RefCell<Option<(AgentName, Arc<dyn DeadLetterSink>)>> =
        const { RefCell::new(None) };
}

/// Runs `f` (which drops an agent's mailbox) so that every message dropped
/// unhandled inside it becomes a dead letter of that agent.
pub(crate) fn draining<R>(
    agent: &AgentName,
    sink: &Arc<dyn DeadLetterSink>,
    f: impl FnOnce() -> R,
) -> R {
    // `try_with`: an agent dropped while its thread tears down must not
    // panic here; its letters are then only logged.
    let previous = DRAINING
        .try_with(|cell| cell.replace(Some((agent.clone(), sink.clone()))))
        .ok()
        .flatten();
    let result = f();
    let _ = DRAINING.try_with(|cell| *cell.borrow_mut() = previous);
    result
}

/// A message is being dropped unhandled; report it against the agent whose
/// mailbox is draining on this thread.
pub(crate) fn dropped_unhandled<M: Send + 'static>(msg: M) {
    let scope = DRAINING
        .try_with(|cell| cell.borrow().clone())
        .ok()
        .flatten();
    match scope {
        Some((agent, sink)) => {
            hand_over(
                &*sink,
                DeadLetter::new(agent, DeadLetterReason::AgentStopped, msg),
            );
        }
        // Only reachable if actix drops an envelope outside an agent task;
        // still not silent.
        None => tracing::warn!(
            message = std::any::type_name::<M>(),
            "message dropped outside any agent's mailbox"
        ),
    }
}

/// Gives `letter` to `sink`, each letter its own panic boundary: a sink that
/// panics, or a message whose `Drop` panics when the sink lets it go, must
/// not stop a mailbox's drain half-way (the letters after it would be lost,
/// and dropped later on whatever thread let the mailbox go).
pub(crate) fn hand_over(sink: &dyn DeadLetterSink, letter: DeadLetter) {
    let agent = letter.agent.clone();
    let message = letter.message_type;
    let handed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sink.dead_letter(letter);
    }));
    if let Err(payload) = handed {
        let text = crate::failure::panic_text(&*payload);
        crate::failure::discard(payload);
        tracing::error!(
            agent = %agent,
            message,
            panic = %text,
            "a dead letter's hand-over panicked (in the sink, or in the message's Drop); the drain goes on"
        );
    }
}
