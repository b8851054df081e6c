//! The supervisor agent: starts its children in layers, applies its
//! strategy when a child's exit needs more than the child can decide alone,
//! escalates when its intensity is exceeded, restarts its subtree when it is
//! restarted itself.

use std::{
    any::Any,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use actix::{
    AsyncContext, AtomicResponse, Handler, Message,
    fut::{ActorFuture, ActorFutureExt, wrap_future},
};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use super::{ChildExit, ErasedChild, control::SupervisorCore};
use crate::{
    AgentContext, AgentStatus, Escalation, Event, ExitReason, Lifecycle, SpawnError,
    swarm::WeakSwarm,
};

mod builder;
mod handle;
mod ops;
mod start_batch;

pub use builder::{SupervisorBuilder, SupervisorSpec};
pub use handle::{ChildInfo, StopReport, SupervisorRef};

/// Where a supervisor says whether its first start-up succeeded (taken once).
pub(crate) type ReadySlot = Arc<Mutex<Option<oneshot::Sender<Result<(), SpawnError>>>>>;

/// A supervisor: an agent whose work is to start, watch and restart its
/// children. Built from a [`SupervisorSpec`]; addressed by [`SupervisorRef`].
// Permanent, and a restart keeps the child table and the policy: the
// children are restarted in place instead (`restart_subtree`).
#[derive(agentix_macros::Agent)]
#[agent(
    crate = crate,
    kind = "supervisor",
    restart = "permanent",
    keep_state,
    lifecycle,
    reference = SupervisorRef
)]
pub struct Supervisor {
    core: Arc<SupervisorCore>,
    /// Weak: a supervisor lives on one of the swarm's arbiters, which the
    /// swarm's last handle must be able to stop.
    swarm: WeakSwarm,
    initial: Arc<[Arc<dyn ErasedChild>]>,
    ready: ReadySlot,
    start_timeout: Duration,
    exits: Option<mpsc::UnboundedReceiver<ChildExit>>,
    first_start_done: bool,
    restarted: bool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.core.name)
            .field("strategy", &self.core.policy.strategy)
            .finish_non_exhaustive()
    }
}

impl Lifecycle for Supervisor {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        if self.exits.is_none() {
            self.exits = self.core.take_exits();
        }
        ctx.spawn(ExitPoller);
        if !self.first_start_done {
            self.first_start_done = true;
            self.start_children(ctx);
        } else if std::mem::take(&mut self.restarted) {
            self.restart_subtree(ctx);
        }
    }

    fn restarted(&mut self, _cause: &ExitReason, _ctx: &mut AgentContext<Self>) {
        self.restarted = true;
    }
}

impl Supervisor {
    pub(crate) fn new(
        core: Arc<SupervisorCore>,
        swarm: WeakSwarm,
        start_timeout: Duration,
        initial: Arc<[Arc<dyn ErasedChild>]>,
        ready: ReadySlot,
    ) -> Self {
        Self {
            core,
            swarm,
            initial,
            ready,
            start_timeout,
            exits: None,
            first_start_done: false,
            restarted: false,
        }
    }

    /// Runs `work` before any other message or child exit is handled.
    fn serially(
        &mut self,
        ctx: &mut AgentContext<Self>,
        work: impl std::future::Future<Output = ()> + 'static,
    ) {
        ctx.wait(wrap_future::<_, Self>(work));
    }

    fn start_children(&mut self, ctx: &mut AgentContext<Self>) {
        let (core, swarm, initial, ready) = (
            self.core.clone(),
            self.swarm.upgrade(),
            self.initial.clone(),
            self.ready.clone(),
        );
        self.serially(ctx, async move {
            let result = match swarm {
                Some(swarm) => ops::start_layers(&core, &swarm, &initial).await,
                None => Err(SpawnError::SwarmStopped),
            };
            if let Some(tx) = ready.lock().take() {
                let _ = tx.send(result);
            }
        });
    }

    /// After its own restart: every child gets a new incarnation, in place.
    fn restart_subtree(&mut self, ctx: &mut AgentContext<Self>) {
        let (core, start_timeout) = (self.core.clone(), self.start_timeout);
        self.serially(ctx, async move {
            let children: Vec<_> = {
                let mut state = core.state.lock();
                state.reset();
                state.children.iter().map(ops::Snapshot::of).collect()
            };
            ops::park(&children).await;
            let again: Vec<_> = children
                .into_iter()
                .filter(|c| !c.shared.status().is_terminal())
                .map(|c| (c, Duration::ZERO))
                .collect();
            ops::restart_by_layers(&again, start_timeout).await;
        });
    }

