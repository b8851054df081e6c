//! A store shard: the one writer of its keys. It decides each write
//! against the newest accepted state (committed or on its way), stages it,
//! and commits what a drain of its mailbox staged as one batch
//! ([`commit`](super::commit)); writers hear back after the commit.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use actix::Handler;
use agentix_runtime::{AgentContext, Events, Lifecycle, Swarm};
use tokio::sync::oneshot;

use super::{
    ChangeKind, Conflict, ConflictId, Encoded, Key, Meta, StoreError, Version, Writer,
    commit::{Flying, Reply, Staged},
    committed::Committed,
    committer::Committer,
    freeze::Freeze,
    locks::LockTable,
    policy::{Condition, Decision, decide},
    shared::Shared,
    slot::Slot,
    stats::WriteOutcome,
};

/// One shard of a state store; see the [module docs](super). Used through
/// [`StoreRef`](super::StoreRef).
// Permanent, and a restart keeps the documents: they are the store.
#[derive(agentix_macros::Agent)]
#[agent(
    crate = ::agentix_runtime,
    kind = "state-store",
    restart = "permanent",
    keep_state,
    lifecycle,
    reference = agentix_runtime::AgentRef<Self>
)]
pub struct StoreShard {
    pub(super) shared: Arc<Shared>,
    pub(super) shard: usize,
    /// Committed state, ordered for prefix scans.
    pub(super) slots: Committed,
    /// Accepted but not yet committed: what the next writes are decided
    /// against.
    pub(super) overlay: HashMap<Key, Arc<Slot>, foldhash::fast::RandomState>,
    /// Staged since the last commit started.
    pub(super) next: Vec<Staged>,
    /// Batches handed to the committer, oldest first.
    pub(super) flying: VecDeque<Flying>,
    pub(super) committer: Arc<Committer>,
    /// Commits that failed: batches decided before a failure are not
    /// written after it.
    pub(super) failed_commits: u64,
    pub(super) flush_scheduled: bool,
    /// A snapshot or restore waiting for the commits to finish, and what
    /// arrived after it.
    pub(super) freezing: Option<Freeze>,
    /// Frozen for a snapshot or restore until released.
    pub(super) frozen: bool,
    /// What releases it, kept here so that a new incarnation waits on it.
    pub(super) release: Option<Arc<tokio::sync::Mutex<oneshot::Receiver<super::freeze::Release>>>>,
    pub(super) held: VecDeque<Op>,
    /// Locks, on the first shard only.
    pub(super) locks: LockTable,
    pub(super) events: Option<Events>,
    /// Where the first shard asks whether lock holders still run.
    pub(super) swarm: Option<Swarm>,
    /// Whether a conflict opened since the last commit: the next id to
    /// hand out is committed with the batch.
    pub(super) conflict_opened: bool,
    /// The wall clock in ms, read once per drain: writes handled together
    /// carry one time (a clock read per write was a few percent of the
    /// shard's thread).
    pub(super) clock: Option<u64>,
}

/// A request that may wait behind a snapshot.
#[derive(Debug)]
pub(crate) enum Op {
    Write(WriteOp),
    Resolve(ResolveOp),
    Freeze(Freeze),
    Lock(super::requests::LockOp),
}

impl actix::Message for Op {
    type Result = ();
}

/// A write: put, compare-and-set, delete.
#[derive(Debug)]
pub(crate) struct WriteOp {
    pub(crate) key: Key,
    pub(crate) value: Option<Encoded>,
    pub(crate) condition: Condition,
    pub(crate) writer: Writer,
    pub(crate) tag: Option<Arc<str>>,
    pub(crate) fence: Option<u64>,
    pub(crate) reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// Ends an open conflict.
#[derive(Debug)]
pub(crate) struct ResolveOp {
    pub(crate) key: Key,
    pub(crate) id: ConflictId,
    pub(crate) resolution: super::Resolution,
    pub(crate) writer: Writer,
    pub(crate) reply: oneshot::Sender<Result<u64, StoreError>>,
}

impl StoreShard {
    pub(crate) fn new(
        shared: Arc<Shared>,
        shard: usize,
        slots: Committed,
        events: Option<Events>,
        swarm: Option<Swarm>,
    ) -> Self {
        let committer = Committer::new(shared.backend.clone(), shared.stats.clone());
        Self {
            shared,
            shard,
            slots,
            overlay: HashMap::default(),
            next: Vec::new(),
            flying: VecDeque::new(),
            committer,
            failed_commits: 0,
            flush_scheduled: false,
            freezing: None,
            frozen: false,
            release: None,
            held: VecDeque::new(),
            locks: LockTable::default(),
            events,
            swarm,
            conflict_opened: false,
            clock: None,
        }
    }

