//! Child specs: how a supervisor starts, restarts and stops one child.

use std::{any::Any, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use super::Link;
use crate::{
    Agent, AgentName, NameError, SpawnError, Swarm, TreeError,
    agent::shared::AgentShared,
    agent::start_latch::StartSlot,
    swarm::{CarriesOptions, ChildOptions, StartOptions, option_setters},
};

/// The default time a child gets to stop before it is stopped by force.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a supervisor runs one child: its id (also its agent name), its
/// factory, restart type, shutdown timeout and the ids it depends on, and
/// the agent's mailbox, budget, ask timeout and arbiter.
///
/// These options are the ones every way of starting an agent shares: each
/// setter is defined once for [`Spawn`](crate::Spawn), `ChildSpec` and
/// [`SupervisorSpec`](crate::SupervisorSpec), and behaves alike in each
/// (the same limits, the same saturation at
/// [`MAX_DURATION`](crate::MAX_DURATION)).
///
/// ```
/// use agentix::prelude::*;
/// use std::time::Duration;
///
/// #[derive(Agent, Default)]
/// struct Db;
///
/// #[derive(Agent, Default)]
/// struct Api;
///
/// let db = ChildSpec::new("db", Db::default).restart(Restart::Permanent);
/// let api = ChildSpec::new("api", Api::default)
///     .depends_on(["db"])
///     .shutdown_timeout(Duration::from_millis(500))
///     .ask_timeout(Duration::from_secs(2));
/// # let _ = (db, api);
/// ```
pub struct ChildSpec<A: Agent> {
    id: Result<AgentName, NameError>,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    options: ChildOptions,
}

impl<A: Agent> CarriesOptions for ChildSpec<A> {
    fn options(&mut self) -> &mut ChildOptions {
        &mut self.options
    }
}

impl<A: Agent> ChildSpec<A> {
    /// A child named `id`, built (and rebuilt on restart) by `factory`. Its
    /// restart type is the agent's (`#[agent(restart = ..)]`, default
    /// transient) unless set with [`restart`](Self::restart), its shutdown
    /// timeout [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn new(id: &str, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        Self {
            id: AgentName::new(id),
            factory: Arc::new(factory),
            options: ChildOptions::child(DEFAULT_SHUTDOWN_TIMEOUT),
        }
    }

    option_setters!(
        restart,
        shutdown_timeout,
        depends_on,
        mailbox,
        budget,
        ask_timeout,
        on_arbiter,
    );
}

impl<A: Agent> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("kind", &A::KIND)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A started child: its control block and its typed reference.
pub(crate) struct Launched {
    pub(crate) shared: Arc<AgentShared>,
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
}

pub(crate) type LaunchFuture = Pin<Box<dyn Future<Output = Result<Launched, SpawnError>> + Send>>;

/// How a child starts.
pub(crate) enum Start {
    /// An agent: the supervisor places it and sends it to that arbiter in a
    /// batch with its siblings there, where it is prepared and launched.
    Agent {
        /// The arbiter the spec asks for; round-robin if `None`.
        arbiter: Option<usize>,
        child: Arc<dyn AgentChild>,
        link: Link,
    },
    /// Starts on its own (a nested supervisor starts its tree too).
    Future(LaunchFuture),
}

/// A child spec with its agent type erased, as a supervisor keeps it.
pub(crate) trait ErasedChild: Send + Sync + 'static {
    fn id(&self) -> &AgentName;
    fn depends_on(&self) -> &[String];
    fn shutdown_timeout(&self) -> Duration;
    /// How the child starts under `link`.
    fn start(self: Arc<Self>, swarm: &Swarm, link: Link) -> Start;
}

/// A plain agent child, started by its supervisor in a batch.
pub(crate) trait AgentChild: ErasedChild {
    /// Prepares the agent and launches it on the current thread, which is
    /// the arbiter `arbiter`; it reports its start in `started`.
    fn launch_here(
        &self,
        swarm: &Swarm,
        link: Link,
        arbiter: usize,
        started: StartSlot,
    ) -> Result<Launched, SpawnError>;
}

/// Turns a spec into what a supervisor keeps, checking it.
pub(crate) trait IntoChild {
    fn into_child(self) -> Result<Arc<dyn ErasedChild>, TreeError>;
}

impl<A: Agent> IntoChild for ChildSpec<A> {
    fn into_child(self) -> Result<Arc<dyn ErasedChild>, TreeError> {
        let child = Child::check(self.id, self.options, Factory(self.factory))?;
        Ok(Arc::new(child))
    }
}

/// A checked spec, as a supervisor keeps it for restarts: what every child
/// has, and what its kind `K` adds. One per child, so kept lean: the id
/// once, the dependencies in a boxed slice.
pub(crate) struct Child<K> {
    id: AgentName,
    depends_on: Box<[String]>,
    pub(crate) start: StartOptions,
    pub(crate) kind: K,
}

impl<K> Child<K> {
    pub(crate) fn check(
        id: Result<AgentName, NameError>,
        options: ChildOptions,
        kind: K,
    ) -> Result<Self, TreeError> {
        Ok(Self {
            id: id?,
            depends_on: options.depends_on.into_boxed_slice(),
            start: options.start,
            kind,
        })
    }
}

/// What a child is: how a checked child of this kind starts.
pub(crate) trait ChildKind: Send + Sync + Sized + 'static {
    fn start(child: Arc<Child<Self>>, swarm: &Swarm, link: Link) -> Start;
}

impl<K: ChildKind> ErasedChild for Child<K> {
    fn id(&self) -> &AgentName {
        &self.id
    }

    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }

    fn shutdown_timeout(&self) -> Duration {
        // Every child spec sets one; the default only keeps this total.
        (self.start.shutdown_timeout).unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT)
    }

    fn start(self: Arc<Self>, swarm: &Swarm, link: Link) -> Start {
        K::start(self, swarm, link)
    }
}

/// A plain agent child: its factory.
struct Factory<A: Agent>(Arc<dyn Fn() -> A + Send + Sync>);

impl<A: Agent> ChildKind for Factory<A> {
    fn start(child: Arc<Child<Self>>, _: &Swarm, link: Link) -> Start {
        Start::Agent {
            arbiter: child.start.arbiter,
            child,
            link,
        }
    }
}

impl<A: Agent> AgentChild for Child<Factory<A>> {
    fn launch_here(
        &self,
        swarm: &Swarm,
        link: Link,
        arbiter: usize,
        started: StartSlot,
    ) -> Result<Launched, SpawnError> {
        let prepared = swarm
            .agent_from(self.kind.0.clone())
            .with_start(self.start)
            .named(self.id.clone())
            .supervised(link)
            // Placed by the supervisor already (round-robin resolved).
            .on_arbiter(arbiter)
            .prepare(started)?;
        let shared = prepared.agent.shared().clone();
        prepared.launch.run();
        Ok(Launched {
            shared,
            handle: Arc::new(prepared.agent),
        })
    }
}
