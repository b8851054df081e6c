//! The scenario runner: for each generated plan, a fresh swarm, the plan
//! installed, the workload driven, the trace checked; a failing plan shrunk
//! to a minimal one and saved for replay.

use std::{
    any::Any,
    fmt,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use proptest::{
    strategy::Strategy,
    test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner},
};

use super::{FaultPlan, Invariant, Run, Step, Trace, listen, trace::IdReader};

mod report;

use crate::{ShutdownError, Swarm, SwarmConfig, deadline::saturate};
pub use report::{Counterexample, Report};

/// Replays the plan saved in this file instead of generating plans, for the
/// fault test named by the file's stem.
pub const REPLAY_VAR: &str = "AGENTIX_FAULT_PLAN";
/// Generates plans from this seed instead of a random one.
pub const SEED_VAR: &str = "AGENTIX_FAULT_SEED";
/// Where failing plans are saved (default `target/fault-plans`).
pub const DIR_VAR: &str = "AGENTIX_FAULT_DIR";

/// What a workload gets: the run's swarm (the plan already installed), its
/// trace, and the plan.
#[derive(Debug)]
pub struct Scene {
    swarm: Swarm,
    trace: Trace,
    plan: FaultPlan,
}

impl Scene {
    /// The swarm of this run.
    pub fn swarm(&self) -> &Swarm {
        &self.swarm
    }

    /// Where to record what the workload sends and its agents handle.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The plan installed.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }
}

/// A property-based fault-injection test: see the [module docs](super).
pub struct FaultTest {
    name: String,
    cases: u32,
    seed: u64,
    config: Box<dyn Fn() -> SwarmConfig + Send + Sync>,
    invariants: Vec<Box<dyn Invariant>>,
    readers: Vec<IdReader>,
    workload_bound: Duration,
    quiescence: Duration,
    max_shrink_iters: u32,
}

