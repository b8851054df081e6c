//! proptest strategies that generate fault plans for a swarm of a given
//! shape: which agents, how many messages each handles, which faults.

use proptest::{prelude::*, sample::select};

use super::{Fault, FaultPlan};

/// The kinds of [`Fault`], to say which a [`Shape`] may generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// [`Fault::Panic`].
    Panic,
    /// [`Fault::Delay`].
    Delay,
    /// [`Fault::Stop`].
    Stop,
    /// [`Fault::Stall`].
    Stall,
    /// [`Fault::FullMailbox`].
    FullMailbox,
    /// [`Fault::DropDelivery`].
    DropDelivery,
    /// [`Fault::DelayDelivery`].
    DelayDelivery,
    /// [`Fault::FailStart`] (of a restart: the first start is the
    /// workload's set-up, not part of the plan).
    FailStart,
}

/// The swarm a plan is generated for.
///
/// ```
/// use agentix::testkit::{FaultKind, Shape};
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let shape = Shape::new(["a", "b"], 20).kinds([FaultKind::Panic]).faults(1..=3);
/// let plan = shape.plans().new_tree(&mut TestRunner::deterministic()).unwrap().current();
/// assert!((1..=3).contains(&plan.faults.len()));
/// assert!(plan.faults.iter().all(|f| ["a", "b"].contains(&f.agent())));
/// ```
#[derive(Debug, Clone)]
pub struct Shape {
    agents: Vec<String>,
    messages: u64,
    kinds: Vec<FaultKind>,
    faults: (usize, usize),
    max_ms: u64,
    max_starts: u32,
}

impl Shape {
    /// Agents by name, each handling up to `messages` messages in a run
    /// (faults aim at message 1 to `messages`). Every kind of fault, 0 to
    /// 4 faults a plan, delays up to 20 ms, failed starts up to the third.
    pub fn new<S: Into<String>>(agents: impl IntoIterator<Item = S>, messages: u64) -> Self {
        Self {
            agents: agents.into_iter().map(Into::into).collect(),
            messages: messages.max(1),
            kinds: vec![
                FaultKind::Panic,
                FaultKind::Delay,
                FaultKind::Stop,
                FaultKind::Stall,
                FaultKind::FullMailbox,
                FaultKind::DropDelivery,
                FaultKind::DelayDelivery,
                FaultKind::FailStart,
            ],
            faults: (0, 4),
            max_ms: 20,
            max_starts: 3,
        }
    }

    /// Only these kinds of fault.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = FaultKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// How many faults a plan has.
    pub fn faults(mut self, count: std::ops::RangeInclusive<usize>) -> Self {
        self.faults = (*count.start(), (*count.end()).max(*count.start()));
        self
    }

    /// The longest delay or stall, in milliseconds: from 1 to
    /// [`MAX_FAULT_MS`](super::MAX_FAULT_MS), which a larger value is
    /// taken as (the plans must pass [`FaultPlan::validate`]).
    pub fn max_ms(mut self, max_ms: u64) -> Self {
        self.max_ms = max_ms.clamp(1, super::MAX_FAULT_MS);
        self
    }

    /// The agents.
    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    /// Plans for this shape. They shrink toward fewer faults, earlier
    /// messages and shorter delays.
    pub fn plans(&self) -> BoxedStrategy<FaultPlan> {
        if self.agents.is_empty() || self.kinds.is_empty() {
            return Just(FaultPlan::default()).boxed();
        }
        let (min, max) = self.faults;
        prop::collection::vec(self.fault(), min..=max)
            .prop_map(FaultPlan::new)
            .boxed()
    }

    fn fault(&self) -> impl Strategy<Value = Fault> + use<> {
        let (messages, max_ms, max_starts) = (self.messages, self.max_ms, self.max_starts);
        (
            select(self.kinds.clone()),
            select(self.agents.clone()),
            1..=messages,
            1..=max_ms,
            1..=messages,
            2..=max_starts.max(2),
        )
            .prop_map(|(kind, agent, nth, ms, count, start)| match kind {
                FaultKind::Panic => Fault::Panic { agent, nth },
                FaultKind::Delay => Fault::Delay {
                    agent,
                    nth,
                    delay_ms: ms,
                },
                FaultKind::Stop => Fault::Stop { agent, nth },
                FaultKind::Stall => Fault::Stall {
                    agent,
                    nth,
                    stall_ms: ms,
                },
                FaultKind::FullMailbox => Fault::FullMailbox {
                    agent,
                    from: nth,
                    // The last refused tell must fit in a u64.
                    count: count.min(8).min(u64::MAX - nth + 1),
                },
                FaultKind::DropDelivery => Fault::DropDelivery { agent, nth },
                FaultKind::DelayDelivery => Fault::DelayDelivery {
                    agent,
                    nth,
                    delay_ms: ms,
                },
                FaultKind::FailStart => Fault::FailStart { agent, start },
            })
    }
}
