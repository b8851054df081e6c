//! What a shard answers besides writes: history, listings, open
//! conflicts, locks; and what it sends: changes to watchers, and (on the
//! first shard) lock releases for agents that stopped for good.

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Handler, WrapFuture};
use agentix_runtime::{AgentContext, Event, EventError, Events};
use tokio::sync::oneshot;

use super::{
    Change, Conflict, Key, Lock, LockMode, StoreError, Version, Writer, commit::Reply,
    shard::StoreShard, watch::topic_of,
};
use crate::router::{Publish, PublishError, Topic};

/// The versions kept of a key, newest first.
pub(crate) struct History(pub(crate) Key);

impl actix::Message for History {
    type Result = Vec<Arc<Version>>;
}

impl Handler<History> for StoreShard {
    type Result = Vec<Arc<Version>>;

    fn handle(&mut self, History(key): History, _: &mut AgentContext<Self>) -> Self::Result {
        if self.shared.history == 0 {
            return Vec::new();
        }
        self.slots.get(&key).map_or_else(Vec::new, |slot| {
            std::iter::once(&slot.current)
                .chain(&slot.history)
                .cloned()
                .collect()
        })
    }
}

/// The current versions under a prefix (deleted keys left out), in key
/// order.
pub(crate) struct List(pub(crate) Option<Key>);

impl actix::Message for List {
    type Result = Vec<(Key, Arc<Version>)>;
}

impl Handler<List> for StoreShard {
    type Result = Vec<(Key, Arc<Version>)>;

    fn handle(&mut self, List(prefix): List, _: &mut AgentContext<Self>) -> Self::Result {
        self.under(prefix.as_ref())
            .filter(|(_, slot)| !slot.current.is_tombstone())
            .map(|(key, slot)| (key.clone(), slot.current.clone()))
            .collect()
    }
}

/// The open conflicts under a prefix.
pub(crate) struct Conflicts(pub(crate) Option<Key>);

impl actix::Message for Conflicts {
    type Result = Vec<Arc<Conflict>>;
}

impl Handler<Conflicts> for StoreShard {
    type Result = Vec<Arc<Conflict>>;

    fn handle(&mut self, Conflicts(prefix): Conflicts, _: &mut AgentContext<Self>) -> Self::Result {
        self.under(prefix.as_ref())
            .filter_map(|(_, slot)| slot.conflict.clone())
            .collect()
    }
}

/// A lock request, to the first shard.
#[derive(Debug)]
pub(crate) enum LockOp {
    Grant {
        key: Key,
        mode: LockMode,
        holder: Writer,
        lease: std::time::Duration,
        reply: oneshot::Sender<Result<Lock, StoreError>>,
    },
    Renew {
        token: u64,
        lease: std::time::Duration,
        reply: oneshot::Sender<Result<Lock, StoreError>>,
    },
    Release {
        token: u64,
        reply: oneshot::Sender<bool>,
    },
    Held {
        prefix: Option<Key>,
        reply: oneshot::Sender<Vec<Lock>>,
    },
}

impl actix::Message for LockOp {
    type Result = ();
}

impl Handler<LockOp> for StoreShard {
    type Result = ();

    fn handle(&mut self, op: LockOp, ctx: &mut AgentContext<Self>) {
        // Held behind a snapshot as writes are: a grant stages a commit.
        self.op(super::shard::Op::Lock(op), ctx);
    }
}

impl StoreShard {
    pub(super) fn lock(&mut self, op: LockOp, ctx: &mut AgentContext<Self>) {
        match op {
            LockOp::Grant {
                key,
                mode,
                holder,
                lease,
                reply,
            } => match self.locks.grant(key.clone(), mode, holder, lease) {
                Ok(lock) => {
                    // Writes carrying an older token are refused from now.
                    self.shared.fences.pin().insert(key, lock.token);
                    // The token is handed out once it is durable.
                    self.stage_answer(Reply::Granted(reply, lock), ctx);
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            LockOp::Renew {
                token,
                lease,
                reply,
            } => {
                let _ = reply.send(self.locks.renew(token, lease));
            }
            LockOp::Release { token, reply } => {
                let _ = reply.send(self.locks.release(token));
            }
            LockOp::Held { prefix, reply } => {
                let _ = reply.send(self.locks.held(prefix.as_ref()));
            }
        }
    }
}

impl StoreShard {
    /// Publishes changes to watchers in order. A full router mailbox makes
    /// the shard wait for room (nothing else is handled meanwhile), so no
    /// change is dropped and none overtakes another.
    pub(super) fn publish(&mut self, changes: Vec<Change>, ctx: &mut AgentContext<Self>) {
        let Some(router) = self.shared.router.get().cloned() else {
            return;
        };
        let mut changes = changes.into_iter();
        while let Some(change) = changes.next() {
            let Ok(topic) = Topic::new(&topic_of(&change.key)) else {
                // A key's topic is always valid (keys are shorter than
                // topics); nothing to publish on otherwise.
                continue;
            };
            match router.send(Publish::new(topic, change)) {
                Ok(()) => {}
                Err(PublishError::Send(refused)) if refused.is_full() => {
                    let mut rest = vec![refused.into_inner()];
                    rest.extend(changes.filter_map(|change| {
                        let topic = Topic::new(&topic_of(&change.key)).ok()?;
                        Some(Publish::new(topic, change))
                    }));
                    let send = async move {
                        for mut publish in rest {
                            // Past the router's deadline, try again: a slow
                            // router delays changes, only a stopped one
                            // loses them (and has no watcher left).
                            while let Err(error) = router.send_wait(publish).await {
                                let PublishError::Send(refused) = error else {
                                    break;
                                };
                                if refused.is_closed() {
                                    tracing::warn!(
                                        "the watch router stopped; a change was not published"
                                    );
                                    break;
                                }
                                publish = refused.into_inner();
                            }
                        }
                    };
                    ctx.wait(send.into_actor(self));
                    return;
                }
                Err(error) => tracing::warn!(%error, "a state change was not published"),
            }
        }
    }

    /// Releases the locks of agents that stop for good (not of those that
    /// restart), as the swarm reports them.
    pub(super) fn listen(&mut self, mut events: Events, ctx: &mut AgentContext<Self>) {
        let next = async move {
            let first = events.recv().await;
            (first, events)
        };
        ctx.spawn(
            next.into_actor(self)
                .map(|(first, mut events), shard, ctx| {
                    let mut next = first.map(Some);
                    loop {
                        match next {
                            Ok(Some(event)) => {
                                if let Event::Stopped { .. } = event.event() {
                                    shard.locks.release_all(&Writer::agent(event.agent()));
                                }
                            }
                            Ok(None) => break,
                            // Some stops went unheard: ask the swarm which
                            // holders still run.
                            Err(EventError::Missed(_)) => {
                                if let Some(swarm) = shard.swarm.clone() {
                                    shard.locks.release_gone(|name| swarm.runs(name));
                                }
                                break;
                            }
                            Err(_) => return,
                        }
                        next = events.try_recv();
                    }
                    shard.listen(events, ctx);
                }),
        );
    }
}
