//! Lifecycle events: what happens to agents and supervisors, published to
//! anyone who subscribes (the monitor, tests with a probe).

use std::{fmt, sync::Arc, time::Duration};

use tokio::sync::broadcast;

use crate::{AgentName, ExitReason};

/// One thing that happened in an agent's life.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleEvent {
    agent: AgentName,
    kind: &'static str,
    supervisor: Option<AgentName>,
    event: Event,
}

impl LifecycleEvent {
    /// The agent it happened to.
    pub fn agent(&self) -> &AgentName {
        &self.agent
    }

    /// The agent's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The agent's supervisor, if it has one.
    pub fn supervisor(&self) -> Option<&AgentName> {
        self.supervisor.as_ref()
    }

    /// What happened.
    pub fn event(&self) -> &Event {
        &self.event
    }
}

impl fmt::Display for LifecycleEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: ", self.agent)?;
        match &self.event {
            Event::Started => f.write_str("started"),
            Event::Failed { reason } => write!(f, "failed: {reason}"),
            Event::Restarted { attempt, delay } => {
                write!(f, "restarted (restart {attempt}, after {delay:?})")
            }
            Event::Escalated { reason } => write!(f, "escalated: {reason}"),
            Event::Stopped { reason } => write!(f, "stopped: {reason}"),
            Event::GaveUp { reason } => write!(f, "gave up, the tree is down: {reason}"),
        }
    }
}

/// The kinds of lifecycle events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An incarnation started (the first, or one after a restart).
    Started,
    /// An incarnation ended in a failure: a panic, or (for a supervisor) an
    /// escalation.
    Failed {
        /// What failed.
        reason: ExitReason,
    },
    /// The agent is being restarted in place: its restart number, and the
    /// backoff delay before the new incarnation starts.
    Restarted {
        /// Restart number of this agent, from 1.
        attempt: u32,
        /// Backoff before the new incarnation.
        delay: Duration,
    },
    /// A supervisor exceeded its restart intensity, stopped its children and
    /// failed to its parent.
    Escalated {
        /// Why it gave up.
        reason: ExitReason,
    },
    /// The agent ended for good.
    Stopped {
        /// How its last incarnation ended.
        reason: ExitReason,
    },
    /// A top-level supervisor exceeded its intensity: nobody above it can
    /// restart it, so its tree is down. Also reported by
    /// [`SupervisorRef::stopped`](crate::SupervisorRef::stopped) and
    /// [`Swarm::shutdown`](crate::Swarm::shutdown).
    GaveUp {
        /// Why it gave up.
        reason: ExitReason,
    },
}

/// A subscription to a swarm's lifecycle events, from
/// [`Swarm::events`](crate::Swarm::events).
///
/// Events are buffered per subscriber; one that falls more than the buffer
/// behind is told how many it missed ([`EventError::Missed`]), never
/// silently skipped.
#[derive(Debug)]
pub struct Events {
    rx: broadcast::Receiver<LifecycleEvent>,
}

impl Events {
    /// The next event.
    pub async fn recv(&mut self) -> Result<LifecycleEvent, EventError> {
        self.rx.recv().await.map_err(|err| match err {
            broadcast::error::RecvError::Lagged(missed) => EventError::Missed(missed),
            broadcast::error::RecvError::Closed => EventError::Closed,
        })
    }

    /// Another subscription to the same swarm's events, starting from the
    /// next event published (not from where this one is).
    pub fn resubscribe(&self) -> Events {
        Events {
            rx: self.rx.resubscribe(),
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Result<Option<LifecycleEvent>, EventError> {
        match self.rx.try_recv() {
            Ok(event) => Ok(Some(event)),
            Err(broadcast::error::TryRecvError::Empty) => Ok(None),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => Err(EventError::Missed(missed)),
            Err(broadcast::error::TryRecvError::Closed) => Err(EventError::Closed),
        }
    }
}

/// Why [`Events`] yielded no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// The subscriber fell behind and this many events were dropped for it.
    Missed(u64),
    /// The swarm is gone.
    Closed,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missed(n) => write!(
                f,
                "the subscriber fell behind and missed {n} lifecycle events"
            ),
            Self::Closed => f.write_str("the swarm is gone: no more lifecycle events"),
        }
    }
}

impl std::error::Error for EventError {}

/// Where a swarm's agents publish their events.
#[derive(Debug, Clone)]
pub(crate) struct EventBus {
    tx: Arc<broadcast::Sender<LifecycleEvent>>,
}

impl EventBus {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            tx: Arc::new(broadcast::Sender::new(capacity.max(1))),
        }
    }

    pub(crate) fn subscribe(&self) -> Events {
        Events {
            rx: self.tx.subscribe(),
        }
    }

    pub(crate) fn publish(
        &self,
        agent: &AgentName,
        kind: &'static str,
        supervisor: Option<&AgentName>,
        event: Event,
    ) {
        // Not a per-message path: events are lifecycle transitions.
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(LifecycleEvent {
                agent: agent.clone(),
                kind,
                supervisor: supervisor.cloned(),
                event,
            });
        }
    }
}
