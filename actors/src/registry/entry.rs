//! One registered agent: what it offers, and the live figures selection
//! reads (load, success rate, response time), kept in atomics so that any
//! thread can select and report without a message to the registry.

use std::{
    any::Any,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};

use agentix_runtime::{Activity, Agent, AgentName, AgentRef, AgentStatus};

use super::{Label, LabelError, LookupError, health::Liveness};

/// An agent reference with its type erased.
pub(crate) trait AnyAgent: Send + Sync + 'static {
    fn status(&self) -> AgentStatus;
    fn activity(&self) -> Activity;
    fn as_any(&self) -> &dyn Any;
}

impl<A: Agent> AnyAgent for AgentRef<A> {
    fn status(&self) -> AgentStatus {
        AgentRef::status(self)
    }

    fn activity(&self) -> Activity {
        AgentRef::activity(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What an agent is registered with. Invalid labels are reported by the
/// registration, so the builder chains without `?`.
///
/// ```
/// use agentix::prelude::*;
/// use agentix::actors::registry::Registration;
///
/// #[derive(Agent, Default)]
/// struct Summarizer;
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default())?;
/// let agent = swarm.spawn("summarizer-1", Summarizer::default).await?;
/// let registration = Registration::new(&agent)
///     .capabilities(["summarize", "translate"])
///     .tag("gpu")
///     .limit(4)
///     .meta("model", "small");
/// # let _ = registration;
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct Registration {
    pub(crate) agent: Arc<dyn AnyAgent>,
    pub(crate) name: Result<AgentName, agentix_runtime::NameError>,
    pub(crate) kind: &'static str,
    pub(crate) capabilities: Vec<Label>,
    pub(crate) tags: Vec<Label>,
    pub(crate) limit: Option<u32>,
    pub(crate) metadata: Vec<(Arc<str>, Arc<str>)>,
    pub(crate) replace: bool,
    pub(crate) reports_heartbeat: bool,
    pub(crate) invalid: Option<LabelError>,
}

impl Registration {
    /// `agent` under its own name, with nothing offered yet.
    pub fn new<A: Agent>(agent: &AgentRef<A>) -> Self {
        Self {
            agent: Arc::new(agent.clone()),
            name: Ok(agent.name().clone()),
            kind: agent.kind(),
            capabilities: Vec::new(),
            tags: Vec::new(),
            limit: None,
            metadata: Vec::new(),
            replace: false,
            reports_heartbeat: false,
            invalid: None,
        }
    }

    /// Registers it under `name` instead of its own.
    pub fn named(mut self, name: &str) -> Self {
        self.name = AgentName::new(name);
        self
    }

    /// Adds a capability (what the agent can do).
    pub fn capability(mut self, capability: &str) -> Self {
        self.label(capability, true);
        self
    }

    /// Adds capabilities.
    pub fn capabilities<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, all: I) -> Self {
        for capability in all {
            self.label(capability.as_ref(), true);
        }
        self
    }

    /// Adds a tag (a property to filter by: region, model, tier).
    pub fn tag(mut self, tag: &str) -> Self {
        self.label(tag, false);
        self
    }

    /// Adds tags.
    pub fn tags<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, all: I) -> Self {
        for tag in all {
            self.label(tag.as_ref(), false);
        }
        self
    }

    /// At most `jobs` selections outstanding at once; an agent at its limit
    /// is not selected. Unlimited by default.
    pub fn limit(mut self, jobs: u32) -> Self {
        self.limit = Some(jobs.max(1));
        self
    }

    /// Attaches a key and value, returned with the entry.
    pub fn meta(mut self, key: &str, value: &str) -> Self {
        self.metadata.push((Arc::from(key), Arc::from(value)));
        self
    }

