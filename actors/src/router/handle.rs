//! [`RouterRef`]: starting a router, publishing, subscribing, and asking
//! what it could not deliver.

use std::{
    collections::BTreeMap,
    fmt,
    marker::PhantomData,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use actix::Handler;
use agentix_runtime::{Agent, AgentRef, AskError, SpawnError, Swarm};

use super::{
    Batch, DeadLetters, Publish, PublishError, Router, RouterConfig, RouterStats, SubscribeError,
    SubscribeOptions, SubscriptionId, Topic, TopicPattern, Undelivered, UndeliveredFilter,
    UndeliveredReason,
    config::check_shards,
    group_name,
    messages::{Counts, PostUndelivered, QueryUndelivered, Redrive, Subscribe, Unsubscribe},
    target::AgentTarget,
};

/// Mailbox of a router's dead-letter agent.
const DEAD_LETTER_MAILBOX: usize = 4096;

/// A reference to a running router carrying `M`. Cheap to clone.
///
/// ```
/// use agentix::{actix, prelude::*};
/// use agentix::actors::router::{Batch, RouterConfig, RouterRef};
///
/// #[derive(Agent, Default)]
/// struct Printer {
///     seen: Vec<u64>,
/// }
///
/// impl actix::Handler<Batch<u64>> for Printer {
///     type Result = ();
///     fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
///         self.seen.extend(batch.payloads());
///     }
/// }
///
/// # #[agentix::main]
/// # async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default())?;
/// let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
/// let printer = swarm.spawn("printer", Printer::default).await?;
/// router.subscribe("prices.>", &printer).await?;
/// router.publish("prices.eu.btc", 42)?;
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct RouterRef<M: Send + Sync + 'static> {
    shards: Arc<Shards<M>>,
    /// The shard this reference publishes through.
    home: usize,
}

/// The router agents of one router, and what its references share.
struct Shards<M: Send + Sync + 'static> {
    agents: Box<[AgentRef<Router<M>>]>,
    /// Where every shard posts what it gives up.
    dead_letters: AgentRef<DeadLetters<M>>,
    stats: Arc<RouterStats>,
    /// The home shard of the next clone.
    next_home: AtomicUsize,
    /// Subscription ids, the same on every shard.
    next_sub: AtomicU64,
}

