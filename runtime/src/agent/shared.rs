//! The control block one agent shares between its references, its task, its
//! supervisor and the swarm: identity, status, restart count, and the few
//! signals that cross threads (stop, supervisor directives, room in the
//! mailbox, status changes).

use std::{
    any::Any,
    fmt,
    pin::Pin,
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering},
    },
    task::Waker,
    time::Duration,
};

use parking_lot::Mutex;
use tokio::sync::{Notify, futures::Notified};

pub(crate) use super::directive::Directive;
use super::directive::NO_DIRECTIVE;
use super::roster::Roster;
use crate::{
    AgentName, AgentStatus, DeadLetterSink, ExitReason,
    event::EventBus,
    metrics::{KindMetrics, SenderSide},
};

/// Fixed facts about an agent, set at spawn.
pub(crate) struct Identity {
    pub(crate) id: u64,
    pub(crate) name: AgentName,
    pub(crate) kind: &'static str,
    pub(crate) ask_timeout: Duration,
    pub(crate) supervisor: Option<AgentName>,
}

/// Bits of `AgentShared::signals`.
const STOP: u8 = 1;
const DIRECTIVE: u8 = 2;
const KILL: u8 = 4;
/// A sender waits for room: the agent wakes it after taking a message out.
/// Not an interruption, but read in the same load as those, once per
/// message.
const ROOM: u8 = 8;

/// `repr(C)`, so that the order below holds: what senders write while the
/// swarm is observed (`sender`) comes first, what the agent's task reads
/// and writes at every message comes last, and the read-mostly rest lies
/// between, more than a cache line of it. The two never share a line, and
/// the block needs no 64-byte alignment (which cost a padded Arc header
/// and tail: 96 bytes of each agent's 448).
#[repr(C)]
pub(crate) struct AgentShared {
    /// What senders write; see [`SenderSide`].
    pub(crate) sender: SenderSide,
    pub(crate) identity: Identity,
    pub(crate) dead_letters: Arc<dyn DeadLetterSink>,
    pub(crate) events: EventBus,
    /// Runtime data of special agents (a supervisor's core), set at spawn.
    extension: OnceLock<Arc<dyn Any + Send + Sync>>,
    /// The swarm's roster, which the agent leaves when it ends. Kept here
    /// rather than in a callback: this block has room for it, and a boxed
    /// callback per agent costs a heap chunk each.
    roster: Weak<Roster>,
    /// The pending directive, encoded (see [`Directive::encode`]): one
    /// word instead of a lock around an option.
    directive: AtomicU64,
    /// The agent's task, woken by reference so the registration lasts for
    /// the task's life (`AtomicWaker` forgets it at each wake, and a signal
    /// raised in the middle of a poll then loses the next one).
    task_waker: Mutex<Option<Waker>>,
    room: Notify,
    changed: Notify,
    exit: Mutex<Option<ExitReason>>,
    restarts: AtomicU32,
    /// Incarnations that have started: only grows, so a waiter cannot miss
    /// a start the way it can miss a brief `Running` status.
    starts: AtomicU32,
    status: AtomicU8,
    /// Stop / directive / kill requests, and a sender waiting for room. The
    /// agent's context checks this once per message (it must stop taking
    /// mail when interrupted, and wake those waiting for the slot it
    /// freed), so it is one word.
    signals: AtomicU8,
    /// What agents of its kind share: the handling-time histogram, the
    /// counts of ended ones.
    pub(crate) kind: Arc<KindMetrics>,
    /// Odd while the agent's task is inside a poll (handling messages),
    /// even between polls; see [`Activity`].
    pub(crate) activity: AtomicU64,
    /// Messages handled; only the agent's task writes.
    pub(crate) handled: AtomicU64,
    /// Asks taken out of the mailbox after their asker left (dead-lettered
    /// unhandled); only the agent's task writes.
    pub(crate) skipped: AtomicU64,
}