    /// Replaces an existing registration of the same name instead of
    /// failing with a duplicate.
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }

    /// The agent beats itself ([`RegistryRef::heartbeat`](super::RegistryRef::heartbeat))
    /// instead of the runtime checking that it is not stuck in a handler;
    /// two heartbeat intervals without a beat make it unhealthy.
    pub fn reports_heartbeat(mut self) -> Self {
        self.reports_heartbeat = true;
        self
    }

    fn label(&mut self, label: &str, capability: bool) {
        match Label::new(label) {
            Ok(label) if capability => self.capabilities.push(label),
            Ok(label) => self.tags.push(label),
            Err(err) => {
                self.invalid.get_or_insert(err);
            }
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("capabilities", &self.capabilities)
            .field("tags", &self.tags)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// How a registered agent is doing, as selection sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// Running, no selection outstanding.
    Idle,
    /// Running, with selections outstanding.
    Busy,
    /// Marked unhealthy: skipped by selection until it recovers.
    Unhealthy,
    /// Ended for good; it leaves the registry.
    Stopped,
}

/// Weight of the newest outcome in the success rate and response time.
const EWMA_WEIGHT: f64 = 0.2;

/// The response time at which an agent's score halves.
pub const SCORE_LATENCY_SCALE: Duration = Duration::from_millis(10);

/// A registered agent, as lookups, finds and selections return it.
pub struct Entry {
    pub(crate) name: AgentName,
    /// The batch it was registered with.
    pub(crate) generation: u64,
    kind: &'static str,
    /// Sorted, for membership by binary search. The registration's own
    /// vectors, kept: registrations are built on the caller's thread, and
    /// freeing or copying them on the registry's cost a third of a batch.
    capabilities: Vec<Label>,
    tags: Vec<Label>,
    limit: Option<u32>,
    metadata: Vec<(Arc<str>, Arc<str>)>,
    agent: Arc<dyn AnyAgent>,
    load: AtomicU32,
    /// `f64` bits: the success rate in [0, 1], weighted to recent outcomes.
    success: AtomicU64,
    /// `f64` bits: the response time in µs, weighted to recent outcomes.
    latency_us: AtomicU64,
    pub(crate) liveness: Liveness,
}

impl Entry {
    /// The entry of a checked registration (`None` if its name was not
    /// valid: checked before).
    pub(crate) fn new(registration: Registration, generation: u64) -> Option<Self> {
        let name = registration.name.ok()?;
        let (mut capabilities, mut tags) = (registration.capabilities, registration.tags);
        for part in [&mut capabilities, &mut tags] {
            part.sort_unstable();
            part.dedup();
        }
        Some(Self {
            name,
            generation,
            kind: registration.kind,
            capabilities,
            tags,
            limit: registration.limit,
            metadata: registration.metadata,
            agent: registration.agent,
            load: AtomicU32::new(0),
            success: AtomicU64::new(1.0_f64.to_bits()),
            latency_us: AtomicU64::new(0.0_f64.to_bits()),
            liveness: Liveness::new(registration.reports_heartbeat),
        })
    }

    /// The name it is registered under.
    pub fn name(&self) -> &AgentName {
        &self.name
    }

    /// The agent's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Its capabilities, sorted.
    pub fn capabilities(&self) -> &[Label] {
        &self.capabilities
    }

    /// Its tags, sorted.
    pub fn tags(&self) -> &[Label] {
        &self.tags
    }

    /// Whether it offers `capability`.
    pub fn has_capability(&self, capability: &Label) -> bool {
        self.capabilities().binary_search(capability).is_ok()
    }

    /// Whether it carries `tag`.
    pub fn has_tag(&self, tag: &Label) -> bool {
        self.tags().binary_search(tag).is_ok()
    }

    /// Its limit of outstanding selections, if any.
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }

    /// The metadata value for `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        (self.metadata.iter())
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    /// Selections outstanding (selected, not yet finished).
    pub fn load(&self) -> u32 {
        self.load.load(Ordering::Relaxed)
    }

    /// The success rate of recent outcomes, in [0, 1] (1 before any).
    pub fn success_rate(&self) -> f64 {
        f64::from_bits(self.success.load(Ordering::Relaxed))
    }

    /// The response time of recent outcomes (zero before any).
    pub fn response_time(&self) -> Duration {
        Duration::from_secs_f64(f64::from_bits(self.latency_us.load(Ordering::Relaxed)) / 1e6)
    }

    /// `success_rate / ((1 + load) × (1 + response_time / 10 ms))`: higher
    /// is better. An idle agent that always succeeds at once scores 1; each
    /// outstanding job, each 10 ms of response time and each failure in
    /// five (the weight of recent outcomes) lowers it.
    pub fn score(&self) -> f64 {
        let time = self.response_time().as_secs_f64() / SCORE_LATENCY_SCALE.as_secs_f64();
        self.success_rate() / ((1.0 + f64::from(self.load())) * (1.0 + time))
    }

    /// How it is doing.
    pub fn health(&self) -> Health {
        if self.agent.status().is_terminal() {
            Health::Stopped
        } else if self.liveness.unhealthy() {
            Health::Unhealthy
        } else if self.load() > 0 {
            Health::Busy
        } else {
            Health::Idle
        }
    }

    /// Marks it unhealthy (skipped by selection) or healthy again, by
    /// hand; the health check's own finding stands beside this mark.
    pub fn set_unhealthy(&self, unhealthy: bool) {
        self.liveness.mark(unhealthy);
    }

    /// A sign of life from an agent registered with
    /// [`reports_heartbeat`](Registration::reports_heartbeat).
    pub fn heartbeat(&self) {
        self.liveness.beat();
    }

    pub(crate) fn activity(&self) -> Activity {
        self.agent.activity()
    }

    /// The agent, as its typed reference (`WorkerRef` for `Worker`, with
    /// the generated asks): an error if it is not an `A`.
    pub fn agent<A: Agent>(&self) -> Result<A::Ref, LookupError> {
        match self.agent.as_any().downcast_ref::<AgentRef<A>>() {
            Some(agent) => Ok(A::Ref::from(agent.clone())),
            None => Err(LookupError::WrongType {
                name: self.name.clone(),
                kind: self.kind,
                asked: std::any::type_name::<A>(),
            }),
        }
    }

    /// Whether selection may pick it now, as far as the entry's own
    /// fields tell: healthy, under its limit. Whether the agent still runs
    /// is [`is_gone`](Self::is_gone): two more pointers to follow, so
    /// sampled strategies ask it of their winner only.
    pub(crate) fn selectable(&self) -> bool {
        !self.liveness.unhealthy() && self.limit.is_none_or(|limit| self.load() < limit)
    }

    pub(crate) fn is_gone(&self) -> bool {
        self.agent.status().is_terminal()
    }

    pub(crate) fn begin(&self) {
        self.load.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn end(&self) {
        // Never below zero, even if an entry is finished twice by mistake.
        let _ =
            (self.load).fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Folds one outcome into the success rate and response time.
    pub fn record(&self, success: bool, took: Duration) {
        let fold = |cell: &AtomicU64, sample: f64| {
            let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let old = f64::from_bits(bits);
                Some((old + EWMA_WEIGHT * (sample - old)).to_bits())
            });
        };
        fold(&self.success, if success { 1.0 } else { 0.0 });
        fold(&self.latency_us, took.as_secs_f64() * 1e6);
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("capabilities", &self.capabilities())
            .field("tags", &self.tags())
            .field("load", &self.load())
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}