impl<M: Send + Sync + 'static> RouterRef<M> {
    /// Starts a router agent in `swarm`, named `router-<n>`. A config
    /// [`RouterConfig::validate`] refuses fails with
    /// [`SpawnError::Config`], before any agent is started.
    pub async fn start(swarm: &Swarm, config: RouterConfig) -> Result<Self, SpawnError> {
        Self::start_sharded(swarm, config, 1).await
    }

    /// Starts a router of `shards` agents (at least 1, at most
    /// [`MAX_SHARDS`](super::MAX_SHARDS)) on the swarm's arbiters in
    /// turn, for when one arbiter cannot carry the publishing. More than
    /// `MAX_SHARDS`, or a config [`RouterConfig::validate`] refuses, fails
    /// with [`SpawnError::Config`] before any agent is started.
    ///
    /// Every subscription is made on every shard; each reference publishes
    /// through one shard, and each clone of a reference is given the next
    /// shard. So a publisher's messages keep their order per subscriber,
    /// and publishers on different clones share the load. The price: a
    /// duplicate sent through two shards is not caught, and queue groups
    /// pick per shard (least-busy knows the deliveries of its own shard).
    pub async fn start_sharded(
        swarm: &Swarm,
        config: RouterConfig,
        shards: usize,
    ) -> Result<Self, SpawnError> {
        config.validate()?;
        check_shards(shards)?;
        let capacity = config.undelivered;
        let stats = Arc::new(RouterStats::new(shards.max(1)));
        let kept = stats.clone();
        // Posts are one message per shard per turn: a roomy mailbox
        // keeps them from waiting in the shards.
        let dead_letters = (swarm.agent(move || DeadLetters::new(capacity, kept.clone())))
            .mailbox(DEAD_LETTER_MAILBOX)
            .spawn()
            .await?;
        let mut agents = Vec::with_capacity(shards.max(1));
        for shard in 0..shards.max(1) {
            let dead_letters = dead_letters.clone();
            let stats = stats.clone();
            let mut spawn = swarm
                .agent(move || Router::new(config, dead_letters.clone(), stats.clone(), shard));
            if let Some(budget) = config.budget {
                spawn = spawn.budget(budget);
            }
            let arbiter = shard % swarm.arbiters().max(1);
            agents.push(spawn.on_arbiter(arbiter).spawn().await?);
        }
        let _ = stats.name.set(agents[0].name().to_string());
        let shards = Shards {
            stats,
            agents: agents.into(),
            dead_letters,
            next_home: AtomicUsize::new(1),
            next_sub: AtomicU64::new(0),
        };
        Ok(Self {
            shards: Arc::new(shards),
            home: 0,
        })
    }

    /// Every shard's agent, to ask each the same question.
    pub(crate) fn shard_agents(&self) -> &[AgentRef<Router<M>>] {
        &self.shards.agents
    }

    /// The router agent this reference publishes through (its name,
    /// status, restarts).
    pub fn agent(&self) -> &AgentRef<Router<M>> {
        &self.shards.agents[self.home]
    }

    /// The agent keeping what the router could not deliver (its name,
    /// status, restarts).
    pub fn dead_letters(&self) -> &AgentRef<DeadLetters<M>> {
        &self.shards.dead_letters
    }

    /// The router's counters, read now (no message).
    pub fn stats(&self) -> &Arc<RouterStats> {
        &self.shards.stats
    }

    /// How many shards the router has.
    pub fn shards(&self) -> usize {
        self.shards.agents.len()
    }

    /// Which shard this reference publishes through.
    pub fn shard(&self) -> usize {
        self.home
    }

    /// Publishes `payload` on `topic` with the default options. Returns at
    /// once: a full router mailbox hands the message back.
    pub fn publish(&self, topic: &str, payload: M) -> Result<(), PublishError<M>> {
        let topic = Topic::new(topic).map_err(PublishError::Topic)?;
        self.send(Publish::new(topic, payload))
    }

    /// Publishes with options; returns at once. A [`Publish::ttl`] counts
    /// from this call.
    pub fn send(&self, mut publish: Publish<M>) -> Result<(), PublishError<M>> {
        publish.stamp();
        (self.agent().tell(publish)).map_err(|err| PublishError::Send(Box::new(err)))
    }

    /// Publishes with options, waiting for room in the router's mailbox
    /// up to the router's ask deadline. A [`Publish::ttl`] counts from
    /// this call: the wait for room is part of it.
    pub async fn send_wait(&self, mut publish: Publish<M>) -> Result<(), PublishError<M>> {
        publish.stamp();
        self.agent()
            .tell_wait(publish)
            .await
            .map_err(|err| PublishError::Send(Box::new(err)))
    }

    /// Subscribes `agent`, which handles [`Batch<M>`], to `pattern`.
    pub async fn subscribe<A>(
        &self,
        pattern: &str,
        agent: &AgentRef<A>,
    ) -> Result<SubscriptionId, SubscribeError>
    where
        A: Agent + Handler<Batch<M>>,
    {
        self.subscribe_as(pattern, agent, |batch| batch, SubscribeOptions::default())
            .await
    }

    /// Subscribes `agent`, handing it each batch as `wrap(batch)`: the
    /// message of a `#[handle]` method taking the batch, say, so that a
    /// subscriber needs no hand-written `Handler<Batch<M>>`. What the
    /// handler returns is not waited for (each batch is a tell); under
    /// at-least-once, a generated handler that returns without panicking
    /// has not acknowledged anything by that alone: call
    /// [`Batch::ack`] or [`Batch::handle_each`].
    ///
    /// ```
    /// use agentix::prelude::*;
    /// use agentix::actors::router::{Batch, RouterConfig, RouterRef, SubscribeOptions};
    ///
    /// #[derive(Agent, Default)]
    /// struct Tally {
    ///     total: u64,
    /// }
    ///
    /// #[handlers]
    /// impl Tally {
    ///     #[handle]
    ///     fn count(&mut self, batch: Batch<u64>) {
    ///         self.total += batch.payloads().sum::<u64>();
    ///     }
    ///
    ///     #[handle]
    ///     fn total(&mut self) -> u64 {
    ///         self.total
    ///     }
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    /// let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    /// let tally = swarm.spawn("tally", Tally::default).await?;
    /// let options = SubscribeOptions::default();
    /// router.subscribe_as("sales.>", &tally, |batch| Count { batch }, options).await?;
    /// router.publish("sales.eu", 5)?;
    /// router.publish("sales.us", 7)?;
    /// # agentix::testkit::eventually(std::time::Duration::from_secs(5), async || {
    /// #     tally.total().await.is_ok_and(|total| total == 12)
    /// # }).await;
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_as<A, Msg>(
        &self,
        pattern: &str,
        agent: &AgentRef<A>,
        wrap: fn(Batch<M>) -> Msg,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, SubscribeError>
    where
        A: Agent + Handler<Msg>,
        Msg: actix::Message + Send + 'static,
        Msg::Result: Send,
    {
        let pattern = TopicPattern::new(pattern).map_err(SubscribeError::Pattern)?;
        if let Some((name, _)) = &options.group {
            group_name::check(name).map_err(SubscribeError::Group)?;
        }
        let id = self.shards.next_sub.fetch_add(1, Ordering::Relaxed) + 1;
        for shard in self.shards.agents.iter() {
            let target = AgentTarget {
                agent: agent.clone(),
                wrap,
            };
            let subscribe = Subscribe {
                id,
                pattern: pattern.clone(),
                target: Box::new(target),
                options: options.clone(),
            };
            shard.call(subscribe).await?;
        }
        Ok(SubscriptionId(id))
    }

    /// Ends subscription `id`; `false` if it had ended already. What was
    /// published before still goes out; what waited in the router for a
    /// full mailbox becomes undelivered.
    pub async fn unsubscribe(&self, id: SubscriptionId) -> Result<bool, AskError> {
        let mut found = false;
        for shard in self.shards.agents.iter() {
            found |= shard.call(Unsubscribe(id)).await?;
        }
        Ok(found)
    }

    /// The undelivered messages kept that `filter` admits, oldest first:
    /// everything given up before this call, on every shard.
    pub async fn undelivered(
        &self,
        filter: UndeliveredFilter,
    ) -> Result<Vec<Undelivered<M>>, AskError> {
        self.post_undelivered().await?;
        let query = QueryUndelivered(filter, PhantomData);
        self.shards.dead_letters.call(query).await
    }

    /// How many messages were not delivered, by reason, kept or not:
    /// every [`UndeliveredReason`] is a key, 0 when none was given up for
    /// it, so `counts[&reason]` never misses.
    ///
    /// ```
    /// # use agentix::prelude::*;
    /// # use agentix::actors::router::{RouterConfig, RouterRef, UndeliveredReason};
    /// # #[agentix::main]
    /// # async fn main() -> agentix::Result<()> {
    /// # let swarm = Swarm::start(SwarmConfig::default())?;
    /// let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
    /// router.publish("nobody.listens", 7)?;
    /// let counts = router.undelivered_counts().await?;
    /// assert_eq!(counts[&UndeliveredReason::NoSubscriber], 1);
    /// assert_eq!(counts[&UndeliveredReason::Overflow], 0);
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn undelivered_counts(&self) -> Result<BTreeMap<UndeliveredReason, u64>, AskError> {
        self.post_undelivered().await?;
        self.shards.dead_letters.call(Counts).await
    }

    /// Routes the undelivered messages `filter` admits again, as their next
    /// attempt, through this reference's shard; returns how many. Should
    /// the router have stopped for good, none are, and they stay kept.
    pub async fn redrive(&self, filter: UndeliveredFilter) -> Result<usize, AskError> {
        self.post_undelivered().await?;
        let router = self.agent().clone();
        self.shards
            .dead_letters
            .call(Redrive { filter, router })
            .await
    }

    /// Has every shard post what it gave up, so that a question asked next
    /// sees it: the shards' posts reach the dead-letter mailbox before it.
    /// A shard stopped for good posted as it stopped; the dead letters
    /// outlive it.
    async fn post_undelivered(&self) -> Result<(), AskError> {
        for shard in self.shards.agents.iter() {
            match shard.call(PostUndelivered).await {
                Ok(()) | Err(AskError::Closed { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

impl<M: Send + Sync + 'static> Clone for RouterRef<M> {
    /// Another publisher: it gets the next shard.
    fn clone(&self) -> Self {
        let shards = self.shards.agents.len();
        let home = self.shards.next_home.fetch_add(1, Ordering::Relaxed) % shards;
        Self {
            shards: self.shards.clone(),
            home,
        }
    }
}

impl<M: Send + Sync + 'static> fmt::Debug for RouterRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterRef")
            .field("shard", self.agent().name())
            .field("shards", &self.shards())
            .finish()
    }
}