impl AgentShared {
    /// A control block for unit tests: no agent behind it, nothing listening.
    #[cfg(test)]
    pub(crate) fn detached(id: u64, name: &str, roster: Weak<Roster>) -> Arc<Self> {
        let identity = Identity {
            id,
            name: AgentName::new(name).expect("a valid test name"),
            kind: "test",
            ask_timeout: std::time::Duration::from_secs(1),
            supervisor: None,
        };
        let dead_letters = Arc::new(crate::DeadLetterLog::default());
        let kind = crate::metrics::Kinds::default().of("test");
        Arc::new(Self::new(
            identity,
            dead_letters,
            EventBus::new(4),
            roster,
            kind,
        ))
    }

    pub(crate) fn new(
        identity: Identity,
        dead_letters: Arc<dyn DeadLetterSink>,
        events: EventBus,
        roster: Weak<Roster>,
        kind: Arc<KindMetrics>,
    ) -> Self {
        Self {
            identity,
            dead_letters,
            events,
            status: AtomicU8::new(AgentStatus::Starting as u8),
            restarts: AtomicU32::new(0),
            starts: AtomicU32::new(0),
            signals: AtomicU8::new(0),
            directive: AtomicU64::new(NO_DIRECTIVE),
            task_waker: Mutex::new(None),
            room: Notify::new(),
            changed: Notify::new(),
            exit: Mutex::new(None),
            extension: OnceLock::new(),
            roster,
            activity: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            sender: SenderSide::new(kind.clone()),
            kind,
        }
    }

    /// The swarm's roster, while the swarm lives.
    #[cfg(feature = "testkit")]
    pub(crate) fn roster(&self) -> Option<Arc<Roster>> {
        self.roster.upgrade()
    }

    /// Takes the agent off the swarm's roster (it has ended).
    pub(crate) fn leave_roster(&self) {
        if let Some(roster) = self.roster.upgrade() {
            roster.remove(self.identity.id, &self.identity.name);
        }
    }

    pub(crate) fn set_extension(&self, extension: Arc<dyn Any + Send + Sync>) {
        let _ = self.extension.set(extension);
    }