    /// The newest accepted state of `key`.
    pub(super) fn latest(&self, key: &Key) -> Option<&Arc<Slot>> {
        self.overlay.get(key).or_else(|| self.slots.get(key))
    }

    pub(super) fn op(&mut self, op: Op, ctx: &mut AgentContext<Self>) {
        if self.freezing.is_some() || self.frozen {
            self.held.push_back(op);
            return;
        }
        match op {
            Op::Write(write) => self.write(write, ctx),
            Op::Resolve(resolve) => self.resolve(resolve, ctx),
            Op::Freeze(freeze) => self.freeze(freeze, ctx),
            Op::Lock(lock) => self.lock(lock, ctx),
        }
    }

    /// Metadata for a write accepted in this drain.
    fn meta(&mut self, writer: Writer, tag: Option<Arc<str>>) -> Meta {
        let at_ms = *self.clock.get_or_insert_with(Meta::now_ms);
        Meta { writer, at_ms, tag }
    }

    fn write(&mut self, op: WriteOp, ctx: &mut AgentContext<Self>) {
        let stats = &self.shared.stats;
        if let Some(token) = op.fence
            && let Some(newest) = self.shared.fenced(&op.key, token)
        {
            stats.wrote(WriteOutcome::Fenced);
            let _ = op.reply.send(Err(StoreError::Fenced { token, newest }));
            return;
        }
        let prior = self.latest(&op.key).cloned();
        let policy = self.shared.policies.for_key(&op.key);
        match decide(policy, prior.as_deref(), op.condition, op.value) {
            // A delete that finds nothing to delete writes nothing (decided
            // here, against staged writes too: two deletes in a row leave
            // one tombstone).
            Decision::Accept(None)
                if prior
                    .as_ref()
                    .is_none_or(|slot| slot.current.is_tombstone()) =>
            {
                let version = prior.as_ref().map_or(0, |slot| slot.current.version);
                self.answer(&op.key, op.reply, Ok(version), ctx);
            }
            Decision::Accept(value) => {
                let kind = if value.is_some() {
                    ChangeKind::Written
                } else {
                    ChangeKind::Deleted
                };
                let version = Version {
                    version: prior
                        .as_ref()
                        .map_or(0, |slot| slot.current.version)
                        .saturating_add(1),
                    meta: self.meta(op.writer, op.tag),
                    value,
                };
                let slot = Slot::advance(prior.as_deref(), version, self.shared.history);
                self.stage(op.key, slot, Reply::Written(op.reply), Some(kind), ctx);
            }
            Decision::Refuse(error) => {
                stats.wrote(match error {
                    StoreError::VersionMismatch { .. } => WriteOutcome::CasRefused,
                    StoreError::Stale { .. } => WriteOutcome::StaleRefused,
                    _ => WriteOutcome::Failed,
                });
                self.answer(&op.key, op.reply, Err(error), ctx);
            }
            Decision::Hold(value) => {
                // The version it was based on, for whoever resolves it.
                let based_on = match op.condition {
                    Condition::Based(based) | Condition::Exact(based) => based,
                    Condition::Blind => 0,
                };
                let candidate = super::Candidate {
                    based_on,
                    meta: self.meta(op.writer, op.tag),
                    value,
                };
                // decide() holds only a write that meets a current version.
                let Some(prior) = prior else {
                    let _ = op
                        .reply
                        .send(Err(StoreError::NoSuchConflict(ConflictId(0))));
                    return;
                };
                let mut slot = Slot::clone(&prior);
                let (conflict, opened) = match &prior.conflict {
                    Some(open) => {
                        let mut open = Conflict::clone(open);
                        open.candidates.push(candidate);
                        (open, false)
                    }
                    None => {
                        let id = ConflictId(self.shared.next_conflict());
                        self.conflict_opened = true;
                        let conflict = Conflict {
                            id,
                            key: op.key.clone(),
                            current: prior.current.version,
                            candidates: vec![candidate],
                        };
                        (conflict, true)
                    }
                };
                let id = conflict.id;
                slot.conflict = Some(Arc::new(conflict));
                let kind = opened.then_some(ChangeKind::ConflictOpened(id));
                self.stage(op.key, slot, Reply::Held(op.reply, id), kind, ctx);
            }
        }
    }

