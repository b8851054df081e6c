//! Building an agent's first incarnation on its arbiter and spawning the
//! task that owns it.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use actix::dev::channel::AddressReceiver;

use super::{AgentTask, Owner, Phase};
use crate::{
    Agent, AgentContext, AgentStatus, During, Event, ExitReason, Failure, Intensity, Restart,
    agent::context::Core, agent::overseer::Link, agent::shared::AgentShared,
    agent::start_latch::StartSlot, dead_letter, restart::RestartWindow,
};

/// How an unsupervised agent is restarted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnsupervisedPolicy {
    pub(crate) restart: Restart,
    pub(crate) intensity: Intensity,
}

/// Everything needed to start an agent on its arbiter.
pub(crate) struct Launch<A: Agent> {
    pub(crate) rx: AddressReceiver<A>,
    pub(crate) shared: Arc<AgentShared>,
    pub(crate) factory: Arc<dyn Fn() -> A + Send + Sync>,
    /// Messages per turn (at least 1).
    pub(crate) budget: usize,
    pub(crate) policy: UnsupervisedPolicy,
    /// How long a stop waits for async handlers still awaiting.
    pub(crate) grace: std::time::Duration,
    pub(crate) started_tx: StartSlot,
    /// Run when the agent ends, before it leaves the swarm's roster.
    pub(crate) on_end: Option<super::OnEnd>,
    pub(crate) link: Option<Link>,
}

impl<A: Agent> Launch<A> {
    /// Builds the first incarnation and spawns its task on the current
    /// arbiter. Must run on the agent's arbiter thread.
    pub(crate) fn run(self) {
        let Self {
            rx,
            shared,
            factory,
            budget,
            policy,
            grace,
            started_tx,
            on_end,
            link,
        } = self;
        let core = Core {
            shared: shared.clone(),
            factory: factory.clone(),
            fresh: None,
            exit: None,
            restart_cause: None,
            started_tx: Some(started_tx),
            turn: crate::budget::Turn::new(budget),
            keepalive: std::cell::Cell::new(None),
            replies_pending: 0,
            #[cfg(feature = "testkit")]
            armed_panic: false,
        };
        let mut ctx = AgentContext::new(rx, core);
        match catch_unwind(AssertUnwindSafe(|| factory())) {
            Ok(act) => {
                let owner = match link {
                    Some(link) => Owner::Supervisor(link),
                    None => Owner::Alone {
                        intensity: policy.intensity,
                        window: RestartWindow::default(),
                    },
                };
                crate::turns::spawn(AgentTask {
                    fut: ctx.into_future(act),
                    phase: Phase::Running,
                    timer: None,
                    // Saturated at MAX_DURATION by every setter: it fits.
                    grace_ns: u64::try_from(grace.as_nanos()).unwrap_or(u64::MAX),
                    restart: policy.restart,
                    owner,
                    shared,
                    registered: false,
                    stopping: false,
                    parking: false,
                    draining: false,
                    forced: false,
                    panicked: false,
                    exit: None,
                    on_end: on_end.map(Box::new),
                });
            }
            Err(payload) => {
                let failure =
                    Failure::from_panic(shared.name().clone(), During::Factory, &*payload);
                crate::failure::discard(payload);
                tracing::error!(agent = %shared.name(), "{failure}");
                let reason = ExitReason::Failed(failure);
                let started_tx = ctx.core.started_tx.take();
                dead_letter::draining(shared.name(), &shared.dead_letters, || drop(ctx));
                // As a panic in the first `started` hook: failed, then ended.
                shared.publish(Event::Failed {
                    reason: reason.clone(),
                });
                super::end_for_good(&shared, on_end, started_tx, AgentStatus::Failed, reason);
            }
        }
    }
}
