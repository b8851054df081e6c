//! The task that owns one agent on its arbiter: it drives actix's
//! `ContextFut`, catches what escapes it, and on each exit decides between a
//! restart in place (same mailbox, so the same address and the queued
//! messages) and the end.
//!
//! actix's own `Supervisor` cannot do this: it restarts only after a clean
//! `ctx.stop()`, never after a panic, and always with the old state.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use actix::{ActorContext, dev::ContextFut, dev::channel::AddressReceiver};
use tokio::{sync::oneshot, time::Instant};

use crate::{
    Agent, AgentContext, AgentStatus, During, ExitReason, Failure, Intensity, Restart,
    context::Core, dead_letter, restart::RestartHistory, shared::AgentShared,
};

/// How one agent is restarted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) restart: Restart,
    pub(crate) intensity: Intensity,
}

/// Everything needed to start an agent on its arbiter.
pub(crate) struct Launch<A: Agent> {
    pub(crate) rx: AddressReceiver<A>,
    pub(crate) shared: Arc<AgentShared>,
    pub(crate) factory: Arc<dyn Fn() -> A + Send + Sync>,
    pub(crate) policy: Policy,
    pub(crate) started_tx: oneshot::Sender<Result<(), ExitReason>>,
    pub(crate) on_end: Box<dyn FnOnce() + Send>,
}

impl<A: Agent> Launch<A> {
    /// Builds the first incarnation and spawns its task on the current
    /// arbiter. Must run on the agent's arbiter thread.
    pub(crate) fn run(self) {
        let Self {
            rx,
            shared,
            factory,
            policy,
            started_tx,
            on_end,
        } = self;
        let core = Core {
            shared: shared.clone(),
            factory: factory.clone(),
            fresh: None,
            failure: None,
            restart_cause: None,
            started_tx: Some(started_tx),
        };
        let ctx = AgentContext::new(rx, core);
        match catch_unwind(AssertUnwindSafe(|| factory())) {
            Ok(act) => {
                let task = AgentTask {
                    fut: ctx.into_future(act),
                    policy,
                    history: RestartHistory::default(),
                    shared,
                    stop_waker: None,
                    shutdown_seen: false,
                    panicked: false,
                    exit: None,
                    on_end: Some(on_end),
                };
                actix_rt::spawn(task);
            }
            Err(payload) => {
                let failure =
                    Failure::from_panic(shared.name().clone(), During::Factory, &*payload);
                tracing::error!(agent = %shared.name(), "{failure}");
                let reason = ExitReason::Failed(failure);
                let mut ctx = ctx;
                let started_tx = ctx.core.started_tx.take();
                dead_letter::draining(shared.name(), &shared.dead_letters, || drop(ctx));
                on_end();
                if let Some(tx) = started_tx {
                    let _ = tx.send(Err(reason.clone()));
                }
                shared.end(AgentStatus::Failed, reason);
            }
        }
    }
}

struct AgentTask<A: Agent> {
    fut: Option<ContextFut<A, AgentContext<A>>>,
    policy: Policy,
    history: RestartHistory,
    shared: Arc<AgentShared>,
    /// The waker last registered for stop requests, to register only on change.
    stop_waker: Option<Waker>,
    shutdown_seen: bool,
    /// A panic escaped the current incarnation; a second one ends it at once.
    panicked: bool,
    exit: Option<(AgentStatus, ExitReason)>,
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl<A: Agent> Future for AgentTask<A> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if !this
            .stop_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            this.shared.register_stop_waker(cx.waker());
            this.stop_waker = Some(cx.waker().clone());
        }
        loop {
            let Some(fut) = this.fut.as_mut() else {
                return Poll::Ready(());
            };
            if !this.shutdown_seen && this.shared.stop_requested() {
                this.shutdown_seen = true;
                this.shared.set_status(AgentStatus::Stopping);
                fut.ctx().stop();
            }
            match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx))) {
                Ok(Poll::Pending) => {
                    // A stop requested while the context was running paused
                    // its mailbox; act on it now rather than on a later wake.
                    if !this.shutdown_seen && this.shared.stop_requested() {
                        continue;
                    }
                    return Poll::Pending;
                }
                Ok(Poll::Ready(())) => {}
                Err(payload) => {
                    fut.ctx().fail_with_panic(During::Lifecycle, &*payload);
                    if !std::mem::replace(&mut this.panicked, true) {
                        // Poll again so the stopping hooks run.
                        continue;
                    }
                    // Panicking while stopping too: the incarnation is over.
                }
            }
            this.panicked = false;
            if !this.next_incarnation() {
                this.finish();
                return Poll::Ready(());
            }
        }
    }
}

