//! The control block one agent shares between its references, its task and
//! the swarm: identity, status, restart count, and the few signals that cross
//! threads (stop request, room in the mailbox, end of life).

use std::{
    fmt,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering},
    },
    task::Waker,
    time::Duration,
};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use tokio::sync::{Notify, futures::OwnedNotified};

use crate::{AgentName, DeadLetterSink, ExitReason};

/// Where an agent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentStatus {
    /// Spawned; its factory and `started` hook have not finished yet.
    Starting,
    /// Handling messages.
    Running,
    /// An incarnation ended and the next one is being started in place.
    Restarting,
    /// Stopping for good.
    Stopping,
    /// Ended for good without a failure (stopped itself, or shut down).
    Stopped,
    /// Ended for good after a failure it was not restarted from.
    Failed,
}

impl AgentStatus {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Starting,
            1 => Self::Running,
            2 => Self::Restarting,
            3 => Self::Stopping,
            4 => Self::Stopped,
            _ => Self::Failed,
        }
    }

    /// Whether the agent has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Stopped | Self::Failed)
    }
}

/// Fixed facts about an agent, set at spawn.
pub(crate) struct Identity {
    pub(crate) id: u64,
    pub(crate) name: AgentName,
    pub(crate) kind: &'static str,
    pub(crate) ask_timeout: Duration,
}

pub(crate) struct AgentShared {
    pub(crate) identity: Identity,
    pub(crate) dead_letters: Arc<dyn DeadLetterSink>,
    status: AtomicU8,
    restarts: AtomicU32,
    stop_requested: AtomicBool,
    stop_waker: AtomicWaker,
    room: Arc<Notify>,
    /// Set by a sender about to wait for room; cleared by the agent when it
    /// wakes the waiters. One load per handled message while unset.
    room_wanted: AtomicBool,
    ended: Notify,
    exit: Mutex<Option<ExitReason>>,
}

impl AgentShared {
    pub(crate) fn new(identity: Identity, dead_letters: Arc<dyn DeadLetterSink>) -> Self {
        Self {
            identity,
            dead_letters,
            status: AtomicU8::new(AgentStatus::Starting as u8),
            restarts: AtomicU32::new(0),
            stop_requested: AtomicBool::new(false),
            stop_waker: AtomicWaker::new(),
            room: Arc::new(Notify::new()),
            room_wanted: AtomicBool::new(false),
            ended: Notify::new(),
            exit: Mutex::new(None),
        }
    }

    pub(crate) fn name(&self) -> &AgentName {
        &self.identity.name
    }

    pub(crate) fn status(&self) -> AgentStatus {
        AgentStatus::from_u8(self.status.load(Ordering::Acquire))
    }

    pub(crate) fn set_status(&self, status: AgentStatus) {
        self.status.store(status as u8, Ordering::Release);
    }

    pub(crate) fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    pub(crate) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks the agent's task to stop the agent for good (no restart).
    pub(crate) fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::Release);
        self.stop_waker.wake();
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::Acquire)
    }

    pub(crate) fn register_stop_waker(&self, waker: &Waker) {
        self.stop_waker.register(waker);
    }

    /// Whether a sender waits for room. One load per handled message.
    #[inline]
    pub(crate) fn room_wanted(&self) -> bool {
        // SeqCst pairs with `wait_for_room`: either the agent sees the flag,
        // or the waiter's retry after setting it sees the freed slot.
        self.room_wanted.load(Ordering::SeqCst)
    }

    /// Wakes the senders waiting for room, once.
    pub(crate) fn wake_room_waiters(&self) {
        if self.room_wanted.swap(false, Ordering::SeqCst) {
            self.room.notify_waiters();
        }
    }

    /// A sender is about to wait for room: the returned future completes at
    /// the next message taken out of the mailbox. The caller must retry its
    /// send once after this returns, before awaiting.
    pub(crate) fn wait_for_room(&self) -> Pin<Box<OwnedNotified>> {
        let mut notified = Box::pin(self.room.clone().notified_owned());
        notified.as_mut().enable();
        self.room_wanted.store(true, Ordering::SeqCst);
        notified
    }

    /// Records the final exit and wakes everyone waiting for the end.
    pub(crate) fn end(&self, status: AgentStatus, reason: ExitReason) {
        *self.exit.lock() = Some(reason);
        self.set_status(status);
        self.ended.notify_waiters();
        // Senders waiting for room must see the mailbox closed now.
        self.room.notify_waiters();
    }

    /// Waits until the agent has ended for good and returns why.
    pub(crate) async fn ended(&self) -> ExitReason {
        loop {
            let notified = self.ended.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.status().is_terminal()
                && let Some(reason) = self.exit.lock().clone()
            {
                return reason;
            }
            notified.await;
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
