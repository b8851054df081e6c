//! [`SupervisorSpec`]: how to build a supervisor and its children, as a
//! tree root ([`SupervisorBuilder`]) or as a child of another supervisor.

use std::{sync::Arc, time::Duration};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::{Supervisor, SupervisorRef};
use crate::{
    Agent, AgentName, Backoff, ChildSpec, Intensity, NameError, Restart, SpawnError, Strategy,
    Swarm, TreeError,
    agent::shared::AgentShared,
    deadline::saturate,
    supervision::{
        ErasedChild, Link,
        child_spec::{IntoChild, Launched, Start},
        control::{SupervisorCore, SupervisorPolicy},
        layers::layers,
    },
    swarm::config::check_intensity,
};

/// How long a supervisor child gets to stop its tree before it is stopped
/// by force.
const SUPERVISOR_SHUTDOWN: Duration = Duration::from_secs(30);

/// A supervisor to build: its strategy, intensity and backoff, its children
/// (agents and nested supervisors), and, as a child itself, its restart
/// type, shutdown timeout and dependencies.
///
/// ```
/// use agentix::prelude::*;
/// use std::time::Duration;
///
/// #[derive(Agent, Default)]
/// struct Worker;
///
/// let workers = SupervisorSpec::new("workers")
///     .strategy(Strategy::OneForAll)
///     .intensity(Intensity::new(5, Duration::from_secs(10)))
///     .backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)))
///     .child(ChildSpec::new("w1", Worker::default))
///     .child(ChildSpec::new("w2", Worker::default));
/// # let _ = workers;
/// ```
pub struct SupervisorSpec {
    id: Result<AgentName, NameError>,
    policy: SupervisorPolicy,
    seed: Option<u64>,
    children: Vec<Result<Arc<dyn ErasedChild>, TreeError>>,
    restart: Restart,
    shutdown_timeout: Duration,
    depends_on: Vec<String>,
    arbiter: Option<usize>,
}

impl SupervisorSpec {
    /// A one-for-one supervisor named `id`, with the default intensity (3 in
    /// 5 s), no backoff, no children yet.
    pub fn new(id: &str) -> Self {
        Self {
            id: AgentName::new(id),
            policy: SupervisorPolicy {
                strategy: Strategy::OneForOne,
                intensity: Intensity::default(),
                backoff: Backoff::none(),
            },
            seed: None,
            children: Vec::new(),
            restart: Restart::Permanent,
            shutdown_timeout: SUPERVISOR_SHUTDOWN,
            depends_on: Vec::new(),
            arbiter: None,
        }
    }

    /// Which children restart with a failed one.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.policy.strategy = strategy;
        self
    }

    /// At most this many restarts (of all children) per window; one more
    /// and the supervisor gives up and fails to its parent. An empty window
    /// fails the supervisor's start with
    /// [`ConfigError::ZeroIntensityWindow`](crate::ConfigError::ZeroIntensityWindow),
    /// as it does a spawn: it would forget every restart at once and never
    /// give up.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.policy.intensity = intensity;
        self
    }

    /// Delay between restarts of the same child (see [`Backoff`] for how
    /// long durations are saturated).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.policy.backoff = backoff;
        self
    }

    /// Seed of the backoff jitter, for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds a child agent.
    pub fn child<A: Agent>(mut self, spec: ChildSpec<A>) -> Self {
        self.children.push(spec.into_child());
        self
    }

    /// Adds a nested supervisor (with its own children) as a child.
    pub fn supervisor(mut self, spec: SupervisorSpec) -> Self {
        self.children.push(spec.into_child());
        self
    }

    /// As a child: restart type (default permanent).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// As a child: how long its tree gets to stop (default 30 s). Zero
    /// stops it by force at once; longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (up to `Duration::MAX`) is
    /// taken as `MAX_DURATION`.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = saturate(timeout);
        self
    }

    /// As a child: ids of siblings that must run before it starts.
    pub fn depends_on<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.depends_on.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Places the supervisor itself on arbiter `index`.
    pub fn on_arbiter(mut self, index: usize) -> Self {
        self.arbiter = Some(index);
        self
    }

    /// Checks the whole tree: ids, duplicates, unknown dependencies, cycles.
    fn build(self) -> Result<Built, TreeError> {
        let id = self.id?;
        let children: Vec<_> = self.children.into_iter().collect::<Result<_, _>>()?;
        let plan: Vec<_> = children
            .iter()
            .map(|c| (c.id().clone(), c.depends_on().to_vec()))
            .collect();
        layers(&id, &plan)?;
        Ok(Built {
            seed: self.seed.unwrap_or_else(|| seed_of(&id)),
            id,
            policy: self.policy,
            children: children.into(),
            restart: self.restart,
            shutdown_timeout: self.shutdown_timeout,
            depends_on: self.depends_on,
            arbiter: self.arbiter,
        })
    }
}

impl std::fmt::Debug for SupervisorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

/// A checked spec, ready to launch.
struct Built {
    id: AgentName,
    policy: SupervisorPolicy,
    seed: u64,
    children: Arc<[Arc<dyn ErasedChild>]>,
    restart: Restart,
    shutdown_timeout: Duration,
    depends_on: Vec<String>,
    arbiter: Option<usize>,
}

impl IntoChild for SupervisorSpec {
    fn into_child(self) -> Result<Arc<dyn ErasedChild>, TreeError> {
        Ok(Arc::new(self.build()?))
    }
}

