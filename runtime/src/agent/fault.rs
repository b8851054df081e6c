//! Fault-injection hooks: where the runtime asks whether a plan wants
//! something broken here.
//!
//! Without the `testkit` feature every hook is an empty inline function.
//! With it, the per-message hooks run only when the agent's kind flags
//! say a plan is installed in its swarm (`metrics::FAULTY`, read in the
//! same load as the metrics' flag, by senders and by the handling); the
//! others cost one relaxed load of a process-wide count of installed
//! plans. A hook that runs finds its swarm's plan through the agent's
//! roster and asks it by the agent's name.
//!
//! The plan is reached through [`Plan`], which `testkit` implements: this
//! layer knows no fault type, so the testkit above it can change its plans
//! without the agent machinery following.

#[cfg(feature = "testkit")]
pub(crate) use hooks::{installed, intercept, uninstalled};

use crate::{Agent, AgentContext, agent::shared::AgentShared};

/// What a plan does to one handling.
#[cfg(feature = "testkit")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleFault {
    /// Before the handler: the thread sleeps this long.
    Delay(std::time::Duration),
    /// Before the handler: the handling panics.
    Panic,
    /// After the handler: the agent is asked to stop.
    Stop,
    /// After the handler: the mailbox waits this long, the thread does not.
    Stall(std::time::Duration),
}

/// What a plan does with one delivery a built-in actor (the router) makes
/// to an agent on someone else's behalf, from `testkit::intercept`.
#[cfg(feature = "testkit")]
#[derive(Debug)]
pub enum Intercepted<T> {
    /// Deliver it now, as usual.
    Deliver(T),
    /// Deliver it after this long (from a task of its own).
    Delayed(T, std::time::Duration),
    /// Lost: the plan keeps it, unanswered, until it is dropped.
    Dropped,
}

/// A fault plan installed in a swarm, as the hooks see it: asked by agent
/// name at each point where something can break, it says what breaks and
/// records what fired.
#[cfg(feature = "testkit")]
pub(crate) trait Plan: Send + Sync + std::fmt::Debug {
    /// The faults of the `nth` handling of `agent` (from 1): those before
    /// its handler if `before`, else those after.
    fn at_handling(&self, agent: &str, nth: u64, before: bool) -> Vec<HandleFault>;

    /// Whether the `start`th start of `agent` (from 1) fails.
    fn fails_start(&self, agent: &str, start: u32) -> bool;

    /// Whether this tell to `agent` is refused as if its mailbox were full.
    fn refuses_tell(&self, agent: &str) -> bool;

    /// What becomes of this delivery to `agent`: `None` to deliver it,
    /// `Some(None)` to lose it, `Some(Some(delay))` to deliver it late.
    fn at_delivery(&self, agent: &str) -> Option<Option<std::time::Duration>>;

    /// Keeps a lost delivery, unanswered, until the plan is dropped.
    fn swallow(&self, delivery: Box<dyn std::any::Any + Send>);
}

/// Before the agent's current message is handled (its count already taken),
/// when its kind's flags say a plan is installed in its swarm: applies a
/// delay, and arms a panic that the generated handler fires inside its
/// panic guard.
#[inline(always)]
pub(crate) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) {
    #[cfg(feature = "testkit")]
    hooks::before_handle(ctx);
    #[cfg(not(feature = "testkit"))]
    let _ = ctx;
}

/// After the handler returned, as [`before_handle`] ran: a panic still
/// armed means the handler was hand-written (generated ones fire it), so
/// the agent fails now; a stop planned after this message is requested.
#[inline(always)]
pub(crate) fn after_handle<A: Agent>(ctx: &mut AgentContext<A>, message: &'static str) {
    #[cfg(feature = "testkit")]
    hooks::after_handle(ctx, message);
    #[cfg(not(feature = "testkit"))]
    let _ = (ctx, message);
}

/// Takes the panic armed for the current message, if any (see
/// `__private::injected_panic`).
#[inline(always)]
pub(crate) fn take_armed_panic<A: Agent>(ctx: &mut AgentContext<A>) -> bool {
    #[cfg(feature = "testkit")]
    {
        // A load and a branch in the common case: no store when unarmed.
        let armed = ctx.core.armed_panic;
        if armed {
            ctx.core.armed_panic = false;
        }
        armed
    }
    #[cfg(not(feature = "testkit"))]
    {
        let _ = ctx;
        false
    }
}