impl<A: Agent> AgentTask<A> {
    /// The current incarnation has ended; restarts it in place if the policy
    /// says so. `false` means the agent ends, with `self.exit` set.
    fn next_incarnation(&mut self) -> bool {
        let Some(fut) = self.fut.as_mut() else {
            return false;
        };
        let ctx = fut.ctx();
        let reason = match ctx.core.failure.take() {
            Some(failure) => ExitReason::Failed(failure),
            None if self.shutdown_seen => ExitReason::Shutdown,
            None => ExitReason::Normal,
        };
        let ended_as = |reason: ExitReason| {
            let status = if reason.failure().is_some() {
                AgentStatus::Failed
            } else {
                AgentStatus::Stopped
            };
            Some((status, reason))
        };
        // Never started: the spawn reports it; restarting would hide it.
        if ctx.core.started_tx.is_some() || !self.policy.restart.restarts_after(&reason) {
            self.exit = ended_as(reason);
            return false;
        }
        // Nobody holds the address any more: nothing could reach a new incarnation.
        if !ctx.connected() {
            self.exit = ended_as(reason);
            return false;
        }
        if !self
            .history
            .try_restart(self.policy.intensity, Instant::now())
        {
            tracing::error!(
                agent = %ctx.name(),
                intensity = %self.policy.intensity,
                "restart intensity exceeded; the agent gives up"
            );
            self.exit = Some((AgentStatus::Failed, reason));
            return false;
        }
        if !A::KEEP_STATE {
            let factory = ctx.core.factory.clone();
            match catch_unwind(AssertUnwindSafe(|| factory())) {
                Ok(fresh) => ctx.core.fresh = Some(fresh),
                Err(payload) => {
                    let failure =
                        Failure::from_panic(ctx.name().clone(), During::Factory, &*payload);
                    tracing::error!(agent = %ctx.name(), "{failure}");
                    self.exit = Some((AgentStatus::Failed, ExitReason::Failed(failure)));
                    return false;
                }
            }
        }
        ctx.core.restart_cause = Some(reason);
        self.shared.count_restart();
        self.shared.set_status(AgentStatus::Restarting);
        match catch_unwind(AssertUnwindSafe(|| fut.restart())) {
            Ok(true) => true,
            Ok(false) => {
                self.exit = Some((AgentStatus::Stopped, ExitReason::Normal));
                false
            }
            Err(payload) => {
                // The `restarted` hook panicked: the new incarnation fails
                // like any other and comes back through here.
                fut.ctx().fail_with_panic(During::Lifecycle, &*payload);
                true
            }
        }
    }

    /// Ends the agent: drops its context and mailbox (queued messages become
    /// dead letters), then tells everyone waiting.
    fn finish(&mut self) {
        let (status, reason) = self
            .exit
            .take()
            .unwrap_or((AgentStatus::Stopped, ExitReason::Shutdown));
        let mut never_started = None;
        if let Some(mut fut) = self.fut.take() {
            never_started = fut.ctx().core.started_tx.take();
            // Stop first, so a still-running context does not re-run hooks
            // when actix's drop polls it one last time.
            fut.ctx().stop();
            let shared = &self.shared;
            dead_letter::draining(shared.name(), &shared.dead_letters, || {
                let _ = catch_unwind(AssertUnwindSafe(|| drop(fut)));
            });
        }
        // Leave the swarm's roster before waking waiters, so whoever awaited
        // the end sees the agent gone from it too.
        if let Some(on_end) = self.on_end.take() {
            on_end();
        }
        // Never started: the spawner learns why from here.
        if let Some(tx) = never_started {
            let _ = tx.send(Err(reason.clone()));
        }
        self.shared.end(status, reason);
    }
}

impl<A: Agent> Drop for AgentTask<A> {
    fn drop(&mut self) {
        // Dropped while still running: its arbiter is being torn down.
        if self.fut.is_some() {
            self.exit = Some((AgentStatus::Stopped, ExitReason::Shutdown));
            self.finish();
        }
    }
}
