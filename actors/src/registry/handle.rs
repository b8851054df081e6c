//! [`RegistryRef`]: starting the registry, registering, and finding and
//! selecting agents from any thread.

use std::{fmt, sync::Arc};

use agentix_runtime::{Agent, AgentName, AgentRef, AskError, NameError, SpawnError, Swarm};

use super::{
    Entry, Health, HealthEvents, LabelError, Query, Registration, Registry, RegistryConfig,
    Selected, Selection,
    actor::{Deregister, Register},
    index::Published,
    select::pick,
};

/// A reference to a running registry. Cheap to clone; reads (lookups,
/// finds, selections) are answered on the caller's thread from the
/// registry's published indices, with no message and no lock.
///
/// ```
/// use agentix::prelude::*;
/// use agentix::actors::registry::{Query, Registration, RegistryRef, Selection};
///
/// #[derive(Agent, Default)]
/// struct Translator;
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default())?;
/// let registry = RegistryRef::start(&swarm).await?;
/// let fr = swarm.spawn("translator-fr", Translator::default).await?;
/// registry
///     .register(Registration::new(&fr).capability("translate").tag("fr"))
///     .await?;
/// let job = registry
///     .select(&Query::capability("translate").tag("fr"), Selection::LeastLoaded)?
///     .expect("one translator is available");
/// let translator = job.agent::<Translator>()?;
/// assert_eq!(translator.name().as_str(), "translator-fr");
/// job.finish(true);
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RegistryRef {
    agent: AgentRef<Registry>,
    published: Arc<Published>,
}

impl RegistryRef {
    /// Starts a registry agent in `swarm`, named `registry-<n>`, checking
    /// health every second.
    pub async fn start(swarm: &Swarm) -> Result<Self, SpawnError> {
        Self::start_with(swarm, RegistryConfig::default()).await
    }

    /// Starts a registry agent with `config`.
    pub async fn start_with(swarm: &Swarm, config: RegistryConfig) -> Result<Self, SpawnError> {
        let published = Arc::new(Published::new());
        let shared = published.clone();
        let events = swarm.events();
        let mut spawn =
            swarm.agent(move || Registry::new(shared.clone(), events.resubscribe(), config));
        if let Some(arbiter) = config.arbiter {
            spawn = spawn.on_arbiter(arbiter);
        }
        let agent = spawn.spawn().await?;
        Ok(Self { agent, published })
    }

    /// The registry agent (its name, status, restarts).
    pub fn agent(&self) -> &AgentRef<Registry> {
        &self.agent
    }

    /// Registers one agent; a duplicate name is an error unless the
    /// registration asks to [`replace`](Registration::replace).
    pub async fn register(&self, registration: Registration) -> Result<(), RegisterError> {
        self.register_batch(vec![registration]).await.map(|_| ())
    }

    /// Registers many agents in one message: all of them, or none and the
    /// error names the first one refused by its index in `batch`.
    pub async fn register_batch(&self, batch: Vec<Registration>) -> Result<usize, RegisterError> {
        match self.agent.call(Register(batch)).await {
            Ok(result) => result,
            Err(err) => Err(RegisterError::Registry(err)),
        }
    }

    /// Removes the registration under `name`; `false` if there was none.
    pub async fn deregister(&self, name: &str) -> Result<bool, AskError> {
        match AgentName::new(name) {
            Ok(name) => self.agent.call(Deregister(name)).await,
            Err(_) => Ok(false),
        }
    }

