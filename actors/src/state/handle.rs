//! [`StoreRef`]: opening a store, reading from any thread without a
//! message, and writing.

use std::{fmt, sync::Arc, time::Duration};

use agentix_runtime::{AgentRef, AskError, SendError, Swarm};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::oneshot;

use super::{
    Document, Key, OpenError, StoreConfig, StoreError, StoreStats, Version, Write, Writer,
    open::{open, shard_of},
    policy::Condition,
    shard::{Op, StoreShard, WriteOp},
    shared::Shared,
};
use crate::router::RouterConfig;

/// A reference to a running state store. Cheap to clone. Current-value
/// reads ([`get`](Self::get), [`get_version`](Self::get_version)) are
/// answered on the caller's thread from the store's published index, with
/// no message and no lock; writes go to the shard that keeps the key and
/// are answered once committed.
///
/// ```
/// use agentix::prelude::*;
/// use agentix::actors::state::{StoreConfig, StoreError, StoreRef};
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default())?;
/// let store = StoreRef::open(&swarm, StoreConfig::memory()).await?;
/// assert_eq!(store.put("plan.title", &"Draft".to_string()).await?, 1);
/// let doc = store.get::<String>("plan.title")?.expect("just written");
/// assert_eq!((doc.value.as_str(), doc.version), ("Draft", 1));
/// // Compare-and-set against a stale version is refused with the current document.
/// let refused = store.compare_and_set("plan.title", 0, &"Other".to_string()).await;
/// let Err(error @ StoreError::VersionMismatch { .. }) = refused else { panic!() };
/// assert_eq!(error.current::<String>().unwrap()?, "Draft");
/// assert_eq!(store.compare_and_set("plan.title", 1, &"Final".to_string()).await?, 2);
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct StoreRef {
    pub(super) shared: Arc<Shared>,
    pub(super) shards: Arc<[AgentRef<StoreShard>]>,
    pub(super) writer: Writer,
    pub(super) timeout: Duration,
    pub(super) attempts: u32,
    pub(super) swarm: Swarm,
    pub(super) router: RouterConfig,
}

impl StoreRef {
    /// Opens the store `config` describes (loading its documents) and
    /// starts its shards in `swarm`. A redb file stays open while the
    /// shards or any reference to the store live: after the swarm shuts
    /// down, drop the references to close it. Opening it again before
    /// that is [`StorageError::Open`](super::StorageError::Open) (`the file
    /// is open in another store`). The async methods of a store run on a
    /// tokio runtime: any arbiter, `#[agentix::main]` or `#[agentix::test]`.
    pub async fn open(swarm: &Swarm, config: StoreConfig) -> Result<Self, OpenError> {
        let (shared, shards) = open(swarm, &config).await?;
        Ok(Self {
            shared,
            shards: shards.into(),
            writer: Writer::default(),
            timeout: config.timeout,
            attempts: config.update_attempts,
            swarm: swarm.clone(),
            router: config.router,
        })
    }

    /// This reference, writing (and locking) as `writer`: an agent's name
    /// or a caller's label, recorded with each version.
    pub fn as_writer(&self, writer: Writer) -> Self {
        Self {
            writer,
            ..self.clone()
        }
    }

    /// Who this reference writes as.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// The store's counters.
    pub fn stats(&self) -> &Arc<StoreStats> {
        &self.shared.stats
    }

    /// The shards' agents (their names, status, restarts).
    pub fn shard_agents(&self) -> &[AgentRef<StoreShard>] {
        &self.shards
    }

