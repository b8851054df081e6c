//! [`MonitorRef`]: starting the monitor and asking it what it knows.

use std::fmt;

use agentix_runtime::{AgentRef, AskError, SpawnError, Swarm};

use super::{
    EventType, Monitor, MonitorConfig, MonitorEvent, Snapshot,
    actor::{Subscribe, TakeSnapshot, Watch, WatchRouter, WatchStore},
};
use crate::{registry::RegistryRef, router::RouterRef, state::StoreRef};

/// A reference to a running monitor. Cheap to clone.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
/// use agentix::prelude::*;
/// use agentix::actors::monitor::{EventType, MonitorConfig, MonitorRef};
///
/// #[derive(Agent, Default)]
/// struct Worker;
///
/// #[handlers]
/// impl Worker {
///     #[handle]
///     fn work(&mut self) {}
/// }
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default())?;
/// let monitor = MonitorRef::start(&swarm, MonitorConfig::default()).await?;
/// let starts = Arc::new(AtomicU64::new(0));
/// let seen = starts.clone();
/// monitor
///     .on(EventType::Started, move |_| {
///         seen.fetch_add(1, Ordering::Relaxed);
///     })
///     .await?;
/// let worker = swarm.spawn("worker", Worker::default).await?;
/// worker.work().await?;
/// let snapshot = monitor.snapshot().await?;
/// let workers = snapshot.kinds.iter().find(|k| k.kind == "worker").unwrap();
/// assert_eq!(workers.handled, 1);
/// assert!(monitor.prometheus().await?.contains("agentix_messages_handled_total"));
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MonitorRef {
    agent: AgentRef<Monitor>,
}

impl MonitorRef {
    /// Starts a monitor agent in `swarm` and turns sampled handling-time
    /// measurement on.
    pub async fn start(swarm: &Swarm, _config: MonitorConfig) -> Result<Self, SpawnError> {
        let metrics = swarm.metrics();
        let events = swarm.events();
        let agent = swarm
            .agent(move || Monitor::new(metrics.clone(), events.resubscribe()))
            .spawn()
            .await?;
        swarm.observe(true);
        Ok(Self { agent })
    }

    /// The monitor agent (its name, status, restarts).
    pub fn agent(&self) -> &AgentRef<Monitor> {
        &self.agent
    }

    /// Counts the health changes of `registry` and samples its agents.
    pub async fn watch_registry(&self, registry: &RegistryRef) -> Result<(), AskError> {
        self.agent.call(Watch(registry.clone())).await
    }

    /// Counts `router`'s traffic: published, delivered, queued, undelivered
    /// by reason.
    pub async fn watch_router<M: Send + Sync + 'static>(
        &self,
        router: &RouterRef<M>,
    ) -> Result<(), AskError> {
        self.agent.call(WatchRouter(router.stats().clone())).await
    }

    /// Counts `store`'s reads, writes by outcome, commits (batch sizes and
    /// latency), keys, bytes and conflicts.
    pub async fn watch_store(&self, store: &StoreRef) -> Result<(), AskError> {
        self.agent.call(WatchStore(store.stats().clone())).await
    }

    /// Calls `handler` on the monitor's thread for every event of type
    /// `kind` from now on. A handler that panics is logged and kept.
    pub async fn on(
        &self,
        kind: EventType,
        handler: impl FnMut(&MonitorEvent) + Send + 'static,
    ) -> Result<(), AskError> {
        self.agent.call(Subscribe(kind, Box::new(handler))).await
    }

    /// Everything the monitor knows, sampled now.
    pub async fn snapshot(&self) -> Result<Snapshot, AskError> {
        self.agent.call(TakeSnapshot).await
    }

    /// The snapshot in the Prometheus text exposition format.
    pub async fn prometheus(&self) -> Result<String, AskError> {
        Ok(super::render(&self.snapshot().await?))
    }
}

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorRef")
            .field("agent", self.agent.name())
            .finish()
    }
}
