//! [`Swarm`]: the arbiters agents run on, and the start and end of them all.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use parking_lot::Mutex;

use crate::{
    Agent, KindCensus,
    event::{EventBus, Events},
    name::AgentName,
};

mod arbiters;
mod child_options;
pub(crate) mod config;
mod config_error;
mod prepare;
mod shutdown;
mod spawn;
mod spawn_error;
mod tree_error;

use crate::agent::roster::Roster;
use arbiters::ArbiterPool;
pub(crate) use child_options::{CarriesOptions, ChildOptions, StartOptions, option_setters};
pub use config::{
    ConfigError, DEFAULT_BUDGET, MAX_ARBITERS, MAX_EVENT_BUFFER, MAX_MAILBOX, SwarmConfig,
};
pub(crate) use prepare::Prepared;
pub(crate) use shutdown::{Root, RootEnd};
pub use shutdown::{ShutdownError, ShutdownReport};
pub use spawn::Spawn;
pub use spawn_error::SpawnError;
pub use tree_error::TreeError;

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
///     assert_eq!(report.stopped.len(), 1);
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
    events: EventBus,
    /// Root supervisors, in start order, for an ordered shutdown.
    roots: Mutex<Vec<Box<dyn Root>>>,
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
        let pool = ArbiterPool::start(config.arbiter_count(), config.turn_slice)?;
        Ok(Self {
            inner: Arc::new(SwarmInner {
                events: EventBus::new(config.event_buffer),
                roots: Mutex::new(Vec::new()),
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

    pub(crate) fn agent_from<A: Agent>(
        &self,
        factory: Arc<dyn Fn() -> A + Send + Sync>,
    ) -> Spawn<'_, A> {
        Spawn::new(self, factory)
    }

    /// The arbiter an agent goes to: `wish` if it exists, else round-robin.
    pub(crate) fn place(&self, wish: Option<usize>) -> Result<usize, SpawnError> {
        let pool = &self.inner.pool;
        pool.place(wish)
            .map(|(index, _)| index)
            .ok_or(SpawnError::NoSuchArbiter {
                index: wish.unwrap_or_default(),
                arbiters: pool.len(),
            })
    }

    pub(crate) fn pool_handle(&self, index: usize) -> &actix_rt::ArbiterHandle {
        self.inner.pool.handle(index)
    }

    /// Takes a tree to shut down before the loose agents, in start order.
    pub(crate) fn adopt_root(&self, root: Box<dyn Root>) {
        self.inner.roots.lock().push(root);
    }

    /// Subscribes to the lifecycle events of every agent and supervisor of
    /// this swarm, from now on.
    ///
    /// ```
    /// use agentix::{Event, prelude::*};
    ///
    /// #[derive(Agent, Default)]
    /// struct Worker;
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    /// let mut events = swarm.events();
    /// swarm.spawn("worker", Worker::default).await?;
    /// let event = events.recv().await.unwrap();
    /// assert_eq!(event.agent().as_str(), "worker");
    /// assert_eq!(event.event(), &Event::Started);
    /// swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Events {
        self.inner.events.subscribe()
    }

    /// The number of arbiters.
    pub fn arbiters(&self) -> usize {
        self.inner.pool.len()
    }

    /// The number of agents that have not ended for good.
    pub fn agents(&self) -> usize {
        self.inner.roster.len()
    }

    /// Whether an agent named `name` runs in this swarm: it has started
    /// and not ended for good (one being restarted runs). An invalid name
    /// runs nowhere.
    ///
    /// ```
    /// use agentix::prelude::*;
    ///
    /// #[derive(Agent, Default)]
    /// struct Worker;
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default())?;
    /// let worker = swarm.spawn("worker", Worker::default).await?;
    /// assert!(swarm.runs("worker"));
    /// worker.stop();
    /// worker.stopped().await;
    /// assert!(!swarm.runs("worker"));
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn runs(&self, name: &str) -> bool {
        AgentName::new(name).is_ok_and(|name| self.inner.roster.holds(&name))
    }

    /// Agents by kind: how many in each status, messages handled and
    /// restarts (ended agents included, so the totals only grow), and
    /// handling times while observed. Walks every agent: a monitor's
    /// sample, not a hot path.
    ///
    /// ```
    /// use agentix::prelude::*;
    ///
    /// #[derive(Agent, Default)]
    /// struct Counter;
    ///
    /// #[handlers]
    /// impl Counter {
    ///     #[handle]
    ///     fn bump(&mut self) {}
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default())?;
    /// let counter = swarm.spawn("counter", Counter::default).await?;
    /// counter.bump().await?;
    /// counter.bump().await?;
    /// let census = swarm.census();
    /// let counters = census.iter().find(|k| k.kind == "counter").unwrap();
    /// assert_eq!(counters.handled, 2);
    /// assert_eq!(counters.agents, [(AgentStatus::Running, 1)]);
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn census(&self) -> Vec<KindCensus> {
        self.metrics().census()
    }

    /// The swarm's roster (its agents and per-swarm state).
    #[cfg(feature = "testkit")]
    pub(crate) fn roster(&self) -> &Arc<Roster> {
        &self.inner.roster
    }

    /// A handle on the swarm's metrics for a monitor to keep: it reads the
    /// agents' counters without holding the swarm (and its arbiters) alive.
    pub fn metrics(&self) -> SwarmMetrics {
        SwarmMetrics {
            roster: self.inner.roster.clone(),
        }
    }

    /// Turns the metrics that cost something on the hot paths on or off for
    /// every agent: one handling in 64 timed, and mailbox depths counted by senders (one atomic increment
    /// per message). Off by default, when each path pays one load; a
    /// monitor turns them on.
    pub fn observe(&self, on: bool) {
        self.metrics().observe(on);
    }

    /// The configuration the swarm runs with.
    pub fn config(&self) -> &SwarmConfig {
        &self.inner.config
    }
}

