//! Installing a plan in a swarm, and what fired.

use std::sync::Arc;

use crate::{
    Swarm,
    agent::{
        fault::{self, Plan},
        roster::Roster,
    },
    metrics::FAULTY,
    testkit::{FaultPlan, Fired, PlanError, active::Active},
};

/// A fault plan installed in a swarm, from [`Swarm::inject`]. Dropping it
/// uninstalls the plan (faults not yet fired never will).
pub struct Injection {
    roster: Arc<Roster>,
    active: Arc<Active>,
    /// The same plan as the roster holds it.
    installed: Arc<dyn Plan>,
}

impl Injection {
    /// The faults that fired so far, in the order they fired.
    pub fn fired(&self) -> Vec<Fired> {
        self.active.fired.lock().clone()
    }
}

impl std::fmt::Debug for Injection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injection")
            .field("fired", &self.active.fired.lock().len())
            .finish_non_exhaustive()
    }
}

impl Drop for Injection {
    fn drop(&mut self) {
        let mut slot = self.roster.faults.write();
        if slot
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(a, &self.installed))
        {
            *slot = None;
            self.roster.kinds.set(FAULTY, false);
        }
        fault::uninstalled();
    }
}

impl Swarm {
    /// Installs `plan` in this swarm, replacing any plan installed before:
    /// from now on its faults fire at the points they name. Other swarms in
    /// the process are not affected.
    ///
    /// The plan is checked first ([`FaultPlan::validate`]): a plan with a
    /// number out of range is a [`PlanError`] and nothing is installed.
    pub fn inject(&self, plan: FaultPlan) -> Result<Injection, PlanError> {
        plan.validate()?;
        let active = Arc::new(Active::new(&plan));
        let roster = self.roster().clone();
        fault::installed();
        let installed: Arc<dyn Plan> = active.clone();
        *roster.faults.write() = Some(installed.clone());
        roster.kinds.set(FAULTY, true);
        Ok(Injection {
            roster,
            active,
            installed,
        })
    }
}
