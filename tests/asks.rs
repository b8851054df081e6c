//! Asks: typed replies, handler errors reaching the caller typed, and a
//! deadline on every ask, so a lost request is an error and never a hang.

mod support;

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
    time::Duration,
};

use agentix::{DeadLetterReason, prelude::*};
use support::DeadLetterProbe;
use tokio::sync::oneshot;

#[derive(Debug, PartialEq, Eq)]
enum LedgerError {
    Overdraft { missing: u64 },
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Overdraft { missing } => write!(f, "overdraft by {missing}"),
        }
    }
}

impl std::error::Error for LedgerError {}

#[derive(Agent, Default)]
#[agent(ask_timeout_ms = 50)]
struct Ledger {
    balance: u64,
    entries: Vec<u64>,
}

#[handlers]
impl Ledger {
    #[handle]
    fn withdraw(&mut self, amount: u64) -> Result<u64, LedgerError> {
        let missing = amount.saturating_sub(self.balance);
        if missing > 0 {
            return Err(LedgerError::Overdraft { missing });
        }
        self.balance -= amount;
        Ok(self.balance)
    }

    #[handle]
    fn deposit(&mut self, amount: u64) -> u64 {
        self.entries.push(amount);
        self.balance += amount;
        self.balance
    }

    #[handle]
    fn entries(&mut self) -> Vec<u64> {
        self.entries.clone()
    }

    /// Holds the mailbox until the gate opens (or is dropped).
    #[handle]
    fn hold(&mut self, gate: oneshot::Receiver<()>) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }
}

/// A message with a hand-written handler, next to the generated ones.
struct Audit;

impl agentix::actix::Message for Audit {
    type Result = (u64, usize);
}

impl agentix::actix::Handler<Audit> for Ledger {
    type Result = agentix::actix::MessageResult<Audit>;

