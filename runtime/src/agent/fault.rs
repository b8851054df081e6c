//! Fault-injection hooks: where the runtime asks whether a plan wants
//! something broken here.
//!
//! Without the `testkit` feature every hook is an empty inline function.
//! With it, the per-message hooks run only when the agent's kind flags
//! say a plan is installed in its swarm (`metrics::FAULTY`, read in the
//! same load as the metrics' flag, by senders and by the handling); the
//! others cost one relaxed load of a process-wide count of installed
//! plans. A hook that runs finds its swarm's plan (through the agent's
//! roster) and matches the agent by name.

#[cfg(feature = "testkit")]
pub(crate) use active::{Active, installed, intercept, uninstalled};

use crate::{Agent, AgentContext, agent::shared::AgentShared};

/// Before the agent's current message is handled (its count already taken),
/// when its kind's flags say a plan is installed in its swarm: applies a
/// delay, and arms a panic that the generated handler fires inside its
/// panic guard.
#[inline(always)]
pub(crate) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) {
    #[cfg(feature = "testkit")]
    active::before_handle(ctx);
    #[cfg(not(feature = "testkit"))]
    let _ = ctx;
}

/// After the handler returned, as [`before_handle`] ran: a panic still
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

/// Whether a plan refuses this tell as if the mailbox were full. Called
/// only while a plan is installed in the agent's swarm (its kind's flags
/// say so), so the sender's one load of the flags covers it.
#[inline(always)]
pub(crate) fn refuse_tell(shared: &AgentShared) -> bool {
    #[cfg(feature = "testkit")]
    {
        active::refuse_tell(shared)
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
    if active::any() {
        active::on_start(ctx);
    }
    #[cfg(not(feature = "testkit"))]
    let _ = ctx;
}

#[cfg(feature = "testkit")]
mod active {
    use std::{
        any::Any,
        collections::HashMap,
        sync::{
            Arc,
            atomic::{AtomicU64, AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use actix::{AsyncContext, fut::wrap_future};
    use parking_lot::Mutex;

    use crate::{
        Agent, AgentContext, AgentRef, During,
        agent::shared::AgentShared,
        testkit::{Fault, FaultPlan, Fired, Intercepted, MAX_FAULT_MS},
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

    /// A plan installed in one swarm, indexed by agent name, with its own
    /// counts of tells and deliveries (from installation), the faults that
    /// fired so far, and the deliveries it swallowed.
    #[derive(Debug)]
    pub(crate) struct Active {
        by_agent: HashMap<String, Vec<(usize, Fault)>>,
        tells: HashMap<String, AtomicU64>,
        deliveries: HashMap<String, AtomicU64>,
        pub(crate) fired: Mutex<Vec<Fired>>,
        /// Dropped deliveries, held unanswered until the plan is dropped:
        /// lost, as far as their sender can tell.
        swallowed: Mutex<Vec<Box<dyn Any + Send>>>,
    }

    impl Active {
        pub(crate) fn new(plan: &FaultPlan) -> Self {
            let mut by_agent: HashMap<String, Vec<(usize, Fault)>> = HashMap::new();
            let (mut tells, mut deliveries) = (HashMap::new(), HashMap::new());
            for (index, fault) in plan.faults.iter().enumerate() {
                let agent = fault.agent().to_owned();
                match fault {
                    Fault::FullMailbox { .. } => {
                        tells.insert(agent.clone(), AtomicU64::new(0));
                    }
                    Fault::DropDelivery { .. } | Fault::DelayDelivery { .. } => {
                        deliveries.insert(agent.clone(), AtomicU64::new(0));
                    }
                    _ => {}
                }
                by_agent
                    .entry(agent)
                    .or_default()
                    .push((index, fault.clone()));
            }
            Self {
                by_agent,
                tells,
                deliveries,
                fired: Mutex::new(Vec::new()),
                swallowed: Mutex::new(Vec::new()),
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

        /// Counts one more event of `agent` in `counts`; its number, from 1.
        fn next(counts: &HashMap<String, AtomicU64>, agent: &str) -> Option<u64> {
            let before = counts.get(agent)?.fetch_add(1, Ordering::Relaxed);
            Some(before.saturating_add(1))
        }
    }

    fn plan_of(shared: &AgentShared) -> Option<Arc<Active>> {
        shared.roster()?.faults.read().clone()
    }

    #[cold]
    #[inline(never)]
    pub(super) fn before_handle<A: Agent>(ctx: &mut AgentContext<A>) {
        let Some(plan) = plan_of(&ctx.core.shared) else {
            return;
        };
        let nth = ctx.core.shared.handled();
        let hits = plan.fire(ctx.core.shared.name().as_str(), |fault| match fault {
            Fault::Panic { nth: at, .. } | Fault::Delay { nth: at, .. } => *at == nth,
            _ => false,
        });
        for fault in hits {
            match fault {
                Fault::Delay { delay_ms, .. } => {
                    std::thread::sleep(Duration::from_millis(delay_ms.min(MAX_FAULT_MS)))
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
        let Some(plan) = plan_of(&ctx.core.shared) else {
            return;
        };
        let nth = ctx.core.shared.handled();
        let hits = plan.fire(ctx.core.shared.name().as_str(), |fault| match fault {
            Fault::Stop { nth: at, .. } | Fault::Stall { nth: at, .. } => *at == nth,
            _ => false,
        });
        for fault in hits {
            match fault {
                Fault::Stall { stall_ms, .. } => {
                    // The mailbox waits; the thread serves other agents.
                    let pause =
                        tokio::time::sleep(Duration::from_millis(stall_ms.min(MAX_FAULT_MS)));
                    ctx.wait(wrap_future(pause));
                }
                _ => ctx.core.shared.request_stop(),
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
        let hits = plan.fire(
            ctx.core.shared.name().as_str(),
            |fault| matches!(fault, Fault::FailStart { start: at, .. } if *at == start),
        );
        if !hits.is_empty() {
            std::panic::panic_any(format!("injected fault: start {start} fails"));
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn refuse_tell(shared: &AgentShared) -> bool {
        let Some(plan) = plan_of(shared) else {
            return false;
        };
        let agent = shared.name().as_str();
        let Some(nth) = Active::next(&plan.tells, agent) else {
            return false;
        };
        let hits = plan.fire(agent, |fault| match fault {
            // Not `from + count`: a plan is data, and that may overflow.
            Fault::FullMailbox { from, count, .. } => nth >= *from && nth - from < *count,
            _ => false,
        });
        !hits.is_empty()
    }

    /// See [`crate::testkit::intercept`].
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
        let agent = to.name().as_str();
        let Some(nth) = Active::next(&plan.deliveries, agent) else {
            return Intercepted::Deliver(delivery);
        };
        let hits = plan.fire(agent, |fault| match fault {
            Fault::DropDelivery { nth: at, .. } | Fault::DelayDelivery { nth: at, .. } => {
                *at == nth
            }
            _ => false,
        });
        match hits.first() {
            None => Intercepted::Deliver(delivery),
            Some(Fault::DelayDelivery { delay_ms, .. }) => Intercepted::Delayed(
                delivery,
                Duration::from_millis((*delay_ms).min(MAX_FAULT_MS)),
            ),
            Some(_) => {
                plan.swallowed.lock().push(Box::new(delivery));
                Intercepted::Dropped
            }
        }
    }
}