    /// Answers a write decided without writing: at once when `key` has
    /// nothing staged, else with the staged batch, since the answer rests
    /// on it (it fails if that batch does).
    fn answer(
        &mut self,
        key: &Key,
        reply: oneshot::Sender<Result<u64, StoreError>>,
        answer: Result<u64, StoreError>,
        ctx: &mut AgentContext<Self>,
    ) {
        if self.overlay.contains_key(key) {
            self.stage_answer(Reply::After(reply, answer), ctx);
        } else {
            let _ = reply.send(answer);
        }
    }

    fn resolve(&mut self, op: ResolveOp, ctx: &mut AgentContext<Self>) {
        let prior = self.latest(&op.key).cloned();
        let Some(prior) = prior.filter(|slot| {
            slot.conflict
                .as_ref()
                .is_some_and(|conflict| conflict.id == op.id)
        }) else {
            let _ = op.reply.send(Err(StoreError::NoSuchConflict(op.id)));
            return;
        };
        let conflict = prior.conflict.clone().unwrap_or_else(|| unreachable!());
        let chosen = match op.resolution {
            super::Resolution::KeepCurrent => None,
            super::Resolution::Take(index) => match conflict.candidates.get(index) {
                Some(candidate) => Some((candidate.value.clone(), candidate.meta.tag.clone())),
                None => {
                    let _ = op.reply.send(Err(StoreError::NoSuchConflict(op.id)));
                    return;
                }
            },
            super::Resolution::Value(value) => Some((Some(value), None)),
        };
        let slot = match chosen {
            None => {
                let mut slot = Slot::clone(&prior);
                slot.conflict = None;
                slot
            }
            Some((value, tag)) => {
                let version = Version {
                    version: prior.current.version.saturating_add(1),
                    meta: self.meta(op.writer, tag),
                    value,
                };
                let mut slot = Slot::advance(Some(&prior), version, self.shared.history);
                slot.conflict = None;
                slot
            }
        };
        let kind = Some(ChangeKind::ConflictResolved(op.id));
        self.stage(op.key, slot, Reply::Written(op.reply), kind, ctx);
    }

    /// Every committed key state under `prefix` (every key for `None`),
    /// in key order.
    pub(super) fn under<'a>(
        &'a self,
        prefix: Option<&'a Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Slot>)> + 'a {
        self.slots.under(prefix)
    }
}

impl Handler<Op> for StoreShard {
    type Result = ();

    fn handle(&mut self, op: Op, ctx: &mut AgentContext<Self>) {
        self.clock = None;
        self.op(op, ctx);
    }
}

impl Lifecycle for StoreShard {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        // A restart lost the futures of the last incarnation: wait for the
        // commit under way again, and listen for stops again.
        if !self.flying.is_empty() {
            self.await_commit(ctx);
        }
        self.flush_scheduled = false;
        if self.frozen {
            // Still frozen: wait for the release again.
            self.await_release(ctx);
        }
        if !self.next.is_empty() {
            self.schedule_flush(ctx);
        }
        // Requests posted while no incarnation ran.
        if !self.shared.inboxes[self.shard].is_empty() {
            self.drain_inbox(ctx);
        }
        if let Some(events) = &self.events {
            let events = events.resubscribe();
            self.listen(events, ctx);
        }
        // Holders that stopped while no incarnation listened.
        if let Some(swarm) = self.swarm.clone() {
            self.locks.release_gone(|name| swarm.runs(name));
        }
    }
}

impl std::fmt::Debug for StoreShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreShard")
            .field("shard", &self.shard)
            .field("keys", &self.slots.len())
            .finish_non_exhaustive()
    }
}
