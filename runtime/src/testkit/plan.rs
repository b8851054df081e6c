//! Fault plans as data: what to break, where and when, serialisable so a
//! failing plan can be saved and replayed.

use serde::{Deserialize, Serialize};

mod check;

pub use check::{FaultProblem, MAX_FAULT_MS, PlanError};

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
    /// (the agent's thread is held, as by a slow handler), at most
    /// [`MAX_FAULT_MS`].
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
    /// After its `nth` message the agent takes no message for `stall_ms`
    /// (at most [`MAX_FAULT_MS`]):
    /// its mailbox fills while its thread serves other agents (a
    /// subscriber or worker that stalls).
    Stall {
        /// The agent's name.
        agent: String,
        /// After which handled message, from 1.
        nth: u64,
        /// How long, in milliseconds.
        stall_ms: u64,
    },
    /// Tells to the agent numbered `from` to `from + count - 1` (counted
    /// from the plan's installation, from 1; the range must fit in `u64`)
    /// are refused as if its mailbox
    /// were full: the sender gets `SendError::Full` with its message back.
    /// Router deliveries are tells, so this fills a subscriber for the
    /// router. Asks are not refused (they wait for room).
    FullMailbox {
        /// The agent's name.
        agent: String,
        /// The first refused tell, from 1.
        from: u64,
        /// How many tells in a row are refused.
        count: u64,
    },
    /// A router's `nth` delivery to this subscriber (counted from the
    /// plan's installation, from 1) is lost on the way: the subscriber
    /// never sees it and nobody answers it until the plan is dropped. An
    /// at-least-once subscription sends it again once its acknowledgement
    /// is overdue; an at-most-once one has lost it, as it would to a crash.
    DropDelivery {
        /// The subscriber's name.
        agent: String,
        /// Which delivery (a batch), from 1.
        nth: u64,
    },
    /// A router's `nth` delivery to this subscriber arrives `delay_ms`
    /// (at most [`MAX_FAULT_MS`]) late, after deliveries sent later (reordered, as over a network).
    DelayDelivery {
        /// The subscriber's name.
        agent: String,
        /// Which delivery (a batch), from 1.
        nth: u64,
        /// How late, in milliseconds.
        delay_ms: u64,
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
            | Self::Stall { agent, .. }
            | Self::FullMailbox { agent, .. }
            | Self::DropDelivery { agent, .. }
            | Self::DelayDelivery { agent, .. }
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

    /// A plan saved with [`to_json`](Self::to_json), checked as
    /// [`validate`](Self::validate) does: a saved plan may have been
    /// edited, and a number out of range is a [`PlanError`], not a panic
    /// when the fault fires.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        let plan: Self = serde_json::from_str(text)?;
        plan.validate()?;
        Ok(plan)
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
