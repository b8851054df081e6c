//! What a fault test found: its [`Report`], and the minimal failing plan as
//! a [`Counterexample`] that says how to replay it.

use std::{fmt, path::PathBuf};

use super::{DIR_VAR, FaultTest, REPLAY_VAR, SEED_VAR};
use crate::testkit::FaultPlan;

/// What [`FaultTest::check`] found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The test's name.
    pub name: String,
    /// The seed plans were generated from.
    pub seed: u64,
    /// Plans run, shrinking included.
    pub runs: u64,
    /// Runs that broke an invariant, shrinking included.
    pub violations: u64,
    /// The minimal failing plan, if any plan failed.
    pub failure: Option<Counterexample>,
}

impl Report {
    /// Panics with the counterexample's message if a plan failed.
    pub fn assert_ok(&self) {
        if let Some(failure) = &self.failure {
            panic!("{failure}");
        }
    }
}

/// A minimal failing plan: what it broke, and how to replay it.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The test's name.
    pub name: String,
    /// The plan, shrunk.
    pub plan: FaultPlan,
    /// The invariants it broke, with why.
    pub broken: Vec<(String, String)>,
    /// Where the plan was saved, if it could be.
    pub saved: Option<PathBuf>,
}

impl Counterexample {
    pub(super) fn new(test: &FaultTest, plan: FaultPlan, broken: Vec<(String, String)>) -> Self {
        let dir = std::env::var_os(DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/fault-plans"));
        let path = dir.join(format!("{}.json", test.name));
        let saved = (std::fs::create_dir_all(&dir).ok())
            .and_then(|()| std::fs::write(&path, plan.to_json()).ok())
            .map(|()| std::path::absolute(&path).unwrap_or(path));
        Self {
            name: test.name.clone(),
            plan,
            broken,
            saved,
        }
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "fault test `{}` failed under this plan:", self.name)?;
        writeln!(f, "{}", self.plan.to_json())?;
        for (invariant, why) in &self.broken {
            writeln!(f, "  broken: {invariant}: {why}")?;
        }
        if self.broken.is_empty() {
            writeln!(
                f,
                "  (the shrunk plan passed when run again: a timing-dependent failure)"
            )?;
        }
        if let Some(seed) = self.plan.seed {
            writeln!(f, "regenerate the same plans: {SEED_VAR}={seed}")?;
        }
        if let Some(saved) = &self.saved {
            writeln!(f, "replay this plan: {REPLAY_VAR}={}", saved.display())?;
        }
        write!(
            f,
            "plans are generated deterministically from the seed; runs use real threads and \
             clocks, so a replay can interleave differently"
        )
    }
}
