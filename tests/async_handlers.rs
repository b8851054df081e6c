//! Async handlers are serial by default: no other message of the agent runs
//! until the handler's future completes. `#[handle(concurrent)]` opts out.

mod support;

use std::{future::Future, time::Duration};

use agentix::prelude::*;
use support::{PROMPTLY, within};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Worker {
    log: Vec<&'static str>,
}

#[handlers]
impl Worker {
    /// Waits for `gate`, holding the mailbox.
    #[handle]
    fn serial_wait(&mut self, gate: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }

    /// Waits for `gate` while other messages are handled.
    #[handle(concurrent)]
    fn concurrent_wait(
        &mut self,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = &'static str> + 'static {
        async move {
            let _ = gate.await;
            "released"
        }
    }

    #[handle]
    fn note(&mut self, entry: &'static str) -> Vec<&'static str> {
        self.log.push(entry);
        self.log.clone()
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(1)).unwrap()
}

#[agentix::test]
async fn an_async_handler_holds_the_mailbox_until_its_future_completes() {
    let swarm = swarm();
    let worker = swarm.spawn("worker", Worker::default).await.unwrap();
    let (open, gate) = oneshot::channel();
    worker.tell(SerialWait { gate }).unwrap();
    let blocked = worker
        .note("while waiting")
        .timeout(Duration::from_millis(30))
        .await;
    assert!(
        blocked.unwrap_err().is_timeout(),
        "a message ran during the serial handler"
    );
    open.send(()).unwrap();
    assert_eq!(worker.note("after").await.unwrap(), vec!["after"]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_concurrent_async_handler_lets_other_messages_run_meanwhile() {
    let swarm = swarm();
    let worker = swarm.spawn("worker", Worker::default).await.unwrap();
    let (open, gate) = oneshot::channel();
    let waiting = worker.concurrent_wait(gate);
    let (released, ()) = tokio::join!(waiting, async {
        assert_eq!(
            within(
                PROMPTLY,
                "a message during the wait",
                worker.note("meanwhile")
            )
            .await
            .unwrap(),
            vec!["meanwhile"]
        );
        open.send(()).unwrap();
    });
    assert_eq!(released.unwrap(), "released");
    swarm.shutdown().await.unwrap();
}
