//! The end of a swarm: root supervision trees in order, then the agents
//! spawned without a supervisor, then the arbiters.

use std::{fmt, future::Future, pin::Pin, sync::atomic::Ordering};

use super::Swarm;
use crate::{AgentName, Escalation, ExitReason, deadline::instant_after};

/// A tree the swarm shuts down before its loose agents: a root supervisor.
/// A trait, so that the swarm knows no supervisor (supervision/ sits above
/// it and implements this).
pub(crate) trait Root: Send + Sync {
    /// Shuts the tree down (children before their supervisor), or says how
    /// it had already ended.
    fn shut_down(&self) -> Pin<Box<dyn Future<Output = RootEnd> + Send + '_>>;
}

/// How a root tree ended in a shutdown.
pub(crate) enum RootEnd {
    /// It was running and stopped now: what stopped within the timeouts,
    /// what was forced.
    Stopped {
        stopped: Vec<AgentName>,
        forced: Vec<AgentName>,
    },
    /// It had already ended, for this reason (a root that gave up ended
    /// escalated).
    Ended(ExitReason),
}

/// What a shutdown did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Agents (and supervisors) that stopped within their shutdown timeout,
    /// in the order they stopped.
    pub stopped: Vec<AgentName>,
    /// Agents stopped by force after their shutdown timeout, or dropped with
    /// their arbiter.
    pub forced: Vec<AgentName>,
    /// Arbiter threads stopped and joined.
    pub arbiters: usize,
}

/// Why a shutdown could not complete cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShutdownError {
    /// `shutdown` was awaited on one of the swarm's own arbiters.
    FromOwnArbiter,
    /// Arbiter threads ended in a panic instead of stopping.
    ArbiterPanicked {
        /// How many.
        count: usize,
    },
    /// Root supervisors gave up during the swarm's life: their trees went
    /// down. The shutdown itself completed, as `report` says.
    GaveUp {
        /// Why each one gave up.
        escalations: Vec<Escalation>,
        /// What the shutdown did.
        report: ShutdownReport,
    },
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FromOwnArbiter => f.write_str(
                "Swarm::shutdown was awaited on one of the swarm's own arbiters; await it from outside the swarm",
            ),
            Self::ArbiterPanicked { count } => {
                write!(f, "{count} arbiter thread(s) panicked instead of stopping")
            }
            Self::GaveUp { escalations, .. } => {
                write!(f, "{} root supervisor(s) gave up during the swarm's life", escalations.len())?;
                for escalation in escalations {
                    write!(f, "; {escalation}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ShutdownError {}

impl Swarm {
    /// Stops everything in order and joins the arbiter threads:
    ///
    /// 1. root supervisors, newest first, each stopping its tree level by
    ///    level in reverse start order, every child within its shutdown
    ///    timeout or by force;
    /// 2. agents spawned without a supervisor, newest first, within the
    ///    swarm's shutdown timeout: each finishes the message it is handling
    ///    (an async handler may await until the timeout), then its stopping
    ///    hooks run and its queued messages become dead letters; one still
    ///    busy at the timeout is stopped by force, ends with
    ///    [`ExitReason::Killed`] and is listed in
    ///    [`ShutdownReport::forced`];
    /// 3. the arbiters.
    ///
    /// Returns what stopped cleanly and what was forced. If a root
    /// supervisor gave up during the swarm's life, the shutdown still
    /// completes and the error [`ShutdownError::GaveUp`] carries the report.
    ///
    /// Must not be awaited on one of the swarm's own arbiters, which it would
    /// have to stop under itself.
    pub async fn shutdown(self) -> Result<ShutdownReport, ShutdownError> {
        let inner = &self.inner;
        if inner.pool.runs_on_current_thread() {
            return Err(ShutdownError::FromOwnArbiter);
        }
        inner.stopping.store(true, Ordering::Release);
        let mut report = ShutdownReport::default();
        let mut escalations = Vec::new();
        let roots = std::mem::take(&mut *inner.roots.lock());
        for root in roots.iter().rev() {
            match root.shut_down().await {
                RootEnd::Ended(ExitReason::Escalated(escalation)) => escalations.push(escalation),
                RootEnd::Ended(_) => {}
                RootEnd::Stopped { stopped, forced } => {
                    report.stopped.extend(stopped);
                    report.forced.extend(forced);
                }
            }
        }
        let loose: Vec<_> = inner
            .roster
            .snapshot()
            .into_iter()
            .rev()
            .filter(|agent| agent.identity.supervisor.is_none())
            .collect();
        for agent in &loose {
            agent.request_stop();
        }
        let deadline = instant_after(tokio::time::Instant::now(), inner.config.shutdown_timeout);
        for agent in &loose {
            match tokio::time::timeout_at(deadline, agent.ended()).await {
                Ok(ExitReason::Killed) => report.forced.push(agent.name().clone()),
                Ok(_) => report.stopped.push(agent.name().clone()),
                Err(_) => {
                    // Ends at its task's next poll, abandoning what it was
                    // handling (its hooks run); one stuck in a sync handler
                    // goes with its arbiter.
                    agent.kill();
                    report.forced.push(agent.name().clone());
                }
            }
        }
        // A supervised agent still running (its supervisor was stuck) goes
        // with its arbiter; loose agents are accounted for above.
        let leftover = inner.roster.snapshot();
        // Those killed already were reported forced by their supervisor.
        let supervised = leftover
            .iter()
            .filter(|agent| agent.identity.supervisor.is_some() && !agent.kill_requested());
        report
            .forced
            .extend(supervised.map(|agent| agent.name().clone()));
        let panicked = inner.pool.stop_and_join().await;
        report.arbiters = inner.pool.len();
        if panicked > 0 {
            return Err(ShutdownError::ArbiterPanicked { count: panicked });
        }
        if !escalations.is_empty() {
            return Err(ShutdownError::GaveUp {
                escalations,
                report,
            });
        }
        Ok(report)
    }
}
