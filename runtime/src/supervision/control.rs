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
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::Mutex;
use tokio::{sync::mpsc, time::Instant};

use super::{Backoff, Strategy, children::Children};
use crate::{
    AgentName, ExitReason, Intensity, Restart,
    agent::overseer::{ChildExit, Decision, Overseer},
    restart::{RestartWindow, Verdict, decide},
};

/// How a supervisor restarts its children.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SupervisorPolicy {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Backoff,
}

pub(crate) struct SupervisorCore {
    pub(crate) name: AgentName,
    pub(crate) policy: SupervisorPolicy,
    exits: mpsc::UnboundedSender<ChildExit>,
    /// The receiving end, until the supervisor agent takes it.
    exits_rx: Mutex<Option<mpsc::UnboundedReceiver<ChildExit>>>,
    next_key: AtomicU64,
    pub(crate) state: Mutex<CoreState>,
}

pub(crate) struct CoreState {
    history: RestartWindow,
    rng: fastrand::Rng,
    /// Set while the supervisor is giving up: children defer to it.
    pub(crate) giving_up: bool,
    pub(crate) children: Children,
}

impl SupervisorCore {
    pub(crate) fn new(name: AgentName, policy: SupervisorPolicy, seed: u64) -> Arc<Self> {
        let (exits, rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            name,
            policy,
            exits,
            exits_rx: Mutex::new(Some(rx)),
            next_key: AtomicU64::new(1),
            state: Mutex::new(CoreState {
                history: RestartWindow::default(),
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
}

/// The child's side of the tie: what its task asks after an incarnation.
impl Overseer for SupervisorCore {
    fn name(&self) -> &AgentName {
        &self.name
    }

    /// The child's own decision after an incarnation ended for `reason`.
    fn decide(&self, key: u64, restart: Restart, reason: &ExitReason) -> Decision {
        let mut state = self.state.lock();
        if self.policy.strategy != Strategy::OneForOne || state.giving_up {
            // A group restart or an escalation is the supervisor's to run.
            return match restart.restarts_after(reason) {
                true => Decision::Defer,
                false => Decision::End,
            };
        }
        let intensity = self.policy.intensity;
        match decide(
            restart,
            reason,
            intensity,
            &mut state.history,
            Instant::now(),
        ) {
            Verdict::End => Decision::End,
            // Over the intensity: the supervisor escalates.
            Verdict::OverIntensity => Decision::Defer,
            Verdict::Restart => Decision::Restart {
                delay: state.delay_for(key, &self.policy),
            },
        }
    }

    /// Reports an ended incarnation that waits for the supervisor; `false`
    /// if the supervisor is gone.
    fn report(&self, exit: ChildExit) -> bool {
        self.exits.send(exit).is_ok()
    }
}

impl CoreState {
    /// Records one restart if the intensity allows it.
    pub(crate) fn try_restart(&mut self, intensity: Intensity) -> bool {
        self.history.try_record(intensity, Instant::now())
    }

    /// Forgets past restarts (a restarted supervisor starts afresh).
    pub(crate) fn reset(&mut self) {
        self.history.clear();
        self.giving_up = false;
    }

    /// The backoff before the next restart of child `key`: its restarts in
    /// the intensity window count as the attempt number.
    pub(crate) fn delay_for(&mut self, key: u64, policy: &SupervisorPolicy) -> Duration {
        let attempt = self.children.get_mut(key).map_or(1, |child| {
            (child.recent).record(policy.intensity.within(), Instant::now())
        });
        policy.backoff.delay_from(attempt, &mut self.rng)
    }
}
