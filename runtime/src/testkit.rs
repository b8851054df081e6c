//! Fault injection for tests (feature `testkit`): plans of faults as data,
//! installed in a running swarm.
//!
//! A [`FaultPlan`] names agents and points in their lives (the n-th handled
//! message, the n-th start); [`Swarm::inject`](crate::Swarm::inject)
//! installs it and returns an [`Injection`] that says which faults fired
//! and uninstalls the plan when dropped. The hooks sit in the generated
//! handlers (a panic fires inside the handler's own guard, so it is
//! indistinguishable from the user's), the message envelope (delays,
//! stops) and the agent's start (a failing start). With no plan installed
//! anywhere in the process they cost one relaxed atomic load per message.
//!
//! ```
//! use agentix::prelude::*;
//! use agentix::testkit::{Fault, FaultPlan};
//!
//! #[derive(Agent, Default)]
//! struct Counter {
//!     n: u64,
//! }
//!
//! #[handlers]
//! impl Counter {
//!     #[handle]
//!     fn add(&mut self) -> u64 {
//!         self.n += 1;
//!         self.n
//!     }
//! }
//!
//! # #[agentix::main] async fn main() -> agentix::Result<()> {
//! let swarm = Swarm::start(SwarmConfig::default())?;
//! let counter = swarm.spawn("counter", Counter::default).await?;
//! let injection = swarm
//!     .inject(FaultPlan::new(vec![Fault::Panic {
//!         agent: "counter".into(),
//!         nth: 2,
//!     }]))
//!     .expect("a valid plan");
//! assert_eq!(counter.add().await?, 1);
//! assert!(counter.add().await.is_err(), "the second message panics");
//! assert_eq!(counter.add().await?, 1, "restarted with fresh state, same address");
//! assert_eq!(injection.fired().len(), 1);
//! # swarm.shutdown().await?;
//! # Ok(()) }
//! ```

mod active;
mod inject;
mod invariant;
mod listen;
mod plan;
mod runner;
mod strategy;
mod trace;

pub use crate::agent::fault::Intercepted;
pub use inject::Injection;
pub use invariant::{
    Invariant, Run, in_order, invariant, no_lost_messages, quiescent, runtime, shutdown_completes,
    supervision,
};
pub use listen::quiet_injected_panics;
pub use plan::{Fault, FaultPlan, FaultProblem, Fired, MAX_FAULT_MS, PlanError};
pub use runner::{Counterexample, DIR_VAR, FaultTest, REPLAY_VAR, Report, SEED_VAR, Scene};
pub use strategy::{FaultKind, Shape};
pub use trace::{Step, Trace};

/// The property-testing crate plans are generated with, for strategies of
/// your own.
pub use proptest;

use crate::{Agent, AgentRef};

/// Polls `done` about every millisecond until it holds or `bound` has
/// passed; whether it held. The one bounded probe for state nobody wakes a
/// waiter on (a trace, a registry entry, what a plan fired).
///
/// ```
/// use std::time::Duration;
/// # #[agentix::main] async fn main() {
/// let mut polls = 0;
/// let held = agentix::testkit::eventually(Duration::from_secs(1), async || {
///     polls += 1;
///     polls == 3
/// })
/// .await;
/// assert!(held);
/// # }
/// ```
pub async fn eventually(bound: std::time::Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if done().await {
            return true;
        }
        if start.elapsed() >= bound {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Asks the plan installed in `to`'s swarm, if any, what to do with one
/// delivery to `to` made on someone else's behalf: for built-in actors that
/// deliver (the router), so that [`Fault::DropDelivery`] and
/// [`Fault::DelayDelivery`] reach them. One relaxed load when no plan is
/// installed in the process.
#[inline]
pub fn intercept<A: Agent, T: Send + 'static>(to: &AgentRef<A>, delivery: T) -> Intercepted<T> {
    crate::agent::fault::intercept(to, delivery)
}
