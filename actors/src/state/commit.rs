//! Group commit, the shard's side: what one drain of a shard's mailbox
//! staged is handed to the committer as one batch, and the next drain's
//! is decided on top of it while it is written (batches waiting together
//! share a transaction). Writers hear back, and readers see the new
//! versions, only once their batch is committed.

use std::{mem, sync::Arc, time::Duration};

use actix::{ActorFutureExt, AsyncContext, WrapFuture};
use agentix_runtime::AgentContext;
use tokio::sync::oneshot;

use super::{
    Change, ChangeKind, ConflictId, Key, StorageError, StoreError,
    committer::{Done, Job},
    shard::StoreShard,
    slot::Slot,
    stats::WriteOutcome,
};

/// Who waits on a staged change.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The new version number (or the unchanged one).
    Written(oneshot::Sender<Result<u64, StoreError>>),
    /// The write is held as this conflict.
    Held(oneshot::Sender<Result<u64, StoreError>>, ConflictId),
    /// A lock grant: the token, once it is durable.
    Granted(
        oneshot::Sender<Result<super::Lock, StoreError>>,
        super::Lock,
    ),
    /// An answer decided against staged writes, given once they commit.
    After(
        oneshot::Sender<Result<u64, StoreError>>,
        Result<u64, StoreError>,
    ),
}

/// A change decided and waiting for its commit.
#[derive(Debug)]
pub(crate) struct Staged {
    pub(crate) key: Option<Key>,
    pub(crate) slot: Option<Arc<Slot>>,
    pub(crate) reply: Reply,
    pub(crate) change: Option<ChangeKind>,
}

/// A batch being committed, and where its outcome appears.
#[derive(Debug)]
pub(crate) struct Flying {
    batch: Vec<Staged>,
    done: Arc<Done>,
}

/// Batches handed to the committer and not yet answered: past this many,
/// what is staged waits and joins the next one.
const MAX_FLYING: usize = 16;

impl StoreShard {
    /// Stages `slot` as `key`'s new state, to be committed at the end of
    /// this drain.
    pub(super) fn stage(
        &mut self,
        key: Key,
        slot: Slot,
        reply: Reply,
        change: Option<ChangeKind>,
        ctx: &mut AgentContext<Self>,
    ) {
        let slot = Arc::new(slot);
        self.overlay.insert(key.clone(), slot.clone());
        self.next.push(Staged {
            key: Some(key),
            slot: Some(slot),
            reply,
            change,
        });
        self.schedule_flush(ctx);
    }

    /// Stages an answer that waits for the batch (a lock grant, whose
    /// token must be durable before it is used; a refusal decided against
    /// staged writes).
    pub(super) fn stage_answer(&mut self, reply: Reply, ctx: &mut AgentContext<Self>) {
        self.next.push(Staged {
            key: None,
            slot: None,
            reply,
            change: None,
        });
        self.schedule_flush(ctx);
    }

    pub(super) fn schedule_flush(&mut self, ctx: &mut AgentContext<Self>) {
        if self.flush_scheduled {
            return;
        }
        // Runs once the mailbox is drained: actix polls the context's
        // futures only after the messages waiting.
        self.flush_scheduled = true;
        ctx.spawn(async {}.into_actor(self).map(|(), shard, ctx| {
            shard.flush_scheduled = false;
            shard.flush(ctx);
        }));
    }

    /// Hands what is staged to the committer, which writes it after the
    /// batches before it (in one transaction with those still waiting).
    pub(super) fn flush(&mut self, ctx: &mut AgentContext<Self>) {
        if self.next.is_empty() {
            if self.flying.is_empty() {
                self.frozen_if_waiting(ctx);
            }
            return;
        }
        if self.flying.len() >= MAX_FLYING {
            return;
        }
        let batch = mem::take(&mut self.next);
        if !self.shared.backend.persistent() {
            let writes = batch.iter().filter(|staged| staged.key.is_some()).count();
            self.shared.stats.committed(writes, Duration::ZERO, 0);
            self.finish(batch, Ok(()), ctx);
            self.frozen_if_waiting(ctx);
            return;
        }
        let entries = (batch.iter())
            .filter_map(|staged| Some((staged.key.as_ref()?, staged.slot.as_ref()?)))
            .map(|(key, slot)| Ok((key.clone(), slot.encode()?)))
            .collect();
        let done = Arc::new(Done::default());
        self.committer.submit(Job {
            entries,
            fence: self.locks.newest_granted(),
            conflicts: mem::take(&mut self.conflict_opened)
                .then(|| self.shared.next_conflict_peek()),
            epoch: self.failed_commits,
            done: done.clone(),
        });
        self.flying.push_back(Flying { batch, done });
        if self.flying.len() == 1 {
            self.await_commit(ctx);
        }
    }