/// Whether a plan refuses this tell as if the mailbox were full. Called
/// only while a plan is installed in the agent's swarm (its kind's flags
/// say so), so the sender's one load of the flags covers it.
#[inline(always)]
pub(crate) fn refuse_tell(shared: &AgentShared) -> bool {
    #[cfg(feature = "testkit")]
    {
        hooks::refuse_tell(shared)
    }
    #[cfg(not(feature = "testkit"))]
    {
        let _ = shared;
        false
    }
}

/// As the agent starts (before its `started` hook): panics if the plan
/// fails this start.
#[inline(always)]
pub(crate) fn on_start<A: Agent>(ctx: &mut AgentContext<A>) {
    #[cfg(feature = "testkit")]
    if hooks::any() {
        hooks::on_start(ctx);
    }
    #[cfg(not(feature = "testkit"))]
    let _ = ctx;
}

#[cfg(feature = "testkit")]
mod hooks {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use actix::{AsyncContext, fut::wrap_future};

    use super::{HandleFault, Intercepted, Plan};
    use crate::{Agent, AgentContext, AgentRef, During, agent::shared::AgentShared};

    /// Plans installed in any swarm of the process.
    static INSTALLED: AtomicUsize = AtomicUsize::new(0);

    #[inline(always)]
    pub(super) fn any() -> bool {
        INSTALLED.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn installed() {
        INSTALLED.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn uninstalled() {
        INSTALLED.fetch_sub(1, Ordering::Relaxed);
    }

    fn plan_of(shared: &AgentShared) -> Option<Arc<dyn Plan>> {
        shared.roster()?.faults.read().clone()
    }

    #[cold]
    #[inline(never)]
    pub(super) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) {
        let Some(plan) = plan_of(&ctx.core.shared) else {
            return;
        };
        let nth = ctx.core.shared.handled();
        for fault in plan.at_handling(ctx.core.shared.name().as_str(), nth, true) {
            match fault {
                HandleFault::Delay(delay) => std::thread::sleep(delay),
                HandleFault::Panic => ctx.core.armed_panic = true,
                HandleFault::Stop | HandleFault::Stall(_) => {}
            }
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn after_handle<A: Agent>(ctx: &mut AgentContext<A>, message: &'static str) {
        if std::mem::take(&mut ctx.core.armed_panic) {
            let during = During::Handler { message };
            ctx.fail_with_panic(during, &"injected fault: panic");
        }
        let Some(plan) = plan_of(&ctx.core.shared) else {
            return;
        };
        let nth = ctx.core.shared.handled();
        for fault in plan.at_handling(ctx.core.shared.name().as_str(), nth, false) {
            match fault {
                HandleFault::Stall(pause) => {
                    // The mailbox waits; the thread serves other agents.
                    ctx.wait(wrap_future(tokio::time::sleep(pause)));
                }
                HandleFault::Stop => ctx.core.shared.request_stop(),
                HandleFault::Delay(_) | HandleFault::Panic => {}
            }
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn on_start<A: Agent>(ctx: &mut AgentContext<A>) {
        let Some(plan) = plan_of(&ctx.core.shared) else {
            return;
        };
        // Attempts, not successes: a failed start is followed by another
        // restart, and the plan's next start is that one.
        let start = ctx.core.shared.restarts().saturating_add(1);
        if plan.fails_start(ctx.core.shared.name().as_str(), start) {
            std::panic::panic_any(format!("injected fault: start {start} fails"));
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn refuse_tell(shared: &AgentShared) -> bool {
        plan_of(shared).is_some_and(|plan| plan.refuses_tell(shared.name().as_str()))
    }

    /// See `testkit::intercept`.
    pub(crate) fn intercept<A: Agent, T: Send + 'static>(
        to: &AgentRef<A>,
        delivery: T,
    ) -> Intercepted<T> {
        if !any() {
            return Intercepted::Deliver(delivery);
        }
        intercept_planned(to, delivery)
    }

    #[cold]
    #[inline(never)]
    fn intercept_planned<A: Agent, T: Send + 'static>(
        to: &AgentRef<A>,
        delivery: T,
    ) -> Intercepted<T> {
        let Some(plan) = plan_of(to.shared()) else {
            return Intercepted::Deliver(delivery);
        };
        match plan.at_delivery(to.name().as_str()) {
            None => Intercepted::Deliver(delivery),
            Some(Some(delay)) => Intercepted::Delayed(delivery, delay),
            Some(None) => {
                plan.swallow(Box::new(delivery));
                Intercepted::Dropped
            }
        }
    }
}
