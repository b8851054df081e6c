//! Drops that panic (a message's, a panic payload's) and dead-letter sinks
//! that panic are each their own panic boundary: the drain of a stopped
//! agent's mailbox goes on, every letter reaches the sink, and a handler's
//! panic still reaches its caller typed.

mod support;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
};

use agentix::{AskError, DeadLetter, DeadLetterSink, prelude::*};
use parking_lot::Mutex;
use support::{PROMPTLY, within};
use tokio::sync::oneshot;

/// Panics when dropped while armed, as a careless `Drop` impl would.
struct Bomb {
    id: u32,
    armed: bool,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.armed {
            panic!("bomb {} went off in Drop", self.id);
        }
    }
}

#[derive(Agent, Default)]
struct Holder;

#[handlers]
impl Holder {
    /// Holds the mailbox until `gate` fires (or is dropped).
    #[handle]
    fn hold(
        &mut self,
        entered: oneshot::Sender<()>,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = ()> + 'static {
        let _ = entered.send(());
        async move {
            let _ = gate.await;
        }
    }

    #[handle]
    fn carry(&mut self, bomb: Bomb) {
        let mut bomb = bomb;
        bomb.armed = false;
    }

    #[handle]
    fn throw(&mut self, id: u32) {
        std::panic::panic_any(Bomb { id, armed: true });
    }
}

/// Records the id of each letter, then lets it go, like a logging sink;
/// `fail` makes it panic on every letter after recording it.
#[derive(Default)]
struct Recorder {
    ids: Mutex<Vec<u32>>,
    fail: bool,
    calls: AtomicU32,
}

impl DeadLetterSink for Recorder {
    fn dead_letter(&self, letter: DeadLetter) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(carry) = letter.payload().downcast_ref::<Carry>() {
            self.ids.lock().push(carry.bomb.id);
        }
        if self.fail {
            panic!("the sink fails");
        }
        // `letter` drops here: an armed bomb goes off inside the sink.
    }
}

async fn queue_three_and_stop(sink: Arc<Recorder>, armed: bool) -> Vec<u32> {
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(1)
            .dead_letters(sink.clone()),
    )
    .unwrap();
    let holder = swarm.spawn("holder", Holder::default).await.unwrap();
    let (open, gate) = oneshot::channel();
    let (entered, holding) = oneshot::channel();
    holder.tell(Hold { entered, gate }).unwrap();
    within(PROMPTLY, "the holder to hold", holding)
        .await
        .unwrap();
    for id in 1..=3 {
        holder
            .tell(Carry {
                bomb: Bomb { id, armed },
            })
            .unwrap();
    }
    holder.stop();
    // The stop lets the holding handler finish; the carried bombs queued
    // behind it are never handled.
    drop(open);
    within(PROMPTLY, "the holder to stop", holder.stopped()).await;
    swarm.shutdown().await.unwrap();
    sink.ids.lock().clone()
}

#[agentix::test]
async fn a_message_whose_drop_panics_does_not_stop_the_drain_every_queued_message_is_dead_lettered()
{
    let sink = Arc::new(Recorder::default());
    let ids = queue_three_and_stop(sink.clone(), true).await;
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(sink.calls.load(Ordering::SeqCst), 3);
}

#[agentix::test]
async fn a_dead_letter_sink_that_panics_still_gets_every_letter_after_it() {
    let sink = Arc::new(Recorder {
        fail: true,
        ..Recorder::default()
    });
    // Unarmed: a sink that panics while it holds a message whose `Drop`
    // panics too is a double panic, which aborts any Rust program.
    let ids = queue_three_and_stop(sink.clone(), false).await;
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(sink.calls.load(Ordering::SeqCst), 3);
}

#[agentix::test]
async fn a_panic_payload_whose_drop_panics_still_reaches_the_caller_as_panicked() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let holder = swarm.spawn("holder", Holder::default).await.unwrap();
    match holder.throw(9).await {
        Err(AskError::Panicked(failure)) => {
            assert_eq!(failure.agent().as_str(), "holder");
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    swarm.shutdown().await.unwrap();
}
