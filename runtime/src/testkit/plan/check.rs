//! Checking a plan before it is installed: a plan is data that may come
//! from a file, so every number in it is untrusted.

use std::fmt;

use super::{Fault, FaultPlan};
use crate::{AgentName, NameError};

/// The longest delay or stall a fault may ask for, in milliseconds (ten
/// minutes): a [`Fault::Delay`] holds an arbiter thread that long, and a
/// test that needs more is waiting for something else.
pub const MAX_FAULT_MS: u64 = 600_000;

/// Why a fault plan cannot be installed (from [`FaultPlan::validate`],
/// [`FaultPlan::from_json`], [`Swarm::inject`](crate::Swarm::inject)).
#[derive(Debug)]
#[non_exhaustive]
pub enum PlanError {
    /// The text is not JSON, or not a plan.
    Json(serde_json::Error),
    /// A fault's numbers or name cannot work.
    Fault {
        /// The fault's index in [`FaultPlan::faults`].
        index: usize,
        /// What is wrong with it.
        problem: FaultProblem,
    },
}

/// What is wrong with one fault of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultProblem {
    /// A count from 1 (`nth`, `from`, `start`) is 0, or a `count` is 0: the
    /// fault could never fire.
    Zero {
        /// The field.
        field: &'static str,
    },
    /// A delay or stall longer than [`MAX_FAULT_MS`].
    TooLong {
        /// The field.
        field: &'static str,
        /// The milliseconds asked for.
        ms: u64,
    },
    /// A [`Fault::FullMailbox`] whose last refused tell, `from + count - 1`,
    /// is past `u64::MAX`.
    RangeOverflows {
        /// The first refused tell.
        from: u64,
        /// How many.
        count: u64,
    },
    /// The agent's name breaks the naming rules, so no agent has it.
    Name(NameError),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(err) => write!(f, "not a fault plan: {err}"),
            Self::Fault { index, problem } => write!(f, "fault {index} of the plan: {problem}"),
        }
    }
}

impl fmt::Display for FaultProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zero { field } => write!(f, "`{field}` is 0, so it would never fire"),
            Self::TooLong { field, ms } => write!(
                f,
                "`{field}` of {ms} ms exceeds the maximum of {MAX_FAULT_MS} ms"
            ),
            Self::RangeOverflows { from, count } => {
                write!(f, "tells {from} to {from} + {count} - 1 run past u64::MAX")
            }
            Self::Name(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for PlanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(err) => Some(err),
            Self::Fault {
                problem: FaultProblem::Name(err),
                ..
            } => Some(err),
            Self::Fault { .. } => None,
        }
    }
}

impl From<serde_json::Error> for PlanError {
    fn from(err: serde_json::Error) -> Self {
        Self::Json(err)
    }
}

impl FaultPlan {
    /// Checks every fault: names valid, counts from 1 not 0, delays and
    /// stalls at most [`MAX_FAULT_MS`], refused ranges within `u64`.
    ///
    /// ```
    /// use agentix::testkit::{Fault, FaultPlan};
    ///
    /// let plan = FaultPlan::new(vec![Fault::FullMailbox {
    ///     agent: "worker".into(),
    ///     from: u64::MAX,
    ///     count: 2,
    /// }]);
    /// assert!(plan.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), PlanError> {
        for (index, fault) in self.faults.iter().enumerate() {
            check(fault).map_err(|problem| PlanError::Fault { index, problem })?;
        }
        Ok(())
    }
}