    /// The entry registered under `name`, if its agent has not ended.
    pub fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        self.published.lookup(name).filter(|entry| !entry.is_gone())
    }

    /// The agent registered under `name`, as its typed reference.
    pub fn lookup<A: Agent>(&self, name: &str) -> Result<A::Ref, LookupError> {
        match self.entry(name) {
            Some(entry) => entry.agent::<A>(),
            None => Err(LookupError::NotFound {
                name: name.to_owned(),
            }),
        }
    }

    /// Every registered agent that `query` admits (available or not).
    /// Costs the length of the shortest list among the query's labels,
    /// whatever else is registered.
    pub fn find(&self, query: &Query) -> Result<Vec<Arc<Entry>>, QueryError> {
        let Some(candidates) = self.candidates(query)? else {
            return Ok(Vec::new());
        };
        let admitted = candidates.entries.iter();
        let admitted = admitted.filter(|entry| !entry.is_gone() && query.admits(entry));
        Ok(admitted.cloned().collect())
    }

    /// Picks one available agent (running, healthy, under its limit) that
    /// `query` admits, by `strategy`; `None` if there is none. The
    /// selection counts as the agent's load until finished or dropped.
    pub fn select(
        &self,
        query: &Query,
        strategy: Selection,
    ) -> Result<Option<Selected>, QueryError> {
        let Some(candidates) = self.candidates(query)? else {
            return Ok(None);
        };
        Ok(pick(&candidates, query, strategy).map(Selected::new))
    }

    /// A sign of life from the agent registered as `name` (one registered
    /// with [`reports_heartbeat`](Registration::reports_heartbeat));
    /// `false` if there is none.
    pub fn heartbeat(&self, name: &str) -> bool {
        self.entry(name)
            .inspect(|entry| entry.heartbeat())
            .is_some()
    }

    /// Subscribes to health changes from now on.
    pub fn health_events(&self) -> HealthEvents {
        HealthEvents(self.published.health.subscribe())
    }

    /// Registered agents (not ended) by health, in the order of
    /// [`Health`]'s variants, zero counts left out. Walks every entry: a
    /// monitor's sample.
    pub fn count_by_health(&self) -> Vec<(Health, u64)> {
        let mut counts = [0_u64; 3];
        self.published.for_each(|entry| match entry.health() {
            Health::Idle => counts[0] += 1,
            Health::Busy => counts[1] += 1,
            Health::Unhealthy => counts[2] += 1,
            Health::Stopped => {}
        });
        let all = [Health::Idle, Health::Busy, Health::Unhealthy];
        all.into_iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// How many agents are registered.
    pub fn len(&self) -> usize {
        self.published.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn candidates(
        &self,
        query: &Query,
    ) -> Result<Option<Arc<super::index::Candidates>>, QueryError> {
        if let Some(error) = &query.invalid {
            return Err(QueryError::Label(error.clone()));
        }
        if query.keys.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(self.published.narrowest(&query.keys))
    }
}

impl fmt::Debug for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryRef")
            .field("agent", self.agent.name())
            .field("agents", &self.len())
            .finish()
    }
}

/// A registration that was refused; in a batch, nothing was registered.
#[derive(Debug)]
#[non_exhaustive]
pub enum RegisterError {
    /// The name to register under is not valid.
    Name {
        /// Position in the batch.
        index: usize,
        /// What is wrong with it.
        error: NameError,
    },
    /// A capability or tag is not valid.
    Label {
        /// Position in the batch.
        index: usize,
        /// What is wrong with it.
        error: LabelError,
    },
    /// The name is taken (by a running agent, or twice in the batch).
    Duplicate {
        /// Position in the batch.
        index: usize,
        /// The name.
        name: AgentName,
    },
    /// The registry did not answer.
    Registry(AskError),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name { index, error } => write!(f, "cannot register #{index}: {error}"),
            Self::Label { index, error } => write!(f, "cannot register #{index}: {error}"),
            Self::Duplicate { index, name } => write!(
                f,
                "cannot register #{index}: `{name}` is already registered (ask to replace it)"
            ),
            Self::Registry(err) => write!(f, "cannot register: {err}"),
        }
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Name { error, .. } => Some(error),
            Self::Label { error, .. } => Some(error),
            Self::Duplicate { .. } => None,
            Self::Registry(err) => Some(err),
        }
    }
}

/// A find or selection that could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// A capability or tag in the query is not valid.
    Label(LabelError),
    /// The query names no capability and no tag.
    Empty,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Label(err) => write!(f, "invalid query: {err}"),
            Self::Empty => f.write_str("invalid query: it names no capability and no tag"),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<RegisterError> for agentix_runtime::Error {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Registry(err) => Self::from(err),
            other => Self::Actor(Box::new(other)),
        }
    }
}

impl From<QueryError> for agentix_runtime::Error {
    fn from(err: QueryError) -> Self {
        Self::Actor(Box::new(err))
    }
}

impl From<LookupError> for agentix_runtime::Error {
    fn from(err: LookupError) -> Self {
        Self::Actor(Box::new(err))
    }
}

/// A lookup that found no agent of the asked type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// Nothing is registered under the name.
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// Something is, but not an agent of the asked type.
    WrongType {
        /// The name asked for.
        name: AgentName,
        /// The kind registered under it.
        kind: &'static str,
        /// The type asked for.
        asked: &'static str,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { name } => write!(f, "no agent is registered as `{name}`"),
            Self::WrongType { name, kind, asked } => write!(
                f,
                "`{name}` is registered as a `{kind}` agent, not as `{asked}`"
            ),
        }
    }
}

impl std::error::Error for LookupError {}
