//! Fault plans as data: what to break, where and when, serialisable so a
//! failing plan can be saved and replayed.

use serde::{Deserialize, Serialize};

/// One fault, aimed at an agent by name and at a point in its life that a
/// run reaches the same way every time (its n-th handled message, its n-th
/// start), not at a moment in time.
///
/// Message counts are the agent's own, 1-based, across restarts: the agent
/// keeps its address and its count when it is restarted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The handler of the agent's `nth` message panics before running the
    /// user's code (a generated handler; a hand-written one runs, then the
    /// agent fails as if it had panicked).
    Panic {
        /// The agent's name.
        agent: String,
        /// Which handled message, from 1.
        nth: u64,
    },
    /// The handler of the agent's `nth` message is delayed by `delay_ms`
    /// (the agent's thread is held, as by a slow handler).
    Delay {
        /// The agent's name.
        agent: String,
        /// Which handled message, from 1.
        nth: u64,
        /// How long, in milliseconds.
        delay_ms: u64,
    },
    /// The agent is asked to stop for good right after handling its `nth`
    /// message (no restart follows; what is queued becomes dead letters).
    Stop {
        /// The agent's name.
        agent: String,
        /// After which handled message, from 1.
        nth: u64,
    },
    /// The agent's `start`-th start (1 is the first, 2 the first restart)
    /// panics in `started`, as a child failing at start-up does.
    FailStart {
        /// The agent's name.
        agent: String,
        /// Which start, from 1.
        start: u32,
    },
}

impl Fault {
    /// The agent the fault is aimed at.
    pub fn agent(&self) -> &str {
        match self {
            Self::Panic { agent, .. }
            | Self::Delay { agent, .. }
            | Self::Stop { agent, .. }
            | Self::FailStart { agent, .. } => agent,
        }
    }
}

/// Faults to inject into one run, and the seed it was generated from (if
/// it was), so the failure message can say how to replay it.
///
/// ```
/// use agentix::testkit::{Fault, FaultPlan};
///
/// let plan = FaultPlan::new(vec![Fault::Panic { agent: "worker-1".into(), nth: 3 }]);
/// let saved = plan.to_json();
/// assert_eq!(FaultPlan::from_json(&saved).unwrap(), plan);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// The seed the plan was generated from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The faults, in no particular order: each fires at its own point.
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    /// A plan of these faults.
    pub fn new(faults: Vec<Fault>) -> Self {
        Self { seed: None, faults }
    }

    /// The plan as JSON, to save next to a failing test.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan is plain data")
    }

    /// A plan saved with [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A fault that fired: which one (its index in the plan) and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    /// Its index in [`FaultPlan::faults`].
    pub index: usize,
    /// The fault.
    pub fault: Fault,
}
