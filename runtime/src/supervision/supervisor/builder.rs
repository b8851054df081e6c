//! [`SupervisorSpec`]: how to build a supervisor and its children, as a
//! tree root ([`SupervisorBuilder`]) or as a child of another supervisor.

use std::{sync::Arc, time::Duration};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::{Supervisor, SupervisorRef};
use crate::{
    AgentName, Backoff, Intensity, NameError, Restart, SpawnError, Strategy, Swarm, TreeError,
    agent::shared::AgentShared,
    supervision::{
        ErasedChild, Link,
        child_spec::{Child, ChildKind, IntoChild, Launched, Start},
        control::{SupervisorCore, SupervisorPolicy},
        layers::layers,
    },
    swarm::{CarriesOptions, ChildOptions, config::check_intensity, option_setters},
};

/// How long a supervisor child gets to stop its tree before it is stopped
/// by force.
const SUPERVISOR_SHUTDOWN: Duration = Duration::from_secs(30);

/// A supervisor to build: its strategy, intensity and backoff, its children
/// (agents and nested supervisors), and, as a child itself, its restart
/// type, shutdown timeout, dependencies and arbiter.
///
/// Those last are options every way of starting an agent shares: each
/// setter is defined once for [`Spawn`](crate::Spawn), [`ChildSpec`](crate::ChildSpec)
/// and `SupervisorSpec`, and behaves alike in each. The supervisor's own
/// settings (strategy, intensity, backoff, seed, children) are defined once
/// for `SupervisorSpec` and [`SupervisorBuilder`].
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
    options: ChildOptions,
}

impl CarriesOptions for SupervisorSpec {
    fn options(&mut self) -> &mut ChildOptions {
        &mut self.options
    }
}

impl CarriesSpec for SupervisorSpec {
    fn spec(&mut self) -> &mut SupervisorSpec {
        self
    }
}

impl SupervisorSpec {
    /// A one-for-one supervisor named `id`, with the default intensity (3 in
    /// 5 s), no backoff, no children yet; as a child, permanent, with 30 s
    /// for its tree to stop.
    pub fn new(id: &str) -> Self {
        let mut options = ChildOptions::child(SUPERVISOR_SHUTDOWN);
        options.start.restart = Some(Restart::Permanent);
        Self {
            id: AgentName::new(id),
            policy: SupervisorPolicy {
                strategy: Strategy::OneForOne,
                intensity: Intensity::default(),
                backoff: Backoff::none(),
            },
            seed: None,
            children: Vec::new(),
            options,
        }
    }

    supervisor_setters!(strategy, intensity, backoff, seed, child, supervisor);

    option_setters!(restart, shutdown_timeout, depends_on, on_arbiter);

    /// Checks the whole tree: ids, duplicates, unknown dependencies, cycles.
    fn build(self) -> Result<Child<Tree>, TreeError> {
        let id = self.id?;
        let children: Vec<_> = self.children.into_iter().collect::<Result<_, _>>()?;
        let plan: Vec<_> = (children.iter())
            .map(|c| (c.id().clone(), c.depends_on().to_vec()))
            .collect();
        layers(&id, &plan)?;
        let tree = Tree {
            policy: self.policy,
            seed: self.seed.unwrap_or_else(|| seed_of(&id)),
            children: children.into(),
        };
        Child::check(Ok(id), self.options, tree)
    }
}

