//! Two agents on the embedded default swarm: a calculator that tells an
//! auditor about its work, and an auditor that asks the calculator to prove
//! itself. One handler panics; the next ask to the same address is answered
//! by a fresh incarnation.
//!
//! Run it with `cargo run --release --example quickstart`.

use std::future::Future;

use agentix::prelude::*;

/// Does arithmetic and tells the auditor about every result.
#[derive(Agent)]
#[agent(kind = "calculator")]
struct Calculator {
    auditor: AuditorRef,
    computed: u64,
}

#[derive(Debug)]
struct DivideByZero;

impl std::fmt::Display for DivideByZero {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot divide by zero")
    }
}

impl std::error::Error for DivideByZero {}

const PRIMES: [u64; 5] = [2, 3, 5, 7, 11];

#[handlers]
impl Calculator {
    /// Adds two numbers.
    #[handle]
    fn add(&mut self, a: i64, b: i64) -> i64 {
        self.audit(format!("{a} + {b} = {}", a + b));
        a + b
    }

    /// Divides, or says why it cannot.
    #[handle]
    fn divide(&mut self, a: i64, b: i64) -> Result<i64, DivideByZero> {
        let quotient = a.checked_div(b).ok_or(DivideByZero)?;
        self.audit(format!("{a} / {b} = {quotient}"));
        Ok(quotient)
    }

    /// The n-th prime from a table that is too short: a bug, and a panic.
    #[handle]
    fn nth_prime(&mut self, n: usize) -> u64 {
        PRIMES[n]
    }

    /// How many results this incarnation has computed.
    #[handle]
    fn computed(&mut self) -> u64 {
        self.computed
    }
}

impl Calculator {
    fn audit(&mut self, entry: String) {
        self.computed += 1;
        // A tell never waits; a full mailbox hands the entry back.
        if let Err(err) = self.auditor.tell(Record { entry }) {
            eprintln!("audit entry not recorded: {err}");
        }
    }
}

/// Keeps an audit trail, and can check the calculator's work.
#[derive(Agent, Default)]
struct Auditor {
    trail: Vec<String>,
}

#[handlers]
impl Auditor {
    /// Appends an entry to the trail.
    #[handle]
    fn record(&mut self, entry: String) {
        self.trail.push(entry);
    }

    /// The trail so far.
    #[handle]
    fn trail(&mut self) -> Vec<String> {
        self.trail.clone()
    }

    /// Asks the calculator a question whose answer it knows.
    #[handle]
    fn verify(
        &mut self,
        calculator: CalculatorRef,
    ) -> impl Future<Output = Result<bool, AskError>> + 'static {
        async move { Ok(calculator.add(2, 2).await? == 4) }
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default())?;
    println!("swarm started with {} arbiters", swarm.arbiters());

    let auditor = swarm.spawn("auditor", Auditor::default).await?;
    let for_calculator = auditor.clone();
    let calculator = swarm
        .spawn("calculator", move || Calculator {
            auditor: for_calculator.clone(),
            computed: 0,
        })
        .await?;

    println!("ask:   2 + 3 = {}", calculator.add(2, 3).await?);
    calculator.tell(Add { a: 40, b: 2 })?;
    match calculator.divide(1, 0).await {
        Err(AskError::Handler { error, .. }) => println!("ask:   1 / 0 -> {error}"),
        other => println!("ask:   1 / 0 -> unexpected {other:?}"),
    }
    println!("state: computed {} results", calculator.computed().await?);

    match calculator.nth_prime(9).await {
        Err(AskError::Panicked(failure)) => println!("panic: {failure}"),
        other => println!("panic: expected one, got {other:?}"),
    }
    println!(
        "after: the same address answers; computed {} results (fresh state), {} restart(s)",
        calculator.computed().await?,
        calculator.restarts()
    );

    println!(
        "ask between agents: auditor verified the calculator: {}",
        auditor.verify(calculator.clone()).await?
    );
    for entry in auditor.trail().await? {
        println!("trail: {entry}");
    }

    let report = swarm.shutdown().await?;
    println!(
        "shutdown: {} agents stopped, {} arbiter threads joined",
        report.stopped.len(),
        report.arbiters
    );
    Ok(())
}