impl ErasedChild for Built {
    fn id(&self) -> &AgentName {
        &self.id
    }

    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }

    fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    fn start(self: Arc<Self>, swarm: &Swarm, link: Link) -> Start {
        let launch = launch(swarm.clone(), self.clone_parts(), Some(link));
        Start::Future(Box::pin(async move {
            let (supervisor, shared) = launch.await?;
            Ok(Launched {
                shared,
                handle: Arc::new(supervisor),
            })
        }))
    }
}

impl Built {
    fn clone_parts(&self) -> Parts {
        Parts {
            id: self.id.clone(),
            policy: self.policy,
            seed: self.seed,
            children: self.children.clone(),
            restart: self.restart,
            arbiter: self.arbiter,
        }
    }
}

/// What a launch needs, owned.
struct Parts {
    id: AgentName,
    policy: SupervisorPolicy,
    seed: u64,
    children: Arc<[Arc<dyn ErasedChild>]>,
    restart: Restart,
    arbiter: Option<usize>,
}

/// Starts a supervisor and waits until its whole tree has started.
async fn launch(
    swarm: Swarm,
    parts: Parts,
    link: Option<Link>,
) -> Result<(SupervisorRef, Arc<AgentShared>), SpawnError> {
    // The spawn path's check: the supervisor enforces this intensity on
    // its children, not on itself, so its own spawn does not see it.
    check_intensity(parts.policy.intensity)?;
    let core = SupervisorCore::new(parts.id.clone(), parts.policy, parts.seed);
    let (ready_tx, ready_rx) = oneshot::channel();
    let ready = Arc::new(Mutex::new(Some(ready_tx)));
    let factory = {
        let (core, weak, children, ready) = (
            core.clone(),
            swarm.downgrade(),
            parts.children.clone(),
            ready.clone(),
        );
        let start_timeout = swarm.config().start_timeout;
        move || {
            let (core, weak, children) = (core.clone(), weak.clone(), children.clone());
            Supervisor::new(core, weak, start_timeout, children, ready.clone())
        }
    };
    let orphans = core.clone();
    let mut spawn = swarm
        .agent(factory)
        .named(parts.id.clone())
        .restart(parts.restart)
        .extension(core.clone())
        // However it ends, its children must not outlive it.
        .on_end(Box::new(move || {
            for child in orphans.state.lock().children.alive().iter().rev() {
                child.request_stop();
            }
        }));
    if let Some(index) = parts.arbiter {
        spawn = spawn.on_arbiter(index);
    }
    if let Some(link) = link {
        spawn = spawn.supervised(link);
    }
    let (agent, shared) = spawn.spawn_with_shared().await?;
    let started = ready_rx.await;
    match started {
        Ok(Ok(())) => Ok((SupervisorRef::new(agent, core), shared)),
        Ok(Err(err)) => {
            shared.request_stop();
            Err(err)
        }
        Err(_) => Err(SpawnError::StartFailed {
            agent: parts.id,
            reason: shared.ended().await,
        }),
    }
}

/// A deterministic seed per supervisor name, so runs repeat.
fn seed_of(id: &AgentName) -> u64 {
    id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A root supervisor being configured; finish with [`start`](Self::start).
///
/// Built by [`Swarm::supervisor`]. A root supervisor is never restarted:
/// when it gives up, its tree is down, which is reported as
/// [`Event::GaveUp`](crate::Event::GaveUp), by
/// [`SupervisorRef::stopped`] and by [`Swarm::shutdown`].
#[must_use = "a supervisor does nothing until `.start().await`"]
#[derive(Debug)]
pub struct SupervisorBuilder<'s> {
    swarm: &'s Swarm,
    spec: SupervisorSpec,
}

impl<'s> SupervisorBuilder<'s> {
    pub(crate) fn new(swarm: &'s Swarm, id: &str) -> Self {
        Self {
            swarm,
            spec: SupervisorSpec::new(id).restart(Restart::Temporary),
        }
    }

    /// See [`SupervisorSpec::strategy`].
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.spec = self.spec.strategy(strategy);
        self
    }

    /// See [`SupervisorSpec::intensity`].
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.spec = self.spec.intensity(intensity);
        self
    }

    /// See [`SupervisorSpec::backoff`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.spec = self.spec.backoff(backoff);
        self
    }

    /// See [`SupervisorSpec::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.spec = self.spec.seed(seed);
        self
    }

    /// See [`SupervisorSpec::child`].
    pub fn child<A: Agent>(mut self, spec: ChildSpec<A>) -> Self {
        self.spec = self.spec.child(spec);
        self
    }

    /// See [`SupervisorSpec::supervisor`].
    pub fn supervisor(mut self, spec: SupervisorSpec) -> Self {
        self.spec = self.spec.supervisor(spec);
        self
    }

    /// See [`SupervisorSpec::on_arbiter`].
    pub fn on_arbiter(mut self, index: usize) -> Self {
        self.spec = self.spec.on_arbiter(index);
        self
    }

    /// Checks the tree, then starts the supervisor and its children (in
    /// dependency layers) and waits until all have started.
    pub async fn start(self) -> Result<SupervisorRef, SpawnError> {
        let built = self.spec.build().map_err(SpawnError::Tree)?;
        let (supervisor, _) = launch(self.swarm.clone(), built.clone_parts(), None).await?;
        self.swarm.adopt_root(Box::new(supervisor.clone()));
        Ok(supervisor)
    }
}
