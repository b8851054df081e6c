//! Tells: a bounded mailbox, a full or closed mailbox handing the message
//! back, a waiting tell with a deadline, and order per sender.

mod support;

use std::{future::Future, time::Duration};

use agentix::{SendErrorKind, prelude::*};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Sink {
    seen: Vec<u32>,
}

#[handlers]
impl Sink {
    #[handle]
    fn put(&mut self, n: u32) {
        self.seen.push(n);
    }

    #[handle]
    fn seen(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.seen)
    }

    /// Holds the mailbox until the gate opens (or is dropped).
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
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(1)).unwrap()
}

/// Spawns a sink with a mailbox of `capacity` that is holding its mailbox.
async fn held_sink(swarm: &Swarm, capacity: usize) -> (SinkRef, oneshot::Sender<()>) {
    let sink = swarm.agent(Sink::default).name("sink").mailbox(capacity);
    let sink = sink.spawn().await.unwrap();
    let (open, gate) = oneshot::channel();
    let (entered, holding) = oneshot::channel();
    sink.tell(Hold { entered, gate }).unwrap();
    // Being handled: its slot in the mailbox is free again.
    support::within(support::PROMPTLY, "the hold to start", holding)
        .await
        .unwrap();
    (sink, open)
}

#[agentix::test]
async fn a_tell_to_a_full_mailbox_hands_the_message_back() {
    let swarm = swarm();
    let (sink, open) = held_sink(&swarm, 4).await;
    let mut accepted = 0;
    let err = loop {
        match sink.tell(Put { n: accepted }) {
            Ok(()) => accepted += 1,
            Err(err) => break err,
        }
        assert!(accepted <= 4, "the mailbox bound was ignored");
    };
    assert_eq!(accepted, 4, "one sender fills exactly the capacity");
    assert_eq!(err.kind(), SendErrorKind::Full);
    assert_eq!(err.agent().as_str(), "sink");
    assert!(err.to_string().contains("full"), "{err}");
    assert_eq!(err.into_inner().n, 4, "the refused message is handed back");

    open.send(()).unwrap();
    assert_eq!(sink.seen().await.unwrap(), vec![0, 1, 2, 3]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_tell_to_a_stopped_agent_hands_the_message_back_as_closed() {
    let swarm = swarm();
    let sink = swarm.spawn("sink", Sink::default).await.unwrap();
    sink.stop();
    sink.stopped().await;
    let err = sink.tell(Put { n: 9 }).unwrap_err();
    assert!(err.is_closed());
    assert_eq!(err.into_inner().n, 9);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_waiting_tell_gets_the_slot_of_a_message_that_then_holds_the_mailbox() {
    let swarm = swarm();
    let (sink, open_first) = held_sink(&swarm, 1).await;
    let (open_second, gate) = oneshot::channel();
    let (entered, holding) = oneshot::channel();
    sink.tell(Hold { entered, gate }).unwrap();
    // A task of its own, polled again only when woken: the wake is what
    // is tested, not a retry.
    // The bound is per sender (actix's channel): the reference that filled
    // the mailbox is the one that waits.
    let (went_in, gone_in) = oneshot::channel();
    let reader = sink.clone();
    tokio::task::spawn_local(async move {
        let sent = sink.tell_wait(Put { n: 7 }).await;
        let _ = went_in.send(sent.is_ok());
    });
    // Let it try once: the mailbox of one is full, so it waits.
    tokio::task::yield_now().await;
    open_first.send(()).unwrap();
    // The second hold is taken out (its slot is free) and holds the
    // mailbox: the waiting tell goes in without waiting for it to end.
    support::within(support::PROMPTLY, "the second hold to start", holding)
        .await
        .unwrap();
    let went_in = support::within(support::PROMPTLY, "the waiting tell", gone_in).await;
    assert_eq!(went_in, Ok(true));
    open_second.send(()).unwrap();
    assert_eq!(reader.seen().await.unwrap(), vec![7]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_waiting_tell_gets_room_once_the_agent_catches_up() {
    let swarm = swarm();
    let (sink, open) = held_sink(&swarm, 1).await;
    sink.tell(Put { n: 1 }).unwrap();
    assert!(sink.tell(Put { n: 2 }).unwrap_err().is_full());
    let (sent, ()) = tokio::join!(sink.tell_wait(Put { n: 2 }), async {
        open.send(()).unwrap();
    });
    sent.unwrap();
    assert_eq!(sink.seen().await.unwrap(), vec![1, 2]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_waiting_tell_times_out_and_hands_the_message_back() {
    let swarm = swarm();
    let (sink, open) = held_sink(&swarm, 1).await;
    sink.tell(Put { n: 1 }).unwrap();
    let err = sink
        .tell_wait(Put { n: 2 })
        .timeout(Duration::from_millis(20))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::Timeout);
    assert!(err.to_string().contains("stayed full for 20ms"), "{err}");
    assert_eq!(err.into_inner().n, 2);
    drop(open);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_waiting_tell_to_an_agent_that_stops_hands_the_message_back() {
    let swarm = swarm();
    let (sink, open) = held_sink(&swarm, 1).await;
    sink.tell(Put { n: 1 }).unwrap();
    // The stop lets the hold finish; nothing queued is handled after it.
    let (sent, ()) = tokio::join!(sink.tell_wait(Put { n: 2 }), async {
        sink.stop();
        drop(open);
    });
    let err = sent.unwrap_err();
    assert!(err.is_closed(), "{err:?}");
    assert_eq!(err.into_inner().n, 2);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn tells_from_one_sender_are_handled_in_order_across_a_small_mailbox() {
    let swarm = swarm();
    let sink = swarm.agent(Sink::default).mailbox(8).spawn().await.unwrap();
    for n in 0..2_000 {
        sink.tell_wait(Put { n }).await.unwrap();
    }
    assert_eq!(sink.seen().await.unwrap(), (0..2_000).collect::<Vec<_>>());
    swarm.shutdown().await.unwrap();
}
