//! A stop lets the message being handled finish, async handlers included:
//! their callers get the reply, the exit is a clean shutdown, and messages
//! queued behind are dead letters. A handler still awaiting when the
//! agent's shutdown timeout runs out is abandoned, and the exit says so.

mod support;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use agentix::{AskError, prelude::*};
use support::{DeadLetterProbe, PROMPTLY, within};
use tokio::sync::oneshot;

/// Awaits a gate, then records that it ran to the end; records its
/// `stopped` hook too.
#[derive(Agent, Default)]
#[agent(lifecycle)]
struct Slow {
    done: Arc<AtomicBool>,
    hooked: Arc<AtomicBool>,
}

impl Lifecycle for Slow {
    fn stopped(&mut self, _: &mut AgentContext<Self>) {
        self.hooked.store(true, Ordering::SeqCst);
    }
}

#[handlers]
impl Slow {
    #[handle]
    fn serial(
        &mut self,
        entered: oneshot::Sender<()>,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = u32> + 'static {
        let done = self.done.clone();
        async move {
            let _ = entered.send(());
            let _ = gate.await;
            done.store(true, Ordering::SeqCst);
            7
        }
    }

    #[handle(concurrent)]
    fn concurrent(
        &mut self,
        entered: oneshot::Sender<()>,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = u32> + 'static {
        let done = self.done.clone();
        async move {
            let _ = entered.send(());
            let _ = gate.await;
            done.store(true, Ordering::SeqCst);
            8
        }
    }

    #[handle]
    fn ping(&mut self) -> u32 {
        1
    }
}

/// Waits until `agent` is stopping: asked to stop, still finishing.
async fn until_stopping(agent: &AgentRef<Slow>) {
    let stopping =
        agentix::testkit::eventually(PROMPTLY, async || agent.status() == AgentStatus::Stopping)
            .await;
    assert!(stopping, "the agent never started stopping");
}

fn swarm(shutdown_timeout: Duration, probe: &Arc<DeadLetterProbe>) -> Swarm {
    Swarm::start(
        SwarmConfig::default()
            .arbiters(1)
            .shutdown_timeout(shutdown_timeout)
            .dead_letters(probe.clone()),
    )
    .unwrap()
}

