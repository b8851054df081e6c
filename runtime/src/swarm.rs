//! [`Swarm`]: the arbiters agents run on, and the start and end of them all.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use parking_lot::Mutex;

use crate::{Agent, shared::AgentShared};

mod arbiters;
pub(crate) mod config;
mod spawn;

use arbiters::ArbiterPool;
pub use config::{ConfigError, MAX_ARBITERS, MAX_MAILBOX, SwarmConfig};
pub use spawn::{Spawn, SpawnError};

/// A swarm of agents in this process: a pool of arbiters (threads with an
/// event loop) across which agents are placed, and their orderly end.
///
/// Several swarms can live in one process; nothing is global. A swarm must be
/// started inside an actix system (`#[agentix::main]`, `#[agentix::test]`).
/// Cloning is cheap and every clone is the same swarm.
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// struct Echo;
///
/// #[handlers]
/// impl Echo {
///     #[handle]
///     fn say(&mut self, text: String) -> String {
///         text
///     }
/// }
///
/// #[agentix::main]
/// async fn main() -> agentix::Result<()> {
///     let swarm = Swarm::start(SwarmConfig::default())?;
///     let echo = swarm.spawn("echo", Echo::default).await?;
///     assert_eq!(echo.say("hi".into()).await?, "hi");
///     let report = swarm.shutdown().await?;
///     assert_eq!(report.stopped, 1);
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Swarm {
    inner: Arc<SwarmInner>,
}

pub(crate) struct SwarmInner {
    config: SwarmConfig,
    pool: ArbiterPool,
    roster: Arc<Roster>,
    next_id: AtomicU64,
    stopping: AtomicBool,
}

impl SwarmInner {
    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl Swarm {
    /// Validates `config` and starts the arbiters.
    pub fn start(config: SwarmConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let pool = ArbiterPool::start(config.arbiter_count())?;
        Ok(Self {
            inner: Arc::new(SwarmInner {
                config,
                pool,
                roster: Arc::new(Roster::default()),
                next_id: AtomicU64::new(1),
                stopping: AtomicBool::new(false),
            }),
        })
    }

    /// Spawns an agent named `name`, built (and rebuilt on restart) by
    /// `factory`, on the next arbiter; waits until it has started.
    ///
    /// The factory runs on the agent's arbiter thread, so the agent itself
    /// need not be `Send`.
    pub async fn spawn<A, F>(&self, name: &str, factory: F) -> Result<A::Ref, SpawnError>
    where
        A: Agent,
        F: Fn() -> A + Send + Sync + 'static,
    {
        self.agent(factory).name(name).spawn().await
    }

    /// Starts configuring a spawn: name, arbiter, mailbox, restart, intensity.
    pub fn agent<A, F>(&self, factory: F) -> Spawn<'_, A>
    where
        A: Agent,
        F: Fn() -> A + Send + Sync + 'static,
    {
        Spawn::new(self, Arc::new(factory))
    }

    /// The number of arbiters.
    pub fn arbiters(&self) -> usize {
        self.inner.pool.len()
    }

    /// The number of agents that have not ended for good.
    pub fn agents(&self) -> usize {
        self.inner.roster.agents.lock().len()
    }

    /// The configuration the swarm runs with.
    pub fn config(&self) -> &SwarmConfig {
        &self.inner.config
    }

    /// Stops every agent (newest first), waits up to the shutdown timeout for
    /// them to end, then stops the arbiters and joins their threads. Agents
    /// still running at the timeout are dropped with their arbiter (their
    /// stopping hooks still run; queued messages become dead letters) and
    /// counted as forced.
    ///
    /// Must not be awaited on one of the swarm's own arbiters, which it would
    /// have to stop under itself.
    pub async fn shutdown(self) -> Result<ShutdownReport, ShutdownError> {
        let inner = &self.inner;
        if inner.pool.runs_on_current_thread() {
            return Err(ShutdownError::FromOwnArbiter);
        }
        inner.stopping.store(true, Ordering::Release);
        let agents: Vec<Arc<AgentShared>> =
            inner.roster.agents.lock().values().rev().cloned().collect();
        for agent in &agents {
            agent.request_stop();
        }
        let deadline = tokio::time::Instant::now() + inner.config.shutdown_timeout;
        let mut report = ShutdownReport::default();
        for agent in &agents {
            match tokio::time::timeout_at(deadline, agent.ended()).await {
                Ok(_) => report.stopped += 1,
                Err(_) => report.forced += 1,
            }
        }
        let panicked = inner.pool.stop_and_join().await;
        report.arbiters = inner.pool.len();
        if panicked > 0 {
            return Err(ShutdownError::ArbiterPanicked { count: panicked });
        }
        Ok(report)
    }
}

impl fmt::Debug for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swarm")
            .field("arbiters", &self.arbiters())
            .field("agents", &self.agents())
            .field("stopping", &self.inner.is_stopping())
            .finish()
    }
}

/// What a shutdown did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Agents that stopped within the shutdown timeout.
    pub stopped: usize,
    /// Agents still running at the timeout, dropped with their arbiter.
    pub forced: usize,
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
        }
    }
}

impl std::error::Error for ShutdownError {}

/// The agents of a swarm that have not ended, in spawn order.
#[derive(Default)]
pub(crate) struct Roster {
    agents: Mutex<BTreeMap<u64, Arc<AgentShared>>>,
}

impl Roster {
    /// Adds an agent; the returned callback removes it when it ends.
    fn enlist(self: &Arc<Self>, agent: Arc<AgentShared>) -> Box<dyn FnOnce() + Send> {
        let id = agent.identity.id;
        self.agents.lock().insert(id, agent);
        let roster: Weak<Self> = Arc::downgrade(self);
        Box::new(move || {
            if let Some(roster) = roster.upgrade() {
                roster.remove(id);
            }
        })
    }

    fn remove(&self, id: u64) {
        self.agents.lock().remove(&id);
    }
}