    /// A child waits for a decision: restart it (and its group), or give up.
    fn on_child_exit(&mut self, exit: ChildExit, ctx: &mut AgentContext<Self>) {
        let core = self.core.clone();
        let mut state = core.state.lock();
        let Some(at) = state.children.position(exit.key) else {
            return;
        };
        let Some(child) = state.children.get(at) else {
            return;
        };
        let current = child.shared.restarts() == exit.incarnation
            && child.shared.status() == AgentStatus::Waiting;
        if !current || state.giving_up {
            return;
        }
        let failed = ops::Snapshot::of(child);
        if !state.try_restart(core.policy.intensity) {
            state.giving_up = true;
            let all: Vec<_> = state.children.iter().map(ops::Snapshot::of).collect();
            drop(state);
            let escalation = Escalation::new(
                core.name.clone(),
                failed.id.clone(),
                core.policy.intensity,
                exit.reason,
            );
            ctx.wait(
                wrap_future::<_, Self>(async move { ops::park(&all).await }).map(
                    move |(), _: &mut Self, ctx: &mut AgentContext<Self>| {
                        let reason = ExitReason::Escalated(escalation.clone());
                        ctx.core.shared.publish(Event::Escalated { reason });
                        ctx.escalate(escalation);
                    },
                ),
            );
            return;
        }
        let group = core.policy.strategy.affected(at, state.children.slots());
        let delay = state.delay_for(exit.key, &core.policy);
        let members: Vec<_> = group
            .filter_map(|i| state.children.get(i).map(ops::Snapshot::of))
            .collect();
        drop(state);
        let start_timeout = self.start_timeout;
        self.serially(ctx, async move {
            let others: Vec<_> = members
                .iter()
                .filter(|c| c.key != failed.key)
                .cloned()
                .collect();
            ops::park(&others).await;
            let again: Vec<_> = members
                .into_iter()
                .map(|c| {
                    let wait = if c.key == failed.key {
                        delay
                    } else {
                        Duration::ZERO
                    };
                    (c, wait)
                })
                .collect();
            ops::restart_by_layers(&again, start_timeout).await;
        });
    }
}

/// Feeds the exits children report into the supervisor, one at a time: a
/// serial operation (`ctx.wait`) holds it back until it is done.
struct ExitPoller;

impl ActorFuture<Supervisor> for ExitPoller {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Supervisor,
        ctx: &mut AgentContext<Supervisor>,
        task: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            if ctx.waiting() {
                return Poll::Pending;
            }
            let Some(exits) = act.exits.as_mut() else {
                return Poll::Ready(());
            };
            match exits.poll_recv(task) {
                Poll::Ready(Some(exit)) => act.on_child_exit(exit, ctx),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Adds a child at run time.
pub(crate) struct AddChild {
    pub(crate) child: Arc<dyn ErasedChild>,
}

impl Message for AddChild {
    type Result = Result<Arc<dyn Any + Send + Sync>, SpawnError>;
}

impl Handler<AddChild> for Supervisor {
    type Result = AtomicResponse<Self, Result<Arc<dyn Any + Send + Sync>, SpawnError>>;

    fn handle(&mut self, msg: AddChild, _: &mut AgentContext<Self>) -> Self::Result {
        let (core, swarm) = (self.core.clone(), self.swarm.upgrade());
        let work = async move {
            let swarm = swarm.ok_or(SpawnError::SwarmStopped)?;
            ops::add_child(&core, &swarm, msg.child).await
        };
        AtomicResponse::new(Box::pin(wrap_future::<_, Self>(work)))
    }
}

/// Takes a child out of the table, for its caller to stop.
pub(crate) struct RemoveChild {
    pub(crate) id: String,
}

impl Message for RemoveChild {
    type Result = Option<ops::Snapshot>;
}

impl Handler<RemoveChild> for Supervisor {
    type Result = actix::MessageResult<RemoveChild>;

    fn handle(&mut self, msg: RemoveChild, _: &mut AgentContext<Self>) -> Self::Result {
        let mut state = self.core.state.lock();
        let key = state.children.by_id(&msg.id).map(|child| child.key);
        let removed = key.and_then(|key| state.children.remove(key));
        actix::MessageResult(removed.as_ref().map(ops::Snapshot::of))
    }
}