/// A swarm that its holder does not keep alive: what the swarm's own
/// agents (supervisors) hold, so that a swarm dropped without
/// [`shutdown`](Swarm::shutdown) still ends its arbiter threads.
#[derive(Clone)]
pub(crate) struct WeakSwarm(Weak<SwarmInner>);

impl WeakSwarm {
    /// The swarm, unless every [`Swarm`] handle is gone.
    pub(crate) fn upgrade(&self) -> Option<Swarm> {
        self.0.upgrade().map(|inner| Swarm { inner })
    }
}

impl Swarm {
    pub(crate) fn downgrade(&self) -> WeakSwarm {
        WeakSwarm(Arc::downgrade(&self.inner))
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

/// The metrics of a swarm's agents, from [`Swarm::metrics`].
#[derive(Clone)]
pub struct SwarmMetrics {
    roster: Arc<Roster>,
}

impl SwarmMetrics {
    /// See [`Swarm::census`].
    pub fn census(&self) -> Vec<KindCensus> {
        let mut by_kind: HashMap<&'static str, KindCensus> = HashMap::new();
        for kind in self.roster.kinds.all() {
            let census = KindCensus {
                kind: kind.kind,
                agents: Vec::new(),
                handled: kind.retired_handled.load(Ordering::Relaxed),
                restarts: kind.retired_restarts.load(Ordering::Relaxed),
                queued: 0,
                max_queued: 0,
                handling: kind.handling.snapshot(),
            };
            by_kind.insert(kind.kind, census);
        }
        for agent in self.roster.snapshot() {
            let Some(census) = by_kind.get_mut(agent.identity.kind) else {
                continue;
            };
            census.handled += agent.handled();
            census.restarts += u64::from(agent.restarts());
            let queued = agent.queued();
            census.queued += queued;
            census.max_queued = census.max_queued.max(queued);
            let status = agent.status();
            match census.agents.iter_mut().find(|(s, _)| *s == status) {
                Some((_, count)) => *count += 1,
                None => census.agents.push((status, 1)),
            }
        }
        let mut all: Vec<KindCensus> = by_kind.into_values().collect();
        all.sort_unstable_by_key(|census| census.kind);
        all
    }

    /// See [`Swarm::observe`].
    pub fn observe(&self, on: bool) {
        self.roster.kinds.observe(on);
    }
}

impl fmt::Debug for SwarmMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwarmMetrics")
            .field("agents", &self.roster.len())
            .finish()
    }
}