    fn handle(&mut self, _: Audit, _: &mut AgentContext<Self>) -> Self::Result {
        agentix::actix::MessageResult((self.balance, self.entries.len()))
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

#[agentix::test]
async fn a_handler_error_reaches_the_caller_typed_and_the_agent_keeps_running() {
    let swarm = swarm();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    ledger.deposit(10).await.unwrap();
    assert_eq!(ledger.withdraw(4).await.unwrap(), 6);
    let err = ledger.withdraw(9).await.unwrap_err();
    assert!(err.to_string().contains("overdraft by 3"), "{err}");
    assert_eq!(
        err.into_handler_error(),
        Some(LedgerError::Overdraft { missing: 3 })
    );
    assert_eq!(ledger.restarts(), 0, "an error is an answer, not a failure");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_stuck_agent_cannot_hang_its_caller_the_ask_times_out() {
    let swarm = swarm();
    let ledger = swarm.spawn("stuck-ledger", Ledger::default).await.unwrap();
    let (open, gate) = oneshot::channel();
    ledger.tell(Hold { gate }).unwrap();
    let err = ledger.deposit(1).await.unwrap_err();
    let AskError::Timeout { agent, after } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(agent.as_str(), "stuck-ledger");
    assert_eq!(
        *after,
        Duration::from_millis(50),
        "the agent's default deadline"
    );
    assert!(err.to_string().contains("no reply within 50ms"), "{err}");
    // A stop lets the hold finish: open it, or the shutdown waits it out.
    drop(open);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_explicit_timeout_overrides_the_default_deadline() {
    let swarm = swarm();
    let ledger = swarm
        .agent(Ledger::default)
        .ask_timeout(Duration::from_secs(60));
    let ledger = ledger.spawn().await.unwrap();
    let (open, gate) = oneshot::channel();
    ledger.tell(Hold { gate }).unwrap();
    let err = ledger
        .deposit(1)
        .timeout(Duration::from_millis(20))
        .await
        .unwrap_err();
    assert!(matches!(err, AskError::Timeout { after, .. } if after == Duration::from_millis(20)));
    drop(open);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_ask_whose_caller_gave_up_is_skipped_and_dead_lettered() {
    let probe = DeadLetterProbe::new();
    let swarm = Swarm::start(
        SwarmConfig::default()
            .arbiters(1)
            .dead_letters(probe.clone()),
    )
    .unwrap();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    let (open, gate) = oneshot::channel();
    ledger.tell(Hold { gate }).unwrap();
    assert!(
        ledger
            .deposit(7)
            .timeout(Duration::from_millis(10))
            .await
            .unwrap_err()
            .is_timeout()
    );
    open.send(()).unwrap();
    assert!(
        ledger.entries().await.unwrap().is_empty(),
        "the abandoned deposit was not applied"
    );
    let letters = probe.wait_for(1).await;
    assert_eq!(letters[0].reason(), DeadLetterReason::RequesterGone);
    assert!(letters[0].message_type().ends_with("Deposit"));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn an_ask_to_an_agent_that_stopped_fails_closed() {
    let swarm = swarm();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    ledger.stop();
    ledger.stopped().await;
    let err = ledger.deposit(1).await.unwrap_err();
    assert!(
        matches!(&err, AskError::Closed { agent } if agent.as_str() == "ledger"),
        "{err:?}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn hand_written_handlers_work_next_to_generated_ones() {
    let swarm = swarm();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    ledger.deposit(5).await.unwrap();
    ledger.tell(Audit).unwrap();
    assert_eq!(ledger.call(Audit).await.unwrap(), (5, 1));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn ask_errors_convert_into_the_crate_error_with_question_mark() {
    async fn overdraw(ledger: &LedgerRef) -> agentix::Result<u64> {
        Ok(ledger.withdraw(1).await?)
    }
    let swarm = swarm();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    let err = overdraw(&ledger).await.unwrap_err();
    let source = std::error::Error::source(&err).expect("the handler error is the source");
    assert_eq!(source.to_string(), "overdraft by 1");
    swarm.shutdown().await.unwrap();
}

/// Forwards deposits to another agent: an ask from inside an agent.
#[derive(Agent, Default)]
struct Teller;

#[handlers]
impl Teller {
    #[handle]
    fn forward(
        &mut self,
        ledger: LedgerRef,
        amount: u64,
    ) -> impl Future<Output = Result<u64, AskError>> + 'static {
        async move { ledger.deposit(amount).await }
    }
}

#[agentix::test]
async fn an_agent_can_ask_another_agent_on_another_arbiter() {
    let swarm = swarm();
    let ledger = swarm
        .agent(Ledger::default)
        .on_arbiter(0)
        .spawn()
        .await
        .unwrap();
    let teller = swarm
        .agent(Teller::default)
        .on_arbiter(1)
        .spawn()
        .await
        .unwrap();
    // The forwarded ask's own error would arrive as the handler error.
    assert_eq!(teller.forward(ledger.clone(), 3).await.unwrap(), 3);
    assert_eq!(teller.forward(ledger.clone(), 4).await.unwrap(), 7);
    swarm.shutdown().await.unwrap();
}

/// Polls a future on the current thread, outside any runtime.
fn block_on_plain_thread<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[agentix::test]
async fn an_ask_from_a_thread_without_a_runtime_fails_instead_of_hanging() {
    let swarm = swarm();
    let ledger = swarm.spawn("ledger", Ledger::default).await.unwrap();
    // Held, so no reply can arrive: only a deadline could end the wait.
    let (open, gate) = oneshot::channel();
    ledger.tell(Hold { gate }).unwrap();
    let from_plain_thread = ledger.clone();
    let outcome = std::thread::spawn(move || block_on_plain_thread(from_plain_thread.deposit(1)))
        .join()
        .unwrap();
    assert!(
        matches!(outcome, Err(AskError::NoTimer { .. })),
        "{outcome:?}"
    );
    open.send(()).unwrap();
    swarm.shutdown().await.unwrap();
}