    /// Waits for the oldest batch handed over, then answers its writers,
    /// and waits for the next.
    pub(super) fn await_commit(&mut self, ctx: &mut AgentContext<Self>) {
        let Some(flying) = self.flying.front() else {
            return;
        };
        let done = flying.done.clone();
        let wait = async move { done.wait().await };
        ctx.spawn(wait.into_actor(self).map(|outcome, shard, ctx| {
            let Some(flying) = shard.flying.pop_front() else {
                return;
            };
            shard.finish(flying.batch, outcome, ctx);
            shard.await_commit(ctx);
            // What waited for room, or a freeze waiting for the commits.
            shard.flush(ctx);
        }));
    }

    /// A batch is committed (or failed): readers see it, writers hear.
    fn finish(
        &mut self,
        batch: Vec<Staged>,
        outcome: Result<(), StorageError>,
        ctx: &mut AgentContext<Self>,
    ) {
        let stats = self.shared.stats.clone();
        match outcome {
            Ok(()) => {}
            Err(error) => {
                // What was handed over or staged since was decided on top
                // of this batch: it fails with it (the committer writes
                // none of it), and the overlay goes.
                self.failed_commits += 1;
                let later = (mem::take(&mut self.flying).into_iter())
                    .flat_map(|flying| flying.batch)
                    .chain(mem::take(&mut self.next));
                self.overlay.clear();
                for staged in batch.into_iter().chain(later) {
                    stats.wrote(WriteOutcome::Failed);
                    staged
                        .reply
                        .fail(StoreError::Storage(error.clone()), &mut self.locks);
                }
                return;
            }
        }
        let mut replies = Vec::with_capacity(batch.len());
        let states = batch.into_iter().filter_map(|staged| {
            let version = staged.slot.as_ref().map_or(0, |slot| slot.current.version);
            replies.push((staged.reply, version));
            Some((staged.key?, staged.slot?, staged.change))
        });
        self.settle(states, ctx);
        // Answered once readers see the batch.
        for (reply, version) in replies {
            reply.succeed(version, &stats);
        }
    }

    /// Makes committed states current: in the committed map and the
    /// index, counted, and published to watchers with `change`.
    pub(super) fn settle(
        &mut self,
        states: impl Iterator<Item = (Key, Arc<Slot>, Option<ChangeKind>)>,
        ctx: &mut AgentContext<Self>,
    ) {
        let stats = &self.shared.stats;
        let mut changes = Vec::new();
        let index = self.shared.index.pin();
        for (key, slot, change) in states {
            if (self.overlay.get(&key)).is_some_and(|kept| Arc::ptr_eq(kept, &slot)) {
                self.overlay.remove(&key);
            }
            // Versions only grow: the same number is the same version.
            let fresh =
                (index.get(&key)).is_none_or(|current| current.version != slot.current.version);
            if fresh {
                index.insert(key.clone(), (*slot.current).clone());
            }
            match change {
                Some(ChangeKind::ConflictOpened(_)) => stats.conflict(true),
                Some(ChangeKind::ConflictResolved(_)) => stats.conflict(false),
                _ => {}
            }
            if let Some(kind) = change
                && self.shared.is_watched(&key)
            {
                let version = slot.current.clone();
                changes.push(Change {
                    key: key.clone(),
                    kind,
                    version,
                });
            }
            if self.slots.insert(key, slot) {
                stats.add_keys(1);
            }
        }
        drop(index);
        if !changes.is_empty() {
            self.publish(changes, ctx);
        }
    }
}

impl Reply {
    fn succeed(self, version: u64, stats: &super::StoreStats) {
        match self {
            Reply::Written(reply) => {
                stats.wrote(WriteOutcome::Accepted);
                // A caller that gave up waiting is not an error.
                let _ = reply.send(Ok(version));
            }
            Reply::Held(reply, id) => {
                stats.wrote(WriteOutcome::ConflictHeld);
                let _ = reply.send(Err(StoreError::Held { conflict: id }));
            }
            Reply::Granted(reply, lock) => {
                let _ = reply.send(Ok(lock));
            }
            Reply::After(reply, answer) => {
                let _ = reply.send(answer);
            }
        }
    }

    /// Answers with `error`; a lock granted for this batch is returned.
    fn fail(self, error: StoreError, locks: &mut super::locks::LockTable) {
        match self {
            Reply::Written(reply) | Reply::Held(reply, _) | Reply::After(reply, _) => {
                let _ = reply.send(Err(error));
            }
            Reply::Granted(reply, lock) => {
                locks.release(lock.token);
                let _ = reply.send(Err(error));
            }
        }
    }
}
