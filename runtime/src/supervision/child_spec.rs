//! Child specs: how a supervisor starts, restarts and stops one child.

use std::{any::Any, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use super::Link;
use crate::{
    Agent, AgentName, NameError, Restart, SpawnError, Swarm, TreeError, agent::shared::AgentShared,
    agent::start_latch::StartSlot, deadline::saturate,
};

/// The default time a child gets to stop before it is stopped by force.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a supervisor runs one child: its id (also its agent name), its
/// factory, restart type, shutdown timeout and the ids it depends on.
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
///     .shutdown_timeout(Duration::from_millis(500));
/// # let _ = (db, api);
/// ```
pub struct ChildSpec<A: Agent> {
    id: Result<AgentName, NameError>,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    restart: Restart,
    shutdown_timeout: Duration,
    depends_on: Vec<String>,
    mailbox: Option<usize>,
    budget: Option<usize>,
    arbiter: Option<usize>,
}

impl<A: Agent> ChildSpec<A> {
    /// A child named `id`, built (and rebuilt on restart) by `factory`. Its
    /// restart type is the agent's (`#[agent(restart = ..)]`, default
    /// transient) unless set with [`restart`](Self::restart).
    pub fn new(id: &str, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        Self {
            id: AgentName::new(id),
            factory: Arc::new(factory),
            restart: A::RESTART,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            depends_on: Vec::new(),
            mailbox: None,
            budget: None,
            arbiter: None,
        }
    }

    /// Restart type: permanent, transient or temporary.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// How long the child gets to stop before it is stopped by force
    /// (default [`DEFAULT_SHUTDOWN_TIMEOUT`]).
    ///
    /// Zero stops it by force at once (OTP's `brutal_kill`); longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (up to `Duration::MAX`) is
    /// taken as `MAX_DURATION`: wait for as long as the child takes
    /// (OTP's `infinity`).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = saturate(timeout);
        self
    }

    /// Ids of siblings that must be running before this child starts.
    pub fn depends_on<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.depends_on.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Mailbox capacity, overriding the agent's and the swarm's default:
    /// from 1 to [`MAX_MAILBOX`](crate::MAX_MAILBOX), else the child fails
    /// to start with a [`ConfigError`](crate::ConfigError).
    pub fn mailbox(mut self, capacity: usize) -> Self {
        self.mailbox = Some(capacity);
        self
    }

    /// Messages handled per turn before the child yields its arbiter
    /// thread, overriding the agent's and the swarm's default
    /// ([`SwarmConfig::budget`](crate::SwarmConfig::budget)).
    pub fn budget(mut self, messages: usize) -> Self {
        self.budget = Some(messages);
        self
    }

    /// Places the child on arbiter `index` instead of round-robin.
    pub fn on_arbiter(mut self, index: usize) -> Self {
        self.arbiter = Some(index);
        self
    }
}

impl<A: Agent> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("kind", &A::KIND)
            .field("restart", &self.restart)
            .field("depends_on", &self.depends_on)
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
        Ok(Arc::new(Typed {
            id: self.id?,
            factory: self.factory,
            restart: self.restart,
            shutdown_timeout: self.shutdown_timeout,
            depends_on: self.depends_on.into_boxed_slice(),
            mailbox: self.mailbox,
            budget: self.budget,
            arbiter: self.arbiter,
        }))
    }
}

/// A checked [`ChildSpec`], as a supervisor keeps it for restarts. One per
/// child, so kept lean: the id once, the dependencies in a boxed slice.
struct Typed<A: Agent> {
    id: AgentName,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    restart: Restart,
    shutdown_timeout: Duration,
    depends_on: Box<[String]>,
    mailbox: Option<usize>,
    budget: Option<usize>,
    arbiter: Option<usize>,
}

impl<A: Agent> ErasedChild for Typed<A> {
    fn id(&self) -> &AgentName {
        &self.id
    }

    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }

    fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    fn start(self: Arc<Self>, _: &Swarm, link: Link) -> Start {
        Start::Agent {
            arbiter: self.arbiter,
            child: self,
            link,
        }
    }
}

impl<A: Agent> AgentChild for Typed<A> {
    fn launch_here(
        &self,
        swarm: &Swarm,
        link: Link,
        arbiter: usize,
        started: StartSlot,
    ) -> Result<Launched, SpawnError> {
        let mut spawn = swarm
            .agent_from(self.factory.clone())
            .named(self.id.clone())
            .restart(self.restart)
            .supervised(link)
            .grace(self.shutdown_timeout)
            .on_arbiter(arbiter);
        if let Some(capacity) = self.mailbox {
            spawn = spawn.mailbox(capacity);
        }
        if let Some(messages) = self.budget {
            spawn = spawn.budget(messages);
        }
        let prepared = spawn.prepare(started)?;
        let shared = prepared.agent.shared().clone();
        prepared.launch.run();
        Ok(Launched {
            shared,
            handle: Arc::new(prepared.agent),
        })
    }
}
