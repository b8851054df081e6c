//! The project's own property suites under generated fault plans
//! (feature `testkit`): supervision, the router's at-least-once delivery and
//! the registry. Prints one line per suite and a closing summary,
//! `fault plans: N run, M violations`; exits non-zero on a violation, with
//! the minimal plan and how to replay it.
//!
//! `AGENTIX_FAULT_SEED=n` regenerates the same plans; `AGENTIX_FAULT_CASES`
//! sets the number of plans per suite (default: the figures below);
//! `AGENTIX_FAULT_SUITE=name` runs one suite.

mod registry;
mod router;
mod supervision;

use std::time::{Duration, Instant};

use agentix::{
    prelude::*,
    testkit::{Report, Scene, Trace},
};

/// Spawns agent `name` in the scene's swarm, made by `make` with the
/// scene's trace, restarted as often as a plan's faults need.
async fn spawn_traced<A: Agent>(
    scene: &Scene,
    name: &'static str,
    make: fn(&'static str, Trace) -> A,
) -> Result<A::Ref, String> {
    let trace = scene.trace().clone();
    (scene.swarm())
        .agent(move || make(name, trace.clone()))
        .name(name)
        .intensity(Intensity::new(100, Duration::from_secs(3600)))
        .spawn()
        .await
        .map_err(|err| err.to_string())
}

fn cases(default: u32) -> u32 {
    std::env::var("AGENTIX_FAULT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    type Suite = (&'static str, fn(u32) -> Report, u32);
    let suites: [Suite; 3] = [
        ("supervision", supervision::run, 500),
        ("router", router::run, 400),
        ("registry", registry::run, 300),
    ];
    let (mut runs, mut violations, mut failures) = (0, 0, Vec::new());
    let only = std::env::var("AGENTIX_FAULT_SUITE").ok();
    for (name, suite, default) in suites {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let start = Instant::now();
        let report = suite(cases(default));
        println!(
            "{name}: {} plans in {:.1?}, {} violations (seed {})",
            report.runs,
            start.elapsed(),
            report.violations,
            report.seed
        );
        runs += report.runs;
        violations += report.violations;
        failures.extend(report.failure);
    }
    for failure in &failures {
        eprintln!("\n{failure}\n");
    }
    println!("fault plans: {runs} run, {violations} violations");
    if violations > 0 {
        std::process::exit(1);
    }
}