impl std::fmt::Debug for SupervisorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .field("children", &self.children.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A builder of a supervisor's own settings: how [`supervisor_setters!`]
/// reaches the spec it fills.
trait CarriesSpec {
    fn spec(&mut self) -> &mut SupervisorSpec;
}

/// Writes the listed settings of a supervisor as inherent methods of the
/// builder in whose `impl` block it stands, from one definition each (this
/// file's two builders: names resolve here).
macro_rules! supervisor_setters {
    ($($setting:ident),+ $(,)?) => {
        $(supervisor_setters!(@ $setting);)+
    };
    (@ strategy) => {
        /// Which children restart with a failed one.
        pub fn strategy(mut self, strategy: Strategy) -> Self {
            CarriesSpec::spec(&mut self).policy.strategy = strategy;
            self
        }
    };
    (@ intensity) => {
        /// At most this many restarts (of all children) per window; one
        /// more and the supervisor gives up and fails to its parent. An
        /// empty window fails the supervisor's start with
        /// [`ConfigError::ZeroIntensityWindow`](crate::ConfigError::ZeroIntensityWindow),
        /// as it does a spawn: it would forget every restart at once and
        /// never give up.
        pub fn intensity(mut self, intensity: Intensity) -> Self {
            CarriesSpec::spec(&mut self).policy.intensity = intensity;
            self
        }
    };
    (@ backoff) => {
        /// Delay between restarts of the same child (see [`Backoff`] for
        /// how long durations are saturated).
        pub fn backoff(mut self, backoff: Backoff) -> Self {
            CarriesSpec::spec(&mut self).policy.backoff = backoff;
            self
        }
    };
    (@ seed) => {
        /// Seed of the backoff jitter, for reproducible runs.
        pub fn seed(mut self, seed: u64) -> Self {
            CarriesSpec::spec(&mut self).seed = Some(seed);
            self
        }
    };
    (@ child) => {
        /// Adds a child agent.
        pub fn child<A: crate::Agent>(mut self, spec: crate::ChildSpec<A>) -> Self {
            let child = IntoChild::into_child(spec);
            CarriesSpec::spec(&mut self).children.push(child);
            self
        }
    };
    (@ supervisor) => {
        /// Adds a nested supervisor (with its own children) as a child.
        pub fn supervisor(mut self, spec: SupervisorSpec) -> Self {
            let child = IntoChild::into_child(spec);
            CarriesSpec::spec(&mut self).children.push(child);
            self
        }
    };
}
use supervisor_setters;

/// What a supervisor is as a child (of a parent, or a root of the swarm):
/// its policy, jitter seed and checked children.
struct Tree {
    policy: SupervisorPolicy,
    seed: u64,
    children: Arc<[Arc<dyn ErasedChild>]>,
}

impl IntoChild for SupervisorSpec {
    fn into_child(self) -> Result<Arc<dyn ErasedChild>, TreeError> {
        Ok(Arc::new(self.build()?))
    }
}

impl ChildKind for Tree {
    fn start(child: Arc<Child<Self>>, swarm: &Swarm, link: Link) -> Start {
        let launch = launch(swarm.clone(), child, Some(link));
        Start::Future(Box::pin(async move {
            let (supervisor, shared) = launch.await?;
            Ok(Launched {
                shared,
                handle: Arc::new(supervisor),
            })
        }))
    }
}

/// Starts a supervisor and waits until its whole tree has started.
async fn launch(
    swarm: Swarm,
    built: Arc<Child<Tree>>,
    link: Option<Link>,
) -> Result<(SupervisorRef, Arc<AgentShared>), SpawnError> {
    let (id, tree) = (built.id().clone(), &built.kind);
    // The spawn path's check: the supervisor enforces this intensity on
    // its children, not on itself, so its own spawn does not see it.
    check_intensity(tree.policy.intensity)?;
    let core = SupervisorCore::new(id.clone(), tree.policy, tree.seed);
    let (ready_tx, ready_rx) = oneshot::channel();
    let ready = Arc::new(Mutex::new(Some(ready_tx)));
    let factory = {
        let (core, weak, children, ready) = (
            core.clone(),
            swarm.downgrade(),
            tree.children.clone(),
            ready.clone(),
        );
        let start_timeout = swarm.config().start_timeout;
        move || {
            let (core, weak, children) = (core.clone(), weak.clone(), children.clone());
            Supervisor::new(core, weak, start_timeout, children, ready.clone())
        }
    };
    let orphans = core.clone();
    let mut start = built.start;
    // Its shutdown timeout is its tree's, which its parent enforces; its own
    // stop lets handlers finish within the swarm's.
    start.shutdown_timeout = None;
    let mut spawn = swarm
        .agent(factory)
        .with_start(start)
        .named(id.clone())
        .extension(core.clone())
        // However it ends, its children must not outlive it.
        .on_end(Box::new(move || {
            for child in orphans.state.lock().children.alive().iter().rev() {
                child.request_stop();
            }
        }));
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
            agent: id,
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
///
/// Its settings are [`SupervisorSpec`]'s, defined once for both: the
/// supervisor's own (strategy, intensity, backoff, seed, children) and,
/// of the options every way of starting an agent shares, its arbiter (a
/// root is temporary, and no sibling depends on it).
#[must_use = "a supervisor does nothing until `.start().await`"]
#[derive(Debug)]
pub struct SupervisorBuilder<'s> {
    swarm: &'s Swarm,
    spec: SupervisorSpec,
}

impl CarriesOptions for SupervisorBuilder<'_> {
    fn options(&mut self) -> &mut ChildOptions {
        &mut self.spec.options
    }
}

impl CarriesSpec for SupervisorBuilder<'_> {
    fn spec(&mut self) -> &mut SupervisorSpec {
        &mut self.spec
    }
}

impl<'s> SupervisorBuilder<'s> {
    pub(crate) fn new(swarm: &'s Swarm, id: &str) -> Self {
        Self {
            swarm,
            spec: SupervisorSpec::new(id).restart(Restart::Temporary),
        }
    }

    supervisor_setters!(strategy, intensity, backoff, seed, child, supervisor);

    option_setters!(on_arbiter);

    /// Checks the tree, then starts the supervisor and its children (in
    /// dependency layers) and waits until all have started.
    pub async fn start(self) -> Result<SupervisorRef, SpawnError> {
        let built = self.spec.build().map_err(SpawnError::Tree)?;
        let (supervisor, _) = launch(self.swarm.clone(), Arc::new(built), None).await?;
        self.swarm.adopt_root(Box::new(supervisor.clone()));
        Ok(supervisor)
    }
}