    /// The document at `key`, decoded as `T`; `None` when never written or
    /// deleted. No message: read from the published index.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Document<T>>, StoreError> {
        match self.read(key, |key, current| current.document(key))? {
            Some(document) => Ok(document?),
            None => Ok(None),
        }
    }

    /// A copy of the current version at `key`, undecoded: a deleted key's
    /// tombstone too. No message.
    pub fn get_raw(&self, key: &str) -> Result<Option<Version>, StoreError> {
        self.read(key, |_, current| current.clone())
    }

    /// The version number at `key` (a deleted key's tombstone counts; 0:
    /// never written): what a compare-and-set expects. No message.
    pub fn get_version(&self, key: &str) -> Result<u64, StoreError> {
        Ok(self.read(key, |_, current| current.version)?.unwrap_or(0))
    }

    /// `look` at the current version at `key` (with the index's copy of
    /// the key), in the index.
    fn read<R>(
        &self,
        key: &str,
        look: impl FnOnce(&Key, &Version) -> R,
    ) -> Result<Option<R>, StoreError> {
        self.shared.stats.read();
        let index = self.shared.index.pin();
        // Only valid keys are ever stored: a key found needs no check, and
        // one not found is checked to tell an invalid key from an absent one.
        match index.get_key_value(key) {
            Some((key, current)) => Ok(Some(look(key, current))),
            None => Key::check(key).map(|()| None).map_err(StoreError::Key),
        }
    }

    /// `key`, checked; the index's own copy when the key exists (then it
    /// needs no check either), so that a write to a known key allocates no
    /// key.
    pub(super) fn key(&self, key: &str) -> Result<Key, StoreError> {
        let index = self.shared.index.pin();
        match index.get_key_value(key) {
            Some((known, _)) => Ok(known.clone()),
            None => Ok(Key::new(key)?),
        }
    }

    /// Writes `value` at `key` whatever is there (under first-writer-wins,
    /// only where the key is absent or deleted); the new version.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<u64, StoreError> {
        self.write(key, Write::put(value)?).await
    }

    /// Writes `value` only if `key` is at version `expected` (0: never
    /// written); otherwise [`StoreError::VersionMismatch`] with the current
    /// document.
    pub async fn compare_and_set<T: Serialize>(
        &self,
        key: &str,
        expected: u64,
        value: &T,
    ) -> Result<u64, StoreError> {
        self.write(key, Write::put(value)?.expect(expected)).await
    }

    /// Deletes `key`: a tombstone version, kept in history. Deleting an
    /// absent or deleted key writes nothing and returns its version. A
    /// delete is a blind write: under first-writer-wins it is refused on a
    /// live key ([`StoreError::Stale`]); delete with
    /// `Write::delete().based_on(version)` there.
    pub async fn delete(&self, key: &str) -> Result<u64, StoreError> {
        self.write(key, Write::delete()).await
    }

    /// Writes with options; the new version (the current one when a delete,
    /// whatever its condition, found nothing to delete: it writes nothing).
    pub async fn write(&self, key: &str, write: Write) -> Result<u64, StoreError> {
        let key = self.key(key)?;
        if write.value.is_none() && write.condition == Condition::Blind {
            let live = self.read(key.as_str(), |_, current| !current.is_tombstone())?;
            if live != Some(true) {
                return self.get_version(key.as_str());
            }
        }
        let (reply, answer) = oneshot::channel();
        let op = WriteOp {
            key,
            value: write.value,
            condition: write.condition,
            writer: self.writer.clone(),
            tag: write.tag,
            fence: write.fence,
            reply,
        };
        let shard = shard_of(op.key.as_str(), self.shards.len());
        self.post(shard, Op::Write(op), answer).await?
    }

    /// Reads `key`, gives its value (`None`: absent) to `change`, and
    /// writes what it returns with compare-and-set; on a conflicting write
    /// it reads again and retries, up to the configured attempts, then
    /// fails with [`StoreError::Contended`]. Between attempts it waits a
    /// random while that doubles with each (up to a few milliseconds), so
    /// that updaters in lockstep spread out rather than one losing every
    /// round. `change` may run more than once.
    pub async fn update<T, F>(&self, key: &str, mut change: F) -> Result<u64, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<&T>) -> T,
    {
        let parsed = Key::new(key)?;
        let mut current = self.read(parsed.as_str(), |_, current| current.clone())?;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                let most = 50u64 << attempt.min(6);
                tokio::time::sleep(Duration::from_micros(fastrand::u64(0..=most))).await;
            }
            let version = current.as_ref().map_or(0, |current| current.version);
            let value: Option<T> = current
                .map(|current| current.decode())
                .transpose()?
                .flatten();
            let next = change(value.as_ref());
            match self.compare_and_set(key, version, &next).await {
                // The refusal carries the newest version the shard decided
                // against, which the index may not show yet: retry on it.
                Err(StoreError::VersionMismatch { current: newer, .. }) => {
                    current = newer.map(|newer| *newer);
                }
                outcome => return outcome,
            }
        }
        Err(StoreError::Contended {
            attempts: self.attempts,
        })
    }

    pub(super) fn shard_for(&self, key: &Key) -> &AgentRef<StoreShard> {
        &self.shards[shard_of(key.as_str(), self.shards.len())]
    }

    /// Posts `op` to shard `shard`'s inbox and waits for its answer up to
    /// the timeout.
    pub(super) async fn post<R>(
        &self,
        shard: usize,
        op: Op,
        answer: oneshot::Receiver<R>,
    ) -> Result<R, StoreError> {
        let agent = &self.shards[shard];
        let unavailable = |closed: bool| {
            let agent = agent.name().clone();
            StoreError::Unavailable(if closed {
                AskError::Closed { agent }
            } else {
                AskError::Timeout {
                    agent,
                    after: self.timeout,
                }
            })
        };
        self.shared.inboxes[shard]
            .post(agent, op, unavailable)
            .await?;
        self.answer(agent, answer).await
    }

    /// Sends `op` (waiting for room up to the timeout) and waits for its
    /// answer up to the timeout.
    pub(super) async fn send<M, R>(
        &self,
        shard: &AgentRef<StoreShard>,
        op: M,
        answer: oneshot::Receiver<R>,
    ) -> Result<R, StoreError>
    where
        M: actix::Message<Result = ()> + Send + 'static,
        StoreShard: actix::Handler<M>,
    {
        shard
            .tell_wait(op)
            .await
            .map_err(|error| unavailable(&error, self.timeout))?;
        self.answer(shard, answer).await
    }

    async fn answer<R>(
        &self,
        shard: &AgentRef<StoreShard>,
        answer: oneshot::Receiver<R>,
    ) -> Result<R, StoreError> {
        let agent = || shard.name().clone();
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(StoreError::Unavailable(AskError::Closed { agent: agent() })),
            Err(_) => Err(StoreError::Unavailable(AskError::Timeout {
                agent: agent(),
                after: self.timeout,
            })),
        }
    }

    /// Asks every shard the same question and gathers the answers.
    pub(super) async fn ask_all<M>(
        &self,
        make: impl Fn() -> M,
    ) -> Result<Vec<M::Result>, StoreError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        StoreShard: actix::Handler<M>,
    {
        let asks = self.shards.iter().map(|shard| shard.call(make()));
        let answers = futures_util::future::join_all(asks).await;
        answers
            .into_iter()
            .map(|answer| answer.map_err(StoreError::Unavailable))
            .collect()
    }
}

fn unavailable<M>(error: &SendError<M>, after: Duration) -> StoreError {
    let agent = error.agent().clone();
    StoreError::Unavailable(if error.is_closed() {
        AskError::Closed { agent }
    } else {
        AskError::Timeout { agent, after }
    })
}

impl fmt::Debug for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreRef")
            .field("backend", &self.shared.backend.kind())
            .field("shards", &self.shards.len())
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}