fn check(fault: &Fault) -> Result<(), FaultProblem> {
    AgentName::new(fault.agent()).map_err(FaultProblem::Name)?;
    let from_one = |field, n: u64| match n {
        0 => Err(FaultProblem::Zero { field }),
        _ => Ok(()),
    };
    let ms = |field, ms: u64| match ms {
        ms if ms > MAX_FAULT_MS => Err(FaultProblem::TooLong { field, ms }),
        _ => Ok(()),
    };
    match *fault {
        Fault::Panic { nth, .. } | Fault::Stop { nth, .. } | Fault::DropDelivery { nth, .. } => {
            from_one("nth", nth)
        }
        Fault::Delay { nth, delay_ms, .. } | Fault::DelayDelivery { nth, delay_ms, .. } => {
            from_one("nth", nth)?;
            ms("delay_ms", delay_ms)
        }
        Fault::Stall { nth, stall_ms, .. } => {
            from_one("nth", nth)?;
            ms("stall_ms", stall_ms)
        }
        Fault::FullMailbox { from, count, .. } => {
            from_one("from", from)?;
            from_one("count", count)?;
            match from.checked_add(count - 1) {
                Some(_) => Ok(()),
                None => Err(FaultProblem::RangeOverflows { from, count }),
            }
        }
        Fault::FailStart { start, .. } => from_one("start", u64::from(start)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(fault: Fault) -> Option<FaultProblem> {
        match FaultPlan::new(vec![fault]).validate() {
            Ok(()) => None,
            Err(PlanError::Fault { index: 0, problem }) => Some(problem),
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn every_numeric_field_is_checked() {
        let agent = || "a".to_owned();
        let cases = [
            (
                Fault::Panic {
                    agent: agent(),
                    nth: 0,
                },
                Some(FaultProblem::Zero { field: "nth" }),
            ),
            (
                Fault::Panic {
                    agent: agent(),
                    nth: u64::MAX,
                },
                None,
            ),
            (
                Fault::Stop {
                    agent: agent(),
                    nth: 0,
                },
                Some(FaultProblem::Zero { field: "nth" }),
            ),
            (
                Fault::Delay {
                    agent: agent(),
                    nth: 1,
                    delay_ms: MAX_FAULT_MS + 1,
                },
                Some(FaultProblem::TooLong {
                    field: "delay_ms",
                    ms: MAX_FAULT_MS + 1,
                }),
            ),
            (
                Fault::Delay {
                    agent: agent(),
                    nth: 1,
                    delay_ms: MAX_FAULT_MS,
                },
                None,
            ),
            (
                Fault::Stall {
                    agent: agent(),
                    nth: 1,
                    stall_ms: u64::MAX,
                },
                Some(FaultProblem::TooLong {
                    field: "stall_ms",
                    ms: u64::MAX,
                }),
            ),
            (
                Fault::DelayDelivery {
                    agent: agent(),
                    nth: 1,
                    delay_ms: u64::MAX,
                },
                Some(FaultProblem::TooLong {
                    field: "delay_ms",
                    ms: u64::MAX,
                }),
            ),
            (
                Fault::DropDelivery {
                    agent: agent(),
                    nth: 0,
                },
                Some(FaultProblem::Zero { field: "nth" }),
            ),
            (
                Fault::FullMailbox {
                    agent: agent(),
                    from: u64::MAX,
                    count: 2,
                },
                Some(FaultProblem::RangeOverflows {
                    from: u64::MAX,
                    count: 2,
                }),
            ),
            (
                Fault::FullMailbox {
                    agent: agent(),
                    from: u64::MAX,
                    count: 1,
                },
                None,
            ),
            (
                Fault::FullMailbox {
                    agent: agent(),
                    from: 1,
                    count: u64::MAX,
                },
                None,
            ),
            (
                Fault::FullMailbox {
                    agent: agent(),
                    from: 1,
                    count: 0,
                },
                Some(FaultProblem::Zero { field: "count" }),
            ),
            (
                Fault::FullMailbox {
                    agent: agent(),
                    from: 0,
                    count: 1,
                },
                Some(FaultProblem::Zero { field: "from" }),
            ),
            (
                Fault::FailStart {
                    agent: agent(),
                    start: 0,
                },
                Some(FaultProblem::Zero { field: "start" }),
            ),
            (
                Fault::FailStart {
                    agent: agent(),
                    start: u32::MAX,
                },
                None,
            ),
        ];
        for (fault, expected) in cases {
            assert_eq!(problem(fault.clone()), expected, "{fault:?}");
        }
        let unnamed = problem(Fault::Panic {
            agent: String::new(),
            nth: 1,
        });
        assert!(
            matches!(unnamed, Some(FaultProblem::Name(_))),
            "{unnamed:?}"
        );
    }
}
