//! Snapshots and restores see every shard at one point: each shard is
//! frozen (its commits under way finished, new requests held) until the
//! caller has read, or written, what it needed, then released with the
//! key states the caller committed for it.

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, WrapFuture};
use agentix_runtime::AgentContext;
use tokio::sync::oneshot;

use super::{ChangeKind, Key, shard::StoreShard, slot::Slot};

/// Key states, as a shard hands them out and takes them back.
pub(crate) type States = Vec<(Key, Arc<Slot>)>;

/// What releases a frozen shard: the states to install (already
/// committed), and where to say they are installed, so that a restore
/// answers only once readers see it.
pub(crate) type Release = (States, oneshot::Sender<()>);

/// Asks a shard to freeze.
#[derive(Debug)]
pub(crate) struct Freeze {
    /// What to hand out: the states under this prefix (all for `None`).
    pub(crate) prefix: Option<Key>,
    pub(crate) reply: oneshot::Sender<States>,
    /// The states to install when released (already committed); a
    /// dropped sender releases with nothing to install.
    pub(crate) release: oneshot::Receiver<Release>,
}

impl StoreShard {
    pub(super) fn freeze(&mut self, freeze: Freeze, ctx: &mut AgentContext<Self>) {
        self.freezing = Some(freeze);
        // Freezes now, or when the commits under way are done.
        self.flush(ctx);
    }

    /// Nothing is staged or being committed: a waiting freeze happens.
    pub(super) fn frozen_if_waiting(&mut self, ctx: &mut AgentContext<Self>) {
        let Some(freeze) = self.freezing.take() else {
            return;
        };
        let states: States = self
            .under(freeze.prefix.as_ref())
            .map(|(key, slot)| (key.clone(), slot.clone()))
            .collect();
        if freeze.reply.send(states).is_err() {
            // The caller is gone: nothing to wait for.
            self.replay(ctx);
            return;
        }
        // Nothing else is handled until released.
        self.frozen = true;
        self.release = Some(Arc::new(tokio::sync::Mutex::new(freeze.release)));
        self.await_release(ctx);
    }

    /// Waits for the release of a frozen shard: again after a restart,
    /// since the restore that froze it is still committing.
    pub(super) fn await_release(&mut self, ctx: &mut AgentContext<Self>) {
        let Some(release) = self.release.clone() else {
            self.frozen = false;
            return;
        };
        let released = async move {
            let mut release = release.lock().await;
            (&mut *release).await
        };
        ctx.wait(released.into_actor(self).map(|installed, shard, ctx| {
            shard.frozen = false;
            shard.release = None;
            if let Ok((installed, done)) = installed {
                shard.install(installed, ctx);
                let _ = done.send(());
            }
            shard.replay(ctx);
        }));
    }

    /// Installs states committed by a restore.
    fn install(&mut self, installed: States, ctx: &mut AgentContext<Self>) {
        let states = installed.into_iter().map(|(key, slot)| {
            let kind = if slot.current.is_tombstone() {
                ChangeKind::Deleted
            } else {
                ChangeKind::Written
            };
            (key, slot, Some(kind))
        });
        self.settle(states, ctx);
    }

    /// Handles what arrived while freezing, in order, until one of them
    /// freezes the shard again.
    pub(super) fn replay(&mut self, ctx: &mut AgentContext<Self>) {
        while self.freezing.is_none() && !self.frozen {
            let Some(op) = self.held.pop_front() else {
                return;
            };
            self.op(op, ctx);
        }
    }
}
