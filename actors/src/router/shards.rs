//! Starting the shards of a router, and which of them a new reference
//! publishes through.
//!
//! A reference publishes through one shard for its whole life, which is
//! what keeps one publisher's order per subscriber. Which one is settled
//! when the reference is made: one made on an arbiter that hosts a shard
//! takes that shard, because a publish to an agent on the publisher's
//! own thread needs no thread woken, and a publish to another arbiter's
//! shard adds a wake-up there to the one the subscribers on other arbiters
//! cost anyway (at low load, most of the latency). One made anywhere
//! else (the caller's thread, a thread without a shard) takes the next
//! shard in turn, so that such publishers share the load.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    thread::ThreadId,
};

use agentix_runtime::{AgentRef, SpawnError, Swarm};

use super::{DeadLetters, Router, RouterConfig, RouterRef, RouterStats, config::check_shards};

/// Mailbox of a router's dead-letter agent.
const DEAD_LETTER_MAILBOX: usize = 4096;

/// The router agents of one router, and what its references share.
pub(crate) struct Shards<M: Send + Sync + 'static> {
    pub(crate) agents: Box<[AgentRef<Router<M>>]>,
    /// The thread of each shard's arbiter (shards are never moved).
    pub(crate) threads: Box<[Option<ThreadId>]>,
    /// Where every shard posts what it gives up.
    pub(crate) dead_letters: AgentRef<DeadLetters<M>>,
    pub(crate) stats: Arc<RouterStats>,
    /// Turns out the home shards of new references.
    pub(crate) next_home: AtomicUsize,
    /// Subscription ids, the same on every shard.
    pub(crate) next_sub: AtomicU64,
}

impl<M: Send + Sync + 'static> Shards<M> {
    /// The home shard of a new reference made on this thread: one on this
    /// thread's arbiter if the router has one there (in turn, should it
    /// have several), otherwise the next in turn.
    pub(crate) fn home_for_new(&self) -> usize {
        if self.agents.len() == 1 {
            return 0;
        }
        let turn = self.next_home.fetch_add(1, Ordering::Relaxed);
        let here = Some(std::thread::current().id());
        let local = self.threads.iter().filter(|t| **t == here).count();
        if local > 0
            && let Some((shard, _)) = (self.threads.iter().enumerate())
                .filter(|(_, t)| **t == here)
                .nth(turn % local)
        {
            return shard;
        }
        turn % self.agents.len()
    }
}

/// Where a shard's factory tells which thread it runs on: the factory runs
/// on the agent's arbiter thread, at start and at every restart.
#[derive(Clone, Default)]
pub(crate) struct ThreadSeen(Arc<OnceLock<ThreadId>>);

impl ThreadSeen {
    /// Notes the current thread (the first time; a restart is on the same
    /// arbiter, so on the same thread).
    pub(crate) fn note(&self) {
        let _ = self.0.set(std::thread::current().id());
    }

    /// The thread noted, once the factory has run.
    pub(crate) fn get(&self) -> Option<ThreadId> {
        self.0.get().copied()
    }
}

impl<M: Send + Sync + 'static> RouterRef<M> {
    /// Starts a router of `shards` agents (at least 1, at most
    /// [`MAX_SHARDS`](super::MAX_SHARDS)) on the swarm's arbiters in
    /// turn, for when one arbiter cannot carry the publishing. More than
    /// `MAX_SHARDS`, or a config [`RouterConfig::validate`] refuses, fails
    /// with [`SpawnError::Config`] before any agent is started.
    ///
    /// Every subscription is made on every shard; each reference publishes
    /// through one shard, settled when it is made: a reference made (this
    /// one, or a clone) on an arbiter hosting a shard publishes through
    /// that shard, one made anywhere else through the next shard in turn.
    /// So a publisher's messages keep their order per subscriber,
    /// publishers on different clones share the load, and an agent that
    /// clones its reference in its factory (which runs on its arbiter)
    /// publishes without waking another thread to route: only the
    /// subscribers on other arbiters are woken. The price: a duplicate
    /// sent through two shards is not caught, and queue groups pick per
    /// shard (least-busy knows the deliveries of its own shard).
    ///
    /// ```
    /// use agentix::prelude::*;
    /// use agentix::actors::router::{RouterConfig, RouterRef};
    ///
    /// #[derive(Agent)]
    /// struct Quoter {
    ///     router: RouterRef<u64>,
    /// }
    ///
    /// #[handlers]
    /// impl Quoter {
    ///     #[handle]
    ///     fn shard(&mut self) -> usize {
    ///         self.router.shard()
    ///     }
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
    /// let router = RouterRef::<u64>::start_sharded(&swarm, RouterConfig::default(), 2).await?;
    /// let quoter = swarm
    ///     .agent(move || Quoter { router: router.clone() })
    ///     .on_arbiter(1)
    ///     .spawn()
    ///     .await?;
    /// // Shard 1 lives on arbiter 1, where the quoter made its clone.
    /// assert_eq!(quoter.shard().await?, 1);
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
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
        let mut threads = Vec::with_capacity(shards.max(1));
        for shard in 0..shards.max(1) {
            let dead_letters = dead_letters.clone();
            let stats = stats.clone();
            let seen = ThreadSeen::default();
            let noted = seen.clone();
            let mut spawn = swarm.agent(move || {
                noted.note();
                Router::new(config, dead_letters.clone(), stats.clone(), shard)
            });
            if let Some(budget) = config.budget {
                spawn = spawn.budget(budget);
            }
            let arbiter = shard % swarm.arbiters().max(1);
            agents.push(spawn.on_arbiter(arbiter).spawn().await?);
            threads.push(seen.get());
        }
        let _ = stats.name.set(agents[0].name().to_string());
        let shards = Shards {
            stats,
            agents: agents.into(),
            threads: threads.into(),
            dead_letters,
            next_home: AtomicUsize::new(0),
            next_sub: AtomicU64::new(0),
        };
        let home = shards.home_for_new();
        Ok(Self {
            shards: Arc::new(shards),
            home,
        })
    }
}

impl<M: Send + Sync + 'static> Clone for RouterRef<M> {
    /// Another publisher: it publishes through the router's shard on this
    /// thread's arbiter if there is one, otherwise through the next shard
    /// in turn (see [`RouterRef::start_sharded`]).
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
            home: self.shards.home_for_new(),
        }
    }
}
