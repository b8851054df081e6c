//! The trace of a run: what the workload sent and its agents handled,
//! every dead letter and lifecycle event, in the order they were recorded.

use std::{
    any::Any,
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::Mutex;

use crate::{DeadLetter, DeadLetterSink, LifecycleEvent};

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// The workload's message `id` was accepted for agent `to` (a tell
    /// returned `Ok`, an ask was queued, a publish is due to reach `to`).
    Sent {
        /// The recipient's name.
        to: String,
        /// The message's id, unique per recipient.
        id: u64,
    },
    /// Agent `by` handled message `id` (recorded by the agent's handler).
    Handled {
        /// The agent's name.
        by: String,
        /// The message's id.
        id: u64,
    },
    /// A message for `to` became a dead letter; its id if the run knows how
    /// to read it ([`FaultTest::track`](super::FaultTest::track)).
    DeadLetter {
        /// The recipient's name.
        to: String,
        /// The message's id, if tracked.
        id: Option<u64>,
        /// Why, as [`DeadLetterReason::as_str`](crate::DeadLetterReason::as_str)
        /// (or the router's reason, when the workload records those).
        reason: String,
    },
    /// A lifecycle event of the swarm.
    Lifecycle(LifecycleEvent),
    /// The trace's event subscription fell behind and lost this many
    /// lifecycle events: the trace is incomplete.
    EventsMissed(u64),
    /// Anything else the workload wants in the trace.
    Note(String),
}

/// Reads a message's id from a dead letter's payload.
pub(crate) type IdReader = Arc<dyn Fn(&(dyn Any + Send)) -> Option<u64> + Send + Sync>;

/// Where a run records its steps: shared by the workload, its agents, the
/// swarm's dead-letter sink and the lifecycle event listener. Cheap to
/// clone; recording takes a short lock (a test's path, not a hot one).
#[derive(Clone)]
pub struct Trace {
    inner: Arc<Inner>,
}

struct Inner {
    start: Instant,
    steps: Mutex<Vec<(Duration, Step)>>,
    readers: Vec<IdReader>,
}

impl Trace {
    /// An empty trace that reads no ids from dead letters.
    pub fn new() -> Self {
        Self::reading(Vec::new())
    }

    pub(crate) fn reading(readers: Vec<IdReader>) -> Self {
        Self {
            inner: Arc::new(Inner {
                start: Instant::now(),
                steps: Mutex::new(Vec::new()),
                readers,
            }),
        }
    }

    /// Records a step.
    pub fn record(&self, step: Step) {
        let at = self.inner.start.elapsed();
        self.inner.steps.lock().push((at, step));
    }

    /// Records that message `id` was accepted for `to`.
    pub fn sent(&self, to: &str, id: u64) {
        self.record(Step::Sent {
            to: to.to_owned(),
            id,
        });
    }

    /// Records that `by` handled message `id`: call it first thing in the
    /// handler.
    pub fn handled(&self, by: &str, id: u64) {
        self.record(Step::Handled {
            by: by.to_owned(),
            id,
        });
    }

    /// Records a note.
    pub fn note(&self, text: impl Into<String>) {
        self.record(Step::Note(text.into()));
    }

    /// The steps so far, in the order recorded.
    pub fn steps(&self) -> Vec<Step> {
        (self.inner.steps.lock().iter())
            .map(|(_, step)| step.clone())
            .collect()
    }

    /// The steps so far, each with the time since the run started.
    pub fn timed_steps(&self) -> Vec<(Duration, Step)> {
        self.inner.steps.lock().clone()
    }

    /// Runs `f` over the steps without copying them.
    pub(crate) fn with_steps<R>(&self, f: impl FnOnce(&[(Duration, Step)]) -> R) -> R {
        f(&self.inner.steps.lock())
    }

    /// Messages sent and not yet accounted for, by recipient: what a
    /// workload waits on before it ends (see
    /// [`no_lost_messages`](super::no_lost_messages)).
    pub fn unaccounted(&self) -> BTreeMap<String, Vec<u64>> {
        self.with_steps(|steps| super::invariant::unaccounted(steps.iter().map(|(_, step)| step)))
    }

    /// A dead-letter sink that records into this trace.
    pub(crate) fn sink(&self) -> Arc<dyn DeadLetterSink> {
        Arc::new(TraceSink(self.clone()))
    }
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("steps", &self.inner.steps.lock().len())
            .finish_non_exhaustive()
    }
}

/// The swarm's dead letters, into the trace.
struct TraceSink(Trace);

impl DeadLetterSink for TraceSink {
    fn dead_letter(&self, letter: DeadLetter) {
        let payload = letter.payload();
        let id = (self.0.inner.readers.iter()).find_map(|read| read(payload));
        self.0.record(Step::DeadLetter {
            to: letter.agent().as_str().to_owned(),
            id,
            reason: letter.reason().as_str().to_owned(),
        });
    }
}
