//! A three-level supervision tree recovering from failures.
//!
//! `root` supervises a `pipeline` (rest-for-one: ingest → parse → store) and
//! a `flaky` team (one-for-all, intensity 2 per 10 s). Pipeline stages panic
//! now and then (a seeded generator, so every run is the same); the tree is
//! printed with restart counts as it recovers. The flaky team fails three
//! times in a row: one more than its intensity, so it escalates to `root`,
//! which restarts the whole branch in place.
//!
//! Run it with `cargo run --release --example supervision`.

use std::{cell::Cell, time::Duration};

use agentix::{Event, prelude::*};

/// A pipeline stage: handles items, panics on a bad one.
#[derive(Agent)]
#[agent(restart = "permanent")]
struct Stage {
    handled: u64,
}

#[handlers]
impl Stage {
    /// Processes one item; an item divisible by 13 is "corrupt".
    #[handle]
    fn process(&mut self, item: u64) -> u64 {
        assert!(!item.is_multiple_of(13), "corrupt item {item}");
        self.handled += 1;
        self.handled
    }
}

/// A team member that fails whenever asked to try.
#[derive(Agent, Default)]
#[agent(restart = "permanent")]
struct Flaky;

#[handlers]
impl Flaky {
    #[handle]
    fn attempt(&mut self) {
        panic!("flaky dependency timed out")
    }
}

fn stage() -> Stage {
    Stage { handled: 0 }
}

/// Prints a supervisor's children, and theirs, with status and restarts.
fn print_tree(supervisor: &SupervisorRef, depth: usize) {
    let pad = "  ".repeat(depth);
    println!(
        "{pad}{} (restarts {})",
        supervisor.name(),
        supervisor.restarts()
    );
    for child in supervisor.children() {
        match supervisor.supervisor(child.id.as_str()) {
            Some(nested) => print_tree(&nested, depth + 1),
            None => println!(
                "{pad}  {} {:?} (restarts {})",
                child.id, child.status, child.restarts
            ),
        }
    }
}

thread_local!(static SEED: Cell<u64> = const { Cell::new(0x2545_f491_4f6c_dd1d) });

/// A tiny xorshift generator: the same items on every run.
fn next_item() -> u64 {
    SEED.with(|seed| {
        let mut x = seed.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seed.set(x);
        x % 1000
    })
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default())?;
    let pipeline = SupervisorSpec::new("pipeline")
        .strategy(Strategy::RestForOne)
        .intensity(Intensity::new(20, Duration::from_secs(10)))
        .child(ChildSpec::new("ingest", stage))
        .child(ChildSpec::new("parse", stage).depends_on(["ingest"]))
        .child(ChildSpec::new("store", stage).depends_on(["parse"]));
    let flaky = SupervisorSpec::new("flaky")
        .strategy(Strategy::OneForAll)
        .intensity(Intensity::new(2, Duration::from_secs(10)))
        .backoff(Backoff::exponential(
            Duration::from_millis(5),
            Duration::from_millis(50),
        ))
        .child(ChildSpec::new("worker-1", Flaky::default))
        .child(ChildSpec::new("worker-2", Flaky::default));
    let root = swarm
        .supervisor("root")
        .intensity(Intensity::new(5, Duration::from_secs(10)))
        .supervisor(pipeline)
        .supervisor(flaky)
        .start()
        .await?;
    println!("== started");
    print_tree(&root, 0);

    let pipeline = root
        .supervisor("pipeline")
        .expect("pipeline is a supervisor");
    let stages: Vec<StageRef> = ["ingest", "parse", "store"]
        .iter()
        .filter_map(|id| pipeline.child::<Stage>(id))
        .collect();
    let mut failures = 0;
    for _ in 0..300 {
        let item = next_item();
        for stage in &stages {
            if let Err(AskError::Panicked(_)) = stage.process(item).await {
                failures += 1;
            }
        }
    }
    println!("\n== after 300 items through the pipeline ({failures} panics, all recovered)");
    print_tree(&root, 0);

    let mut events = swarm.events();
    let flaky = root.supervisor("flaky").expect("flaky is a supervisor");
    let worker = flaky
        .child::<Flaky>("worker-1")
        .expect("worker-1 is a Flaky");
    for _ in 0..3 {
        // The caller of each failing attempt gets the panic, typed.
        let failure = worker.attempt().await.unwrap_err();
        println!("worker-1: {failure}");
        // Then worker-1 starts again at the same address: after its team's
        // one-for-all restart, or, the third time, after the escalation.
        loop {
            let event = events.recv().await.expect("lifecycle events");
            let agent = event.agent().as_str();
            let escalation = matches!(
                event.event(),
                Event::Escalated { .. } | Event::Restarted { .. }
            );
            if agent == "flaky" && escalation {
                println!("event: {event}");
            }
            if agent == "worker-1" && matches!(event.event(), Event::Started) {
                break;
            }
        }
    }
    println!("\n== after `flaky` exceeded its intensity and escalated to `root`");
    print_tree(&root, 0);

    let report = swarm.shutdown().await?;
    println!(
        "\n== shutdown: {} stopped in order, {} forced",
        report.stopped.len(),
        report.forced.len()
    );
    Ok(())
}
