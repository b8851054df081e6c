//! A handler that awaits an ask to its own agent while holding the mailbox
//! fails at once with `AskError::OwnMailbox` instead of waiting for its
//! deadline (or forever); asking yourself where the mailbox is free works.

mod support;

use std::{future::Future, time::Duration};

use agentix::{AskError, actix::ActorFutureExt, prelude::*};
use support::{PROMPTLY, within};
use tokio::sync::oneshot;

#[derive(Agent, Default)]
struct Loner {
    answers: Vec<u32>,
}

#[handlers]
impl Loner {
    #[handle]
    fn ping(&mut self) -> u32 {
        42
    }

    #[handle]
    fn answers(&mut self) -> Vec<u32> {
        self.answers.clone()
    }

    /// Serial: awaits its own ask while holding the mailbox.
    #[handle]
    fn ask_self_serially(
        &mut self,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = Result<u32, String>> + 'static {
        let me = ctx.this();
        async move { me.ping().await.map_err(|err| format!("{err:?}")) }
    }

    /// Concurrent: the mailbox goes on while it awaits.
    #[handle(concurrent)]
    fn ask_self_concurrently(
        &mut self,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = Result<u32, String>> + 'static {
        let me = ctx.this();
        async move { me.ping().await.map_err(|err| format!("{err:?}")) }
    }

    /// Sync, blocking its thread on its own ask: would hang its arbiter.
    #[handle]
    fn block_on_self(&mut self, ctx: &mut AgentContext<Self>) -> String {
        let me = ctx.this();
        format!("{:?}", futures_util::FutureExt::now_or_never(me.ping()))
            + &format!("{:?}", block(me.ping()))
    }

    /// Sync, putting the wait for its own ask in `ctx.wait`: the mailbox is
    /// held until that future is done, so it could never be answered.
    #[handle]
    fn ask_self_in_wait(&mut self, ctx: &mut AgentContext<Self>, done: oneshot::Sender<String>) {
        let me = ctx.this();
        let wait = agentix::actix::fut::wrap_future::<_, Self>(async move { me.ping().await });
        ctx.wait(wait.map(move |answer, _: &mut Self, _| {
            let _ = done.send(format!("{answer:?}"));
        }));
    }

    /// Sync, sending the ask and spawning the wait: answered after it returns.
    #[handle]
    fn ask_self_later(&mut self, ctx: &mut AgentContext<Self>, done: oneshot::Sender<()>) {
        let me = ctx.this();
        let wait = agentix::actix::fut::wrap_future::<_, Self>(async move { me.ping().await });
        ctx.spawn(wait.map(move |answer, act: &mut Self, _| {
            act.answers.push(answer.unwrap_or_default());
            let _ = done.send(());
        }));
    }
}

/// Blocks the thread on `fut`, as careless sync code would.
fn block<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(1)).unwrap()
}

#[agentix::test]
async fn a_serial_handler_awaiting_its_own_ask_fails_at_once_not_at_the_deadline() {
    let swarm = swarm();
    let loner = swarm
        .agent(Loner::default)
        .name("loner")
        .ask_timeout(Duration::from_secs(3600))
        .spawn()
        .await
        .unwrap();
    let answer = within(PROMPTLY, "the serial self-ask", loner.ask_self_serially()).await;
    let err = answer.unwrap_err().into_handler_error().unwrap();
    assert!(err.contains("OwnMailbox"), "{err}");
    // The agent goes on: the skipped ping did not break it.
    assert_eq!(loner.ping().await.unwrap(), 42);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_sync_handler_blocking_on_its_own_ask_gets_an_error_instead_of_hanging_its_arbiter() {
    let swarm = swarm();
    let loner = swarm.spawn("loner", Loner::default).await.unwrap();
    let text = within(PROMPTLY, "the blocking self-ask", loner.block_on_self())
        .await
        .unwrap();
    assert!(text.contains("OwnMailbox"), "{text}");
    assert_eq!(loner.ping().await.unwrap(), 42);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_concurrent_handler_can_ask_its_own_agent() {
    let swarm = swarm();
    let loner = swarm.spawn("loner", Loner::default).await.unwrap();
    let answer = within(
        PROMPTLY,
        "the concurrent self-ask",
        loner.ask_self_concurrently(),
    )
    .await
    .unwrap();
    assert_eq!(answer, 42);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_own_ask_awaited_in_a_ctx_wait_future_fails_at_once() {
    let swarm = swarm();
    let loner = swarm
        .agent(Loner::default)
        .name("loner")
        .ask_timeout(Duration::from_secs(3600))
        .spawn()
        .await
        .unwrap();
    let (done, answered) = oneshot::channel();
    loner.tell(AskSelfInWait { done }).unwrap();
    let text = within(PROMPTLY, "the waited self-ask", answered)
        .await
        .unwrap();
    assert!(text.contains("OwnMailbox"), "{text}");
    assert_eq!(loner.ping().await.unwrap(), 42);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_sync_handler_can_ask_itself_and_await_the_reply_in_a_spawned_future() {
    let swarm = swarm();
    let loner = swarm.spawn("loner", Loner::default).await.unwrap();
    let (done, answered) = oneshot::channel();
    loner.ask_self_later(done).await.unwrap();
    within(PROMPTLY, "the later answer", answered)
        .await
        .unwrap();
    assert_eq!(loner.answers().await.unwrap(), [42]);
    swarm.shutdown().await.unwrap();
}

#[test]
fn own_mailbox_names_the_agent_and_says_what_to_do() {
    let err: AskError = AskError::OwnMailbox {
        agent: agentix::AgentName::new("loner").unwrap(),
    };
    assert_eq!(err.agent().as_str(), "loner");
    assert!(err.to_string().contains("concurrent handler"));
}
