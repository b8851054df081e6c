//! The parts of [`StoreRef`] beyond reading and writing one key: listings
//! and history, watches, open conflicts, locks.

use std::{sync::Arc, time::Duration};

use actix::Handler;
use agentix_runtime::{Agent, AgentRef};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::{
    Change, Conflict, ConflictId, Document, Key, Lock, LockMode, Resolution, StoreError, StoreRef,
    Version,
    requests::{Conflicts, History, List, LockOp},
    shard::{Op, ResolveOp},
    watch::patterns_of,
};
use crate::router::{Batch, RouterRef, SubscriptionId};

/// A watch made by [`StoreRef::watch`]: hand it to
/// [`StoreRef::unwatch`] to end it.
#[derive(Debug, Clone)]
pub struct Watch {
    prefix: Key,
    subscriptions: [SubscriptionId; 2],
}

/// `""` is every key; anything else must be a valid key.
fn prefix_of(prefix: &str) -> Result<Option<Key>, StoreError> {
    if prefix.is_empty() {
        return Ok(None);
    }
    Ok(Some(Key::new(prefix)?))
}

impl StoreRef {
    /// Every live document under `prefix` (the key itself and the keys
    /// below it; `""` for all), decoded as `T`, in key order. Asks the
    /// shards: it sees what is committed.
    pub async fn list<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<Document<T>>, StoreError> {
        let mut documents = Vec::new();
        for (key, version) in self.list_raw(prefix).await? {
            if let Some(document) = Version::document(&version, &key)? {
                documents.push(document);
            }
        }
        Ok(documents)
    }

    /// Every live key under `prefix` with its current version, undecoded,
    /// in key order.
    pub async fn list_raw(&self, prefix: &str) -> Result<Vec<(Key, Arc<Version>)>, StoreError> {
        let prefix = prefix_of(prefix)?;
        let mut all: Vec<_> = self
            .ask_all(|| List(prefix.clone()))
            .await?
            .into_iter()
            .flatten()
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// The versions `key` keeps, newest first, the current one (or its
    /// tombstone) first; empty when the store keeps no history.
    pub async fn history(&self, key: &str) -> Result<Vec<Arc<Version>>, StoreError> {
        let key = Key::new(key)?;
        Ok(self.shard_for(&key).call(History(key)).await?)
    }

    /// Delivers every accepted change to `prefix` (the key itself and the
    /// keys below it) to `agent`, as router batches of [`Change`], in
    /// version order per key, from now on. The first watch starts the
    /// store's watch router.
    pub async fn watch<A>(&self, prefix: &str, agent: &AgentRef<A>) -> Result<Watch, StoreError>
    where
        A: Agent + Handler<Batch<Change>>,
    {
        let prefix = Key::new(prefix)?;
        let router = self.watch_router().await?;
        let [exact, below] = patterns_of(&prefix);
        let first = router
            .subscribe(&exact, agent)
            .await
            .map_err(StoreError::Watch)?;
        let second = match router.subscribe(&below, agent).await {
            Ok(id) => id,
            Err(error) => {
                let _ = router.unsubscribe(first).await;
                return Err(StoreError::Watch(error));
            }
        };
        self.shared.watch(&prefix);
        Ok(Watch {
            prefix,
            subscriptions: [first, second],
        })
    }

    /// Ends a watch; whether its subscriptions were still there.
    pub async fn unwatch(&self, watch: Watch) -> Result<bool, StoreError> {
        let router = self.watch_router().await?;
        let mut found = false;
        for id in watch.subscriptions {
            found |= router.unsubscribe(id).await?;
        }
        // A watch ended twice (it is `Clone`) counts down once.
        if found {
            self.shared.unwatch(&watch.prefix);
        }
        Ok(found)
    }

    /// The router changes are published through (its stats, dead letters).
    pub async fn watch_router(&self) -> Result<&RouterRef<Change>, StoreError> {
        self.shared
            .router
            .get_or_try_init(|| RouterRef::start(&self.swarm, self.router))
            .await
            .map_err(StoreError::WatchRouter)
    }

    /// The open conflicts under `prefix` (`""`: all).
    pub async fn conflicts(&self, prefix: &str) -> Result<Vec<Arc<Conflict>>, StoreError> {
        let prefix = prefix_of(prefix)?;
        let answers = self.ask_all(|| Conflicts(prefix.clone())).await?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// Ends the open conflict `id` on `key`; the key's version after it
    /// (unchanged for [`Resolution::KeepCurrent`]). Watchers are told.
    pub async fn resolve(
        &self,
        key: &str,
        id: ConflictId,
        resolution: Resolution,
    ) -> Result<u64, StoreError> {
        let key = Key::new(key)?;
        let (reply, answer) = oneshot::channel();
        let shard = super::open::shard_of(key.as_str(), self.shards.len());
        let op = ResolveOp {
            key,
            id,
            resolution,
            writer: self.writer.clone(),
            reply,
        };
        self.post(shard, Op::Resolve(op), answer).await?
    }

    /// Locks `key` and every key under it for this reference's writer, for
    /// `lease` (zero is [`StoreError::ZeroDuration`]; longer than
    /// `MAX_DURATION` is taken as `MAX_DURATION`). Answers at once: a lock
    /// held in an excluding mode by another holder is
    /// [`StoreError::LockBusy`]. The grant's token is durable before it is
    /// returned.
    pub async fn lock(
        &self,
        key: &str,
        mode: LockMode,
        lease: Duration,
    ) -> Result<Lock, StoreError> {
        let key = Key::new(key)?;
        if lease.is_zero() {
            return Err(StoreError::ZeroDuration);
        }
        let (reply, answer) = oneshot::channel();
        let op = LockOp::Grant {
            key,
            mode,
            holder: self.writer.clone(),
            lease,
            reply,
        };
        self.send(&self.shards[0], op, answer).await?
    }

    /// Extends a held lock's lease to `lease` from now; a lock whose lease
    /// passed is [`StoreError::LockNotHeld`].
    pub async fn renew(&self, lock: &Lock, lease: Duration) -> Result<Lock, StoreError> {
        let (reply, answer) = oneshot::channel();
        let token = lock.token;
        let op = LockOp::Renew {
            token,
            lease,
            reply,
        };
        self.send(&self.shards[0], op, answer).await?
    }

    /// Releases a lock; whether it was still held.
    pub async fn unlock(&self, lock: &Lock) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let op = LockOp::Release {
            token: lock.token,
            reply,
        };
        self.send(&self.shards[0], op, answer).await
    }

    /// The locks held now under `prefix` (`""`: all).
    pub async fn locks(&self, prefix: &str) -> Result<Vec<Lock>, StoreError> {
        let prefix = prefix_of(prefix)?;
        let (reply, answer) = oneshot::channel();
        self.send(&self.shards[0], LockOp::Held { prefix, reply }, answer)
            .await
    }
}