#[agentix::test]
async fn stop_lets_a_serial_async_handler_finish_and_its_caller_gets_the_reply() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm(PROMPTLY, &probe);
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let slow = swarm
        .spawn("slow", move || Slow {
            done: flag.clone(),
            ..Slow::default()
        })
        .await
        .unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let asker = slow.clone();
    let reply = tokio::spawn(async move { asker.serial(entered_tx, gate).await });
    within(PROMPTLY, "the handler to start", entered)
        .await
        .unwrap();
    slow.tell(Ping).unwrap();
    slow.stop();
    // Stopping, not stopped: the handler still awaits its gate.
    until_stopping(&slow).await;
    assert!(!done.load(Ordering::SeqCst));
    open.send(()).unwrap();
    assert_eq!(
        within(PROMPTLY, "the reply", reply).await.unwrap().unwrap(),
        7
    );
    assert!(done.load(Ordering::SeqCst), "the handler ran to its end");
    assert_eq!(
        within(PROMPTLY, "the end", slow.stopped()).await,
        ExitReason::Shutdown
    );
    // The message queued behind the handler was not handled after the stop.
    let letters = probe.wait_for(1).await;
    assert_eq!(letters.len(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn stop_lets_a_concurrent_async_handler_finish_too() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm(PROMPTLY, &probe);
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let slow = swarm
        .spawn("slow", move || Slow {
            done: flag.clone(),
            ..Slow::default()
        })
        .await
        .unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let asker = slow.clone();
    let reply = tokio::spawn(async move { asker.concurrent(entered_tx, gate).await });
    within(PROMPTLY, "the handler to start", entered)
        .await
        .unwrap();
    slow.stop();
    until_stopping(&slow).await;
    assert!(!done.load(Ordering::SeqCst));
    open.send(()).unwrap();
    assert_eq!(
        within(PROMPTLY, "the reply", reply).await.unwrap().unwrap(),
        8
    );
    assert!(done.load(Ordering::SeqCst), "the handler ran to its end");
    assert_eq!(
        within(PROMPTLY, "the end", slow.stopped()).await,
        ExitReason::Shutdown
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_handler_still_awaiting_at_the_shutdown_timeout_is_abandoned_and_the_exit_is_killed() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm(Duration::from_millis(50), &probe);
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let hooked = Arc::new(AtomicBool::new(false));
    let hook = hooked.clone();
    let slow = swarm
        .spawn("slow", move || Slow {
            done: flag.clone(),
            hooked: hook.clone(),
        })
        .await
        .unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (_never_opened, gate) = oneshot::channel();
    let asker = slow.clone();
    let reply = tokio::spawn(async move { asker.serial(entered_tx, gate).await });
    within(PROMPTLY, "the handler to start", entered)
        .await
        .unwrap();
    slow.stop();
    assert_eq!(
        within(PROMPTLY, "the end", slow.stopped()).await,
        ExitReason::Killed
    );
    assert!(matches!(
        within(PROMPTLY, "the reply", reply).await.unwrap(),
        Err(AskError::Closed { .. })
    ));
    assert!(!done.load(Ordering::SeqCst));
    assert!(hooked.load(Ordering::SeqCst), "the stopping hooks ran");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn swarm_shutdown_waits_for_an_async_handler_and_reports_one_that_never_finishes_as_forced() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm(Duration::from_millis(50), &probe);
    let finishing = swarm.spawn("finishing", Slow::default).await.unwrap();
    let hanging = swarm.spawn("hanging", Slow::default).await.unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let asker = finishing.clone();
    let finished = tokio::spawn(async move { asker.concurrent(entered_tx, gate).await });
    within(PROMPTLY, "the first handler to start", entered)
        .await
        .unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (_never_opened, never) = oneshot::channel();
    let asker = hanging.clone();
    let abandoned = tokio::spawn(async move { asker.serial(entered_tx, never).await });
    within(PROMPTLY, "the second handler to start", entered)
        .await
        .unwrap();
    // Opened once the shutdown is under way: it waits for the handler.
    let stopping = finishing.clone();
    let opener = tokio::task::spawn_local(async move {
        until_stopping(&stopping).await;
        open.send(()).unwrap();
    });
    let report = within(PROMPTLY, "the shutdown", swarm.shutdown())
        .await
        .unwrap();
    opener.await.unwrap();
    assert_eq!(finished.await.unwrap().unwrap(), 8);
    assert!(matches!(
        abandoned.await.unwrap(),
        Err(AskError::Closed { .. })
    ));
    let forced: Vec<_> = report.forced.iter().map(|name| name.as_str()).collect();
    assert_eq!(forced, ["hanging"]);
    assert!(
        report
            .stopped
            .iter()
            .any(|name| name.as_str() == "finishing")
    );
    assert_eq!(hanging.stopped().await, ExitReason::Killed);
}

#[agentix::test]
async fn a_supervised_child_gets_its_own_shutdown_timeout_to_finish_an_async_handler() {
    let probe = DeadLetterProbe::new();
    let swarm = swarm(PROMPTLY, &probe);
    let hooked = Arc::new(AtomicBool::new(false));
    let hook = hooked.clone();
    let slow = move || Slow {
        hooked: hook.clone(),
        ..Slow::default()
    };
    let root = swarm
        .supervisor("root")
        .child(ChildSpec::new("slow", slow).shutdown_timeout(Duration::from_millis(50)))
        .start()
        .await
        .unwrap();
    let slow = root.child::<Slow>("slow").unwrap();
    let (entered_tx, entered) = oneshot::channel();
    let (_never_opened, gate) = oneshot::channel();
    let asker = slow.clone();
    let abandoned = tokio::spawn(async move { asker.serial(entered_tx, gate).await });
    within(PROMPTLY, "the handler to start", entered)
        .await
        .unwrap();
    let report = within(PROMPTLY, "the tree's shutdown", root.shutdown()).await;
    let forced: Vec<_> = report.forced.iter().map(|name| name.as_str()).collect();
    assert_eq!(forced, ["slow"]);
    assert_eq!(slow.stopped().await, ExitReason::Killed);
    assert!(
        hooked.load(Ordering::SeqCst),
        "a forced stop runs the hooks"
    );
    assert!(matches!(
        abandoned.await.unwrap(),
        Err(AskError::Closed { .. })
    ));
    swarm.shutdown().await.unwrap();
}
