//! Fault-injection hooks: where the runtime asks whether a plan wants
//! something broken here.
//!
//! Without the `testkit` feature every hook is an empty inline function.
//! With it and no plan installed, a hook costs one relaxed load of a
//! process-wide count of installed plans; only when some swarm in the
//! process has a plan does a hook look for its own swarm's (through the
//! agent's roster) and match the agent by name.

#[cfg(feature = "testkit")]
pub(crate) use active::{Active, installed, uninstalled};

use crate::{Agent, AgentContext};

/// Before the agent's current message is handled (its count already taken):
/// applies a delay, and arms a panic that the generated handler fires
/// inside its panic guard. Whether [`after_handle`] has work to do: the
/// one load of the switch per message is this one.
#[inline(always)]
pub(crate) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) -> bool {
    #[cfg(feature = "testkit")]
    {
        let any = active::any();
        if any {
            active::before_handle(ctx);
        }
        any
    }
    #[cfg(not(feature = "testkit"))]
    {
        let _ = ctx;
        false
    }
}

/// After the handler returned, if [`before_handle`] said so: a panic still
/// armed means the handler was hand-written (generated ones fire it), so
/// the agent fails now; a stop planned after this message is requested.
#[inline(always)]
pub(crate) fn after_handle<A: Agent>(ctx: &mut AgentContext<A>, message: &'static str) {
    #[cfg(feature = "testkit")]
    active::after_handle(ctx, message);
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

/// As the agent starts (before its `started` hook): panics if the plan
/// fails this start.
#[inline(always)]
pub(crate) fn on_start<A: Agent>(ctx: &mut AgentContext<A>) {
    #[cfg(feature = "testkit")]
    if active::any() {
        active::on_start(ctx);
    }
    #[cfg(not(feature = "testkit"))]
    let _ = ctx;
}

#[cfg(feature = "testkit")]
mod active {
    use std::{
        collections::HashMap,
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use parking_lot::Mutex;

    use crate::{
        Agent, AgentContext, During,
        testkit::{Fault, FaultPlan, Fired},
    };

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

    /// A plan installed in one swarm, indexed by agent name, with the
    /// faults that fired so far.
    #[derive(Debug)]
    pub(crate) struct Active {
        by_agent: HashMap<String, Vec<(usize, Fault)>>,
        pub(crate) fired: Mutex<Vec<Fired>>,
    }

    impl Active {
        pub(crate) fn new(plan: &FaultPlan) -> Self {
            let mut by_agent: HashMap<String, Vec<(usize, Fault)>> = HashMap::new();
            for (index, fault) in plan.faults.iter().enumerate() {
                let faults = by_agent.entry(fault.agent().to_owned()).or_default();
                faults.push((index, fault.clone()));
            }
            Self {
                by_agent,
                fired: Mutex::new(Vec::new()),
            }
        }

        /// The faults of `agent` that `hit` selects, each recorded as fired.
        fn fire(&self, agent: &str, hit: impl Fn(&Fault) -> bool) -> Vec<Fault> {
            let Some(faults) = self.by_agent.get(agent) else {
                return Vec::new();
            };
            let hits: Vec<(usize, Fault)> =
                (faults.iter()).filter(|(_, f)| hit(f)).cloned().collect();
            let mut fired = self.fired.lock();
            fired.extend(hits.iter().map(|(index, fault)| Fired {
                index: *index,
                fault: fault.clone(),
            }));
            hits.into_iter().map(|(_, fault)| fault).collect()
        }
    }

    fn plan_of<A: Agent>(ctx: &AgentContext<A>) -> Option<std::sync::Arc<Active>> {
        ctx.core.shared.roster()?.faults.read().clone()
    }

    #[cold]
    #[inline(never)]
    pub(super) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) {
        let Some(plan) = plan_of(ctx) else { return };
        let nth = ctx.core.shared.handled();
        let hits = plan.fire(ctx.core.shared.name().as_str(), |fault| match fault {
            Fault::Panic { nth: at, .. } | Fault::Delay { nth: at, .. } => *at == nth,
            _ => false,
        });
        for fault in hits {
            match fault {
                Fault::Delay { delay_ms, .. } => {
                    std::thread::sleep(Duration::from_millis(delay_ms))
                }
                _ => ctx.core.armed_panic = true,
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
        let Some(plan) = plan_of(ctx) else { return };
        let nth = ctx.core.shared.handled();
        let hits = plan.fire(
            ctx.core.shared.name().as_str(),
            |fault| matches!(fault, Fault::Stop { nth: at, .. } if *at == nth),
        );
        if !hits.is_empty() {
            ctx.core.shared.request_stop();
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn on_start<A: Agent>(ctx: &mut AgentContext<A>) {
        let Some(plan) = plan_of(ctx) else { return };
        // Attempts, not successes: a failed start is followed by another
        // restart, and the plan's next start is that one.
        let start = ctx.core.shared.restarts() + 1;
        let hits = plan.fire(
            ctx.core.shared.name().as_str(),
            |fault| matches!(fault, Fault::FailStart { start: at, .. } if *at == start),
        );
        if !hits.is_empty() {
            std::panic::panic_any(format!("injected fault: start {start} fails"));
        }
    }
}
