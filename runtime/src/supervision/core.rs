//! What a supervisor shares with its children's tasks and its references:
//! its policy, the ordered table of its children, and the decision a child's
//! task takes on its own when it can.
//!
//! Why children decide: a one-for-one restart within the intensity needs
//! nothing but this policy, so the child's task takes it under this lock on
//! its own thread and restarts at once, without a round trip to the
//! supervisor's arbiter (a cross-thread wake-up costs 3-90 µs on the CI VM).
//! Everything involving other children, and every escalation, goes to the
//! supervisor actor.

use std::{
    any::Any,
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::Mutex;
use tokio::{sync::mpsc, time::Instant};

use super::{Backoff, ErasedChild, Strategy};
use crate::{
    AgentName, ExitReason, Intensity, Restart, restart::RestartHistory, shared::AgentShared,
};

/// How a supervisor restarts its children.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Backoff,
}

pub(crate) struct SupervisorCore {
    pub(crate) name: AgentName,
    pub(crate) policy: Policy,
    exits: mpsc::UnboundedSender<ChildExit>,
    /// The receiving end, until the supervisor agent takes it.
    exits_rx: Mutex<Option<mpsc::UnboundedReceiver<ChildExit>>>,
    next_key: AtomicU64,
    pub(crate) state: Mutex<CoreState>,
}

pub(crate) struct CoreState {
    history: RestartHistory,
    rng: fastrand::Rng,
    /// Set while the supervisor is giving up: children defer to it.
    pub(crate) giving_up: bool,
    pub(crate) children: Children,
}

/// A child's incarnation ended and the child waits for the supervisor.
#[derive(Debug)]
pub(crate) struct ChildExit {
    pub(crate) key: u64,
    /// The child's restart count when it ended: tells stale reports apart.
    pub(crate) incarnation: u32,
    pub(crate) reason: ExitReason,
}

/// What a child's task does after an incarnation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Restart in place after `delay`.
    Restart { delay: Duration },
    /// End for good: its restart type says so.
    End,
    /// Report to the supervisor and wait for its directive.
    Defer,
}

/// A child's tie to its supervisor.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) core: Arc<SupervisorCore>,
    pub(crate) key: u64,
}

impl SupervisorCore {
    pub(crate) fn new(name: AgentName, policy: Policy, seed: u64) -> Arc<Self> {
        let (exits, rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            name,
            policy,
            exits,
            exits_rx: Mutex::new(Some(rx)),
            next_key: AtomicU64::new(1),
            state: Mutex::new(CoreState {
                history: RestartHistory::default(),
                rng: fastrand::Rng::with_seed(seed),
                giving_up: false,
                children: Children::default(),
            }),
        })
    }

    /// The receiver of child exits, for the supervisor agent (once).
    pub(crate) fn take_exits(&self) -> Option<mpsc::UnboundedReceiver<ChildExit>> {
        self.exits_rx.lock().take()
    }

    /// A key for a new child, known to it before it is in the table.
    pub(crate) fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// The child's own decision after an incarnation ended for `reason`.
    pub(crate) fn decide(&self, key: u64, restart: Restart, reason: &ExitReason) -> Decision {
        if !restart.restarts_after(reason) {
            return Decision::End;
        }
        if self.policy.strategy != Strategy::OneForOne {
            return Decision::Defer;
        }
        let mut state = self.state.lock();
        if state.giving_up || !state.try_restart(self.policy.intensity) {
            // Over the intensity: the supervisor escalates.
            return Decision::Defer;
        }
        Decision::Restart {
            delay: state.delay_for(key, &self.policy),
        }
    }

    /// Reports an ended incarnation that waits for the supervisor; `false`
    /// if the supervisor is gone.
    pub(crate) fn report(&self, exit: ChildExit) -> bool {
        self.exits.send(exit).is_ok()
    }
}

impl CoreState {
    /// Records one restart if the intensity allows it.
    pub(crate) fn try_restart(&mut self, intensity: Intensity) -> bool {
        self.history.try_restart(intensity, Instant::now())
    }

    /// Forgets past restarts (a restarted supervisor starts afresh).
    pub(crate) fn reset(&mut self) {
        self.history = RestartHistory::default();
        self.giving_up = false;
    }

    /// The backoff before the next restart of child `key`: its restarts in
    /// the intensity window count as the attempt number.
    pub(crate) fn delay_for(&mut self, key: u64, policy: &Policy) -> Duration {
        let attempt = self
            .children
            .get_mut(key)
            .map_or(1, |child| child.recent.record(policy.intensity.within()));
        policy.backoff.delay(attempt, &mut self.rng)
    }
}

/// The children of a supervisor in start order.
#[derive(Default)]
pub(crate) struct Children {
    order: Vec<ChildEntry>,
    position: HashMap<u64, usize>,
    /// Child ids to keys: a supervisor may have 100k children.
    by_id: HashMap<AgentName, u64>,
}

pub(crate) struct ChildEntry {
    pub(crate) key: u64,
    pub(crate) spec: Arc<dyn ErasedChild>,
    pub(crate) shared: Arc<AgentShared>,
    /// The typed reference (`AgentRef<A>` or `SupervisorRef`), for lookups.
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
    /// Start layer; a later layer depends on an earlier one.
    pub(crate) layer: usize,
    recent: RecentRestarts,
}

impl ChildEntry {
    pub(crate) fn new(
        key: u64,
        spec: Arc<dyn ErasedChild>,
        shared: Arc<AgentShared>,
        handle: Arc<dyn Any + Send + Sync>,
        layer: usize,
    ) -> Self {
        Self {
            key,
            spec,
            shared,
            handle,
            layer,
            recent: RecentRestarts::default(),
        }
    }

    pub(crate) fn id(&self) -> &AgentName {
        self.spec.id()
    }
}

impl Children {
    pub(crate) fn push(&mut self, entry: ChildEntry) {
        self.position.insert(entry.key, self.order.len());
        self.by_id.insert(entry.id().clone(), entry.key);
        self.order.push(entry);
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<ChildEntry> {
        let at = self.position.remove(&key)?;
        let entry = self.order.remove(at);
        self.by_id.remove(entry.id());
        for (index, child) in self.order.iter().enumerate().skip(at) {
            self.position.insert(child.key, index);
        }
        Some(entry)
    }

    pub(crate) fn position(&self, key: u64) -> Option<usize> {
        self.position.get(&key).copied()
    }

    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut ChildEntry> {
        let at = *self.position.get(&key)?;
        self.order.get_mut(at)
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<&ChildEntry> {
        let key = self.by_id.get(id)?;
        self.order.get(*self.position.get(key)?)
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, ChildEntry> {
        self.order.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn get(&self, at: usize) -> Option<&ChildEntry> {
        self.order.get(at)
    }

    /// The children that have not ended for good, in start order.
    pub(crate) fn alive(&self) -> Vec<Arc<AgentShared>> {
        self.order
            .iter()
            .filter(|child| !child.shared.status().is_terminal())
            .map(|child| child.shared.clone())
            .collect()
    }

    pub(crate) fn next_layer(&self) -> usize {
        self.order.iter().map(|c| c.layer + 1).max().unwrap_or(0)
    }
}

/// Restart times of one child within the window, for its backoff attempt.
#[derive(Default)]
struct RecentRestarts(std::collections::VecDeque<Instant>);

impl RecentRestarts {
    /// Records a restart now and returns how many fall in the window.
    fn record(&mut self, window: Duration) -> u32 {
        let now = Instant::now();
        while self
            .0
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            self.0.pop_front();
        }
        self.0.push_back(now);
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }
}