    /// The extension set at spawn, if it is a `T`.
    pub(crate) fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.extension.get()?.clone().downcast::<T>().ok()
    }

    pub(crate) fn name(&self) -> &AgentName {
        &self.identity.name
    }

    pub(crate) fn status(&self) -> AgentStatus {
        AgentStatus::from_u8(self.status.load(Ordering::Acquire))
    }

    pub(crate) fn set_status(&self, status: AgentStatus) {
        if self.status.swap(status as u8, Ordering::AcqRel) != status as u8 {
            self.changed.notify_waiters();
        }
    }

    pub(crate) fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    pub(crate) fn count_restart(&self) -> u32 {
        self.restarts.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn starts(&self) -> u32 {
        self.starts.load(Ordering::Acquire)
    }

    /// An incarnation has started: it runs.
    pub(crate) fn started(&self) {
        self.starts.fetch_add(1, Ordering::AcqRel);
        self.set_status(AgentStatus::Running);
        self.changed.notify_waiters();
    }

    /// Publishes a lifecycle event about this agent.
    pub(crate) fn publish(&self, event: crate::Event) {
        let identity = &self.identity;
        self.events.publish(
            &identity.name,
            identity.kind,
            identity.supervisor.as_ref(),
            event,
        );
    }

    /// Asks the agent's task to stop the agent for good (no restart).
    pub(crate) fn request_stop(&self) {
        self.raise(STOP);
    }

    /// Stops the agent for good at its task's next poll, abandoning the
    /// handlers it awaits (its stopping hooks still run; a handler that
    /// never returns cannot be interrupted).
    pub(crate) fn kill(&self) {
        self.raise(STOP | KILL);
    }

    /// Hands the agent's task a directive from its supervisor.
    pub(crate) fn direct(&self, directive: Directive) {
        self.directive.store(directive.encode(), Ordering::Release);
        self.raise(DIRECTIVE);
    }

    fn raise(&self, bits: u8) {
        self.signals.fetch_or(bits, Ordering::AcqRel);
        if let Some(waker) = &*self.task_waker.lock() {
            waker.wake_by_ref();
        }
    }

    /// Whether anything asks the agent to stop taking mail; wakes the
    /// senders waiting for room on the way (called as the agent is about
    /// to take its next message, so after it took the last one out).
    #[inline]
    pub(crate) fn interrupted(&self) -> bool {
        // SeqCst pairs with `wait_for_room`: either the agent sees the flag,
        // or the waiter's retry after setting it sees the freed slot.
        let signals = self.signals.load(Ordering::SeqCst);
        signals != 0 && self.signalled(signals)
    }

    #[cold]
    #[inline(never)]
    fn signalled(&self, signals: u8) -> bool {
        if signals & ROOM != 0 {
            self.wake_room_waiters();
        }
        signals & !ROOM != 0
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.signals.load(Ordering::Acquire) & STOP != 0
    }

    pub(crate) fn kill_requested(&self) -> bool {
        self.signals.load(Ordering::Acquire) & KILL != 0
    }

    pub(crate) fn directive_pending(&self) -> bool {
        self.signals.load(Ordering::Acquire) & DIRECTIVE != 0
    }

    /// Takes the pending directive, if any.
    pub(crate) fn take_directive(&self) -> Option<Directive> {
        self.signals.fetch_and(!DIRECTIVE, Ordering::AcqRel);
        Directive::decode(self.directive.swap(NO_DIRECTIVE, Ordering::AcqRel))
    }

    pub(crate) fn register_task_waker(&self, waker: &Waker) {
        let mut slot = self.task_waker.lock();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Wakes the senders waiting for room, once.
    pub(crate) fn wake_room_waiters(&self) {
        if self.signals.fetch_and(!ROOM, Ordering::SeqCst) & ROOM != 0 {
            self.room.notify_waiters();
        }
    }

    /// A sender is about to wait for room: the returned future completes at
    /// the next message taken out of the mailbox. The caller must retry its
    /// send once after this returns, before awaiting.
    pub(crate) fn wait_for_room(&self) -> Pin<Box<Notified<'_>>> {
        let mut notified = Box::pin(self.room.notified());
        notified.as_mut().enable();
        self.signals.fetch_or(ROOM, Ordering::SeqCst);
        notified
    }

    /// Records the final exit and wakes everyone waiting for the end.
    pub(crate) fn end(&self, status: AgentStatus, reason: ExitReason) {
        *self.exit.lock() = Some(reason);
        self.set_status(status);
        // Senders waiting for room must see the mailbox closed now.
        self.room.notify_waiters();
    }

    /// Waits until `done` holds of this agent. It is checked at every
    /// status change and start: a condition that holds only for an instant
    /// can be missed, so `done` should be monotonic (a count, a terminal status).
    pub(crate) async fn until(&self, done: impl Fn(&Self) -> bool) {
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            notified.await;
        }
    }

    /// Waits until the agent has ended for good and returns why.
    pub(crate) async fn ended(&self) -> ExitReason {
        loop {
            self.until(|agent| agent.status().is_terminal()).await;
            if let Some(reason) = self.exit.lock().clone() {
                return reason;
            }
        }
    }
}

impl fmt::Debug for AgentShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.identity.name)
            .field("kind", &self.identity.kind)
            .field("status", &self.status())
            .field("restarts", &self.restarts())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_is_taken_once() {
        let agent = AgentShared::detached(1, "a", Weak::new());
        agent.direct(Directive::Park);
        assert!(agent.directive_pending());
        assert_eq!(agent.take_directive(), Some(Directive::Park));
        assert!(!agent.directive_pending());
        assert_eq!(agent.take_directive(), None, "taken once");
    }
}
