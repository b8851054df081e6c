//! A plan installed in one swarm, as the runtime's fault hooks ask it
//! (`agent::fault::Plan`): indexed by agent name, with its own counts of
//! tells and deliveries (from installation), the faults that fired so far,
//! and the deliveries it swallowed.

use std::{
    any::Any,
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use parking_lot::Mutex;

use super::{Fault, FaultPlan, Fired, MAX_FAULT_MS};
use crate::agent::fault::{HandleFault, Plan};

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

/// A plan's milliseconds as a delay, capped (a plan is data: a huge value
/// must not park a thread for years).
fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms.min(MAX_FAULT_MS))
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
        let hits: Vec<(usize, Fault)> = (faults.iter()).filter(|(_, f)| hit(f)).cloned().collect();
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

impl Plan for Active {
    fn at_handling(&self, agent: &str, nth: u64, before: bool) -> Vec<HandleFault> {
        let hits = self.fire(agent, |fault| match fault {
            Fault::Panic { nth: at, .. } | Fault::Delay { nth: at, .. } => before && *at == nth,
            Fault::Stop { nth: at, .. } | Fault::Stall { nth: at, .. } => !before && *at == nth,
            _ => false,
        });
        (hits.into_iter())
            .filter_map(|fault| match fault {
                Fault::Panic { .. } => Some(HandleFault::Panic),
                Fault::Delay { delay_ms, .. } => Some(HandleFault::Delay(millis(delay_ms))),
                Fault::Stop { .. } => Some(HandleFault::Stop),
                Fault::Stall { stall_ms, .. } => Some(HandleFault::Stall(millis(stall_ms))),
                _ => None,
            })
            .collect()
    }

    fn fails_start(&self, agent: &str, start: u32) -> bool {
        let hits = self.fire(
            agent,
            |fault| matches!(fault, Fault::FailStart { start: at, .. } if *at == start),
        );
        !hits.is_empty()
    }

    fn refuses_tell(&self, agent: &str) -> bool {
        let Some(nth) = Self::next(&self.tells, agent) else {
            return false;
        };
        let hits = self.fire(agent, |fault| match fault {
            // Not `from + count`: a plan is data, and that may overflow.
            Fault::FullMailbox { from, count, .. } => nth >= *from && nth - from < *count,
            _ => false,
        });
        !hits.is_empty()
    }

    fn at_delivery(&self, agent: &str) -> Option<Option<Duration>> {
        let nth = Self::next(&self.deliveries, agent)?;
        let hits = self.fire(agent, |fault| match fault {
            Fault::DropDelivery { nth: at, .. } | Fault::DelayDelivery { nth: at, .. } => {
                *at == nth
            }
            _ => false,
        });
        match hits.first()? {
            Fault::DelayDelivery { delay_ms, .. } => Some(Some(millis(*delay_ms))),
            _ => Some(None),
        }
    }

    fn swallow(&self, delivery: Box<dyn Any + Send>) {
        self.swallowed.lock().push(delivery);
    }
}
