//! A shard's inbox: requests go into a bounded queue shared with the
//! shard, and only the request that finds the shard not yet told rings it
//! (one message), so a burst of writes costs the shard one wake, not one
//! message each. A full inbox falls back on the shard's mailbox, which
//! makes the writer wait for room.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};

use actix::{AsyncContext, Handler};
use agentix_runtime::{AgentContext, AgentRef, TURN_SLICE};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::{
    StoreError,
    shard::{Op, StoreShard},
};

/// Requests a shard handles per ring at most, before it lets its
/// neighbours on the arbiter run, ringing itself again for the rest; it
/// also stops once its handling has taken about a turn slice.
const PER_RING: usize = 256;

/// How many requests go between two looks at the clock.
const CLOCK_EVERY: usize = 16;

/// The most requests an inbox holds; more wait in the shard's mailbox.
pub(crate) const INBOX_CAPACITY: usize = 1024;

#[derive(Debug)]
pub(crate) struct Inbox {
    sender: Sender<Op>,
    receiver: Receiver<Op>,
    /// Whether the shard has been told of what is in the queue.
    rung: AtomicBool,
}

impl Inbox {
    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, receiver) = bounded(capacity.clamp(1, INBOX_CAPACITY));
        Self {
            sender,
            receiver,
            rung: AtomicBool::new(false),
        }
    }

    /// Hands `op` to `shard`, ringing it when it was not rung yet.
    pub(crate) async fn post(
        &self,
        shard: &AgentRef<StoreShard>,
        op: Op,
        unavailable: impl Fn(bool) -> StoreError,
    ) -> Result<(), StoreError> {
        match self.sender.try_send(op) {
            Ok(()) => {
                if self.rung.swap(true, Ordering::AcqRel) {
                    return Ok(());
                }
                if let Err(error) = shard.tell_wait(Doorbell).await {
                    // Whoever posts next rings again.
                    self.rung.store(false, Ordering::Release);
                    return Err(unavailable(error.is_closed()));
                }
                Ok(())
            }
            Err(TrySendError::Full(op) | TrySendError::Disconnected(op)) => shard
                .tell_wait(op)
                .await
                .map_err(|error| unavailable(error.is_closed())),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.receiver.is_empty()
    }
}

/// Tells a shard its inbox has requests.
#[derive(Debug)]
pub(crate) struct Doorbell;

impl actix::Message for Doorbell {
    type Result = ();
}

impl Handler<Doorbell> for StoreShard {
    type Result = ();

    fn handle(&mut self, _: Doorbell, ctx: &mut AgentContext<Self>) {
        self.drain_inbox(ctx);
    }
}

impl StoreShard {
    pub(super) fn drain_inbox(&mut self, ctx: &mut AgentContext<Self>) {
        let shared = self.shared.clone();
        let inbox = &shared.inboxes[self.shard];
        // Cleared before taking, so a request posted after the last take
        // rings again.
        inbox.rung.store(false, Ordering::Release);
        self.clock = None;
        let started = Instant::now();
        for taken in 1..=PER_RING {
            match inbox.receiver.try_recv() {
                Ok(op) => self.op(op, ctx),
                Err(_) => return,
            }
            if taken % CLOCK_EVERY == 0 && started.elapsed() >= TURN_SLICE {
                break;
            }
        }
        if !inbox.is_empty() && !inbox.rung.swap(true, Ordering::AcqRel) {
            ctx.notify(Doorbell);
        }
    }
}