impl FaultTest {
    /// A test named `name` (the saved plan's file name): 100 plans, the
    /// seed from `AGENTIX_FAULT_SEED` or a random one, two arbiters, the
    /// runtime's invariants, 10 s for the workload and 2 s to quiesce.
    pub fn new(name: &str) -> Self {
        let seed = (std::env::var(SEED_VAR).ok())
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| fastrand::u64(..));
        Self {
            name: name.to_owned(),
            cases: 100,
            seed,
            config: Box::new(|| SwarmConfig::default().arbiters(2)),
            invariants: super::runtime(),
            readers: Vec::new(),
            workload_bound: Duration::from_secs(10),
            quiescence: Duration::from_secs(2),
            max_shrink_iters: 256,
        }
    }

    /// How many plans to generate.
    pub fn cases(mut self, cases: u32) -> Self {
        self.cases = cases;
        self
    }

    /// The seed plans are generated from (overrides `AGENTIX_FAULT_SEED`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The configuration of each run's swarm (its dead-letter sink and
    /// event buffer are the runner's).
    pub fn swarm(mut self, config: impl Fn() -> SwarmConfig + Send + Sync + 'static) -> Self {
        self.config = Box::new(config);
        self
    }

    /// Adds an invariant to check after each run.
    pub fn invariant(mut self, invariant: Box<dyn Invariant>) -> Self {
        self.invariants.push(invariant);
        self
    }

    /// Replaces the invariants (the runtime's by default).
    pub fn invariants(mut self, invariants: Vec<Box<dyn Invariant>>) -> Self {
        self.invariants = invariants;
        self
    }

    /// Reads the id of a dead-lettered message of type `M`, so the trace
    /// can account for it.
    pub fn track<M: Any + Send>(mut self, id: fn(&M) -> u64) -> Self {
        let read = move |payload: &(dyn Any + Send)| payload.downcast_ref::<M>().map(id);
        self.readers.push(Arc::new(read));
        self
    }

    /// How long a workload may run, and how long the swarm then has to
    /// account for every message sent. Each is saturated to
    /// [`MAX_DURATION`](crate::MAX_DURATION) (no bound); zero fails every
    /// workload that does not finish at its first poll, and every run that
    /// has a message unaccounted for at once.
    pub fn bounds(mut self, workload: Duration, quiescence: Duration) -> Self {
        self.workload_bound = saturate(workload);
        self.quiescence = saturate(quiescence);
        self
    }

    /// The seed plans are generated from.
    pub fn seed_used(&self) -> u64 {
        self.seed
    }

    /// Runs the workload under each plan `plans` generates (or under the
    /// saved plan named by `AGENTIX_FAULT_PLAN`, if it is this test's),
    /// shrinking the first failing plan to a minimal one.
    ///
    /// Each run gets an actix system of its own on this thread, so call it
    /// from a plain `#[test]` (or `fn main`), not from `#[agentix::test]`,
    /// `#[agentix::main]` or `#[tokio::test]`: on a thread that already
    /// runs an async runtime no plan is run, and the report fails with a
    /// counterexample saying so.
    pub fn check<S, W>(&self, plans: S, workload: W) -> Report
    where
        S: Strategy<Value = FaultPlan>,
        W: AsyncFn(&Scene) -> Result<(), String>,
    {
        if let Some(why) = inside_a_runtime() {
            return Report {
                name: self.name.clone(),
                seed: self.seed,
                runs: 0,
                violations: 0,
                failure: Some(Counterexample {
                    name: self.name.clone(),
                    plan: FaultPlan::default(),
                    broken: vec![("where it runs".to_owned(), why)],
                    saved: None,
                }),
            };
        }
        super::quiet_injected_panics();
        let (runs, violations) = (AtomicU64::new(0), AtomicU64::new(0));
        let check_one = |plan: FaultPlan| {
            runs.fetch_add(1, Ordering::Relaxed);
            let broken = self.broken(&self.run_plan(plan, &workload));
            if !broken.is_empty() {
                violations.fetch_add(1, Ordering::Relaxed);
            }
            broken
        };
        let mut report = Report {
            name: self.name.clone(),
            seed: self.seed,
            runs: 0,
            violations: 0,
            failure: None,
        };
        if let Some(plan) = self.saved_plan() {
            let broken = check_one(plan.clone());
            report.failure = (!broken.is_empty()).then(|| Counterexample::new(self, plan, broken));
        } else {
            let config = Config {
                cases: self.cases,
                failure_persistence: None,
                max_shrink_iters: self.max_shrink_iters,
                rng_seed: RngSeed::Fixed(self.seed),
                ..Config::default()
            };
            let mut runner = TestRunner::new(config);
            let seed = self.seed;
            let outcome = runner.run(&plans, |mut plan| {
                plan.seed = Some(seed);
                let broken = check_one(plan);
                match broken.first() {
                    None => Ok(()),
                    Some((name, why)) => Err(TestCaseError::fail(format!("{name}: {why}"))),
                }
            });
            if let Err(TestError::Fail(_, mut plan)) = outcome {
                plan.seed = Some(seed);
                // The minimal plan once more, for the full list of what broke.
                let broken = check_one(plan.clone());
                report.failure = Some(Counterexample::new(self, plan, broken));
            }
        }
        report.runs = runs.load(Ordering::Relaxed);
        report.violations = violations.load(Ordering::Relaxed);
        report
    }

    /// One run under `plan`, on a fresh actix system: its record, for the
    /// invariants or a closer look. Like [`check`](Self::check), from a
    /// thread with no async runtime; on one that has one, the run's
    /// workload fails with why and nothing runs.
    pub fn run_plan<W>(&self, plan: FaultPlan, workload: &W) -> Run
    where
        W: AsyncFn(&Scene) -> Result<(), String>,
    {
        if let Some(why) = inside_a_runtime() {
            return Run {
                plan,
                fired: Vec::new(),
                steps: Vec::new(),
                quiesced: None,
                shutdown: Ok(()),
                workload: Err(why),
            };
        }
        crate::agent::private::block_on(self.run_async(plan, workload))
    }

    async fn run_async<W>(&self, plan: FaultPlan, workload: &W) -> Run
    where
        W: AsyncFn(&Scene) -> Result<(), String>,
    {
        let trace = Trace::reading(self.readers.clone());
        let config = (self.config)()
            .dead_letters(trace.sink())
            .event_buffer(1 << 16);
        let mut run = Run {
            plan: plan.clone(),
            fired: Vec::new(),
            steps: Vec::new(),
            quiesced: None,
            shutdown: Ok(()),
            workload: Ok(()),
        };
        let swarm = match Swarm::start(config) {
            Ok(swarm) => swarm,
            Err(err) => {
                run.workload = Err(format!("the swarm did not start: {err}"));
                return run;
            }
        };
        let injection = match swarm.inject(plan.clone()) {
            Ok(injection) => injection,
            Err(err) => {
                run.workload = Err(format!("the plan cannot be installed: {err}"));
                run.shutdown = swarm.shutdown().await.map(drop).map_err(|e| e.to_string());
                return run;
            }
        };
        let listener = listen::Listener::start(swarm.events(), trace.clone());
        let scene = Scene {
            swarm: swarm.clone(),
            trace: trace.clone(),
            plan,
        };
        run.workload = match tokio::time::timeout(self.workload_bound, workload(&scene)).await {
            Ok(done) => done,
            Err(_) => Err(format!("overran its {:?}", self.workload_bound)),
        };
        run.quiesced = self.quiesce(&trace).await;
        run.fired = injection.fired();
        // Uninstalled before shutdown: deliveries the plan swallowed are
        // answered now, as a lost message's sender eventually notices.
        drop((injection, scene));
        let bound = swarm.config().shutdown_timeout.saturating_mul(2);
        run.shutdown = match tokio::time::timeout(bound, swarm.shutdown()).await {
            // A tree that gave up is the supervision invariant's business:
            // the shutdown itself completed.
            Ok(Ok(_) | Err(ShutdownError::GaveUp { .. })) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("shutdown took longer than {bound:?}")),
        };
        listener.finish().await;
        run.steps = trace.steps();
        run
    }

    /// How long until every message sent is accounted for, within the
    /// bound.
    async fn quiesce(&self, trace: &Trace) -> Option<Duration> {
        let start = Instant::now();
        let settled = super::eventually(self.quiescence, async || trace.unaccounted().is_empty());
        settled.await.then(|| start.elapsed())
    }

    /// The invariants `run` breaks, with why; a workload error first.
    fn broken(&self, run: &Run) -> Vec<(String, String)> {
        let mut broken = Vec::new();
        if let Err(why) = &run.workload {
            broken.push(("workload".to_owned(), why.clone()));
        }
        if let Some(Step::EventsMissed(n)) =
            (run.steps.iter()).find(|s| matches!(s, Step::EventsMissed(_)))
        {
            broken.push(("complete trace".to_owned(), format!("{n} events missed")));
        }
        for invariant in &self.invariants {
            if let Err(why) = invariant.check(run) {
                broken.push((invariant.name().to_owned(), why));
            }
        }
        broken
    }

    fn saved_plan(&self) -> Option<FaultPlan> {
        let path = PathBuf::from(std::env::var_os(REPLAY_VAR)?);
        if path.file_stem()? != self.name.as_str() {
            return None;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{REPLAY_VAR}={}: {err}", path.display()));
        let plan = FaultPlan::from_json(&text)
            .unwrap_or_else(|err| panic!("{REPLAY_VAR}={}: not a plan: {err}", path.display()));
        Some(plan)
    }
}

/// Why runs cannot start on this thread, if they cannot: a second runtime
/// cannot be started on a thread that runs one (tokio panics), and moving
/// the runs to another thread would need the workload to be `Send`.
fn inside_a_runtime() -> Option<String> {
    tokio::runtime::Handle::try_current().ok().map(|_| {
        "FaultTest runs each plan on an actix system of its own, and this thread already \
         runs an async runtime: call it from a plain #[test], not #[agentix::test] or \
         #[tokio::test]"
            .to_owned()
    })
}

impl fmt::Debug for FaultTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultTest")
            .field("name", &self.name)
            .field("cases", &self.cases)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}
