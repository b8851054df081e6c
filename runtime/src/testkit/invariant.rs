//! What a run must satisfy: checks over its record, the runtime's own
//! guarantees among them.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use crate::{During, Event, ExitReason, LifecycleEvent};

use super::{FaultPlan, Fired, Step};

/// The record of one run, as invariants see it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The plan that was installed.
    pub plan: FaultPlan,
    /// The faults of it that fired.
    pub fired: Vec<Fired>,
    /// Everything recorded, in order.
    pub steps: Vec<Step>,
    /// How long after the workload ended every message it sent was
    /// accounted for; `None` if that did not happen within the bound.
    pub quiesced: Option<Duration>,
    /// How the swarm's shutdown ended (within its bound, or why not).
    pub shutdown: Result<(), String>,
    /// How the workload ended (its own error, or that it overran).
    pub workload: Result<(), String>,
}

impl Run {
    /// The lifecycle events, in order.
    pub fn lifecycle(&self) -> impl Iterator<Item = &LifecycleEvent> {
        self.steps.iter().filter_map(|step| match step {
            Step::Lifecycle(event) => Some(event),
            _ => None,
        })
    }

    /// The ids `agent` handled, in the order it handled them.
    pub fn handled_by(&self, agent: &str) -> Vec<u64> {
        (self.steps.iter())
            .filter_map(|step| match step {
                Step::Handled { by, id } if by == agent => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// Messages sent and not accounted for, by recipient: see
    /// [`no_lost_messages`].
    pub fn unaccounted(&self) -> BTreeMap<String, Vec<u64>> {
        unaccounted(self.steps.iter())
    }
}

/// A property every run must have. Implemented by closures
/// `Fn(&Run) -> Result<(), String>` through [`invariant`].
pub trait Invariant: Send + Sync {
    /// A short name, for the failure message.
    fn name(&self) -> &str;
    /// `Err` with what was wrong, if the run breaks it.
    fn check(&self, run: &Run) -> Result<(), String>;
}

struct Named<F> {
    name: String,
    check: F,
}

impl<F: Fn(&Run) -> Result<(), String> + Send + Sync> Invariant for Named<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, run: &Run) -> Result<(), String> {
        (self.check)(run)
    }
}

/// An invariant from a closure over the run.
///
/// ```
/// use agentix::testkit::{Invariant, Run, invariant};
///
/// let at_most_three_restarts = invariant("at most three restarts", |run: &Run| {
///     let restarts = run.lifecycle().filter(|e| e.to_string().contains("restarted")).count();
///     if restarts <= 3 { Ok(()) } else { Err(format!("{restarts} restarts")) }
/// });
/// assert_eq!(at_most_three_restarts.name(), "at most three restarts");
/// ```
pub fn invariant(
    name: &str,
    check: impl Fn(&Run) -> Result<(), String> + Send + Sync + 'static,
) -> Box<dyn Invariant> {
    Box::new(Named {
        name: name.to_owned(),
        check,
    })
}

/// The runtime's own guarantees, for any workload that records what it
/// sends and handles: [`no_lost_messages`], [`in_order`], [`quiescent`],
/// [`shutdown_completes`]. Supervision is checked per supervisor
/// ([`supervision`]).
pub fn runtime() -> Vec<Box<dyn Invariant>> {
    vec![
        no_lost_messages(),
        in_order(),
        quiescent(),
        shutdown_completes(),
    ]
}

/// No accepted message lost: every message sent to an agent was handled by
/// it, or became a dead letter with a reason (one whose id the run reads,
/// see [`FaultTest::track`](super::FaultTest::track)), or was the one a
/// handler failed on (at most one message per failure of that agent in a
/// handler).
pub fn no_lost_messages() -> Box<dyn Invariant> {
    invariant("no accepted message lost", |run| {
        let lost = run.unaccounted();
        match lost.is_empty() {
            true => Ok(()),
            false => Err(format!("neither handled nor dead-lettered: {lost:?}")),
        }
    })
}

/// Queued messages survive restarts in order: each agent handles each
/// message it was sent at most once, in the order sent (for a workload
/// that sends each agent's messages from one task, in increasing ids).
pub fn in_order() -> Box<dyn Invariant> {
    invariant("handled once each, in order, across restarts", |run| {
        let mut last: BTreeMap<&str, u64> = BTreeMap::new();
        for step in &run.steps {
            if let Step::Handled { by, id } = step
                && let Some(before) = last.insert(by, *id)
                && before >= *id
            {
                return Err(format!("`{by}` handled {id} after {before}"));
            }
        }
        Ok(())
    })
}

/// The swarm reaches quiescence: every message sent was accounted for
/// (see [`no_lost_messages`]) within the run's bound after the workload.
pub fn quiescent() -> Box<dyn Invariant> {
    invariant("quiescent within the bound", |run| match run.quiesced {
        Some(_) => Ok(()),
        None => Err(format!("still unaccounted: {:?}", run.unaccounted())),
    })
}

/// Shutdown completes, within the swarm's shutdown timeout.
pub fn shutdown_completes() -> Box<dyn Invariant> {
    invariant("shutdown completes", |run| run.shutdown.clone())
}

/// Restart intensity, for supervisor `name` allowing `max_restarts`
/// restarts in a period longer than the run: it restarts at most that many
/// times, and escalates (or gives up, at the root) exactly when its
/// children failed more often. For one-for-one supervisors whose children
/// end only by failing (panics, failed starts).
pub fn supervision(name: &str, max_restarts: u32) -> Box<dyn Invariant> {
    let supervisor = name.to_owned();
    invariant(&format!("intensity of `{name}`"), move |run| {
        let (mut failures, mut restarts, mut escalated) = (0u32, 0u32, false);
        for event in run.lifecycle() {
            let child = event.supervisor().is_some_and(|s| s.as_str() == supervisor);
            match event.event() {
                Event::Failed { .. } if child => failures += 1,
                Event::Restarted { .. } if child => restarts += 1,
                Event::Escalated { .. } | Event::GaveUp { .. }
                    if event.agent().as_str() == supervisor =>
                {
                    escalated = true;
                    break;
                }
                _ => {}
            }
        }
        if restarts > max_restarts {
            return Err(format!("{restarts} restarts, intensity {max_restarts}"));
        }
        match (failures > max_restarts, escalated) {
            (true, false) => Err(format!(
                "{failures} failures, intensity {max_restarts}, and no escalation"
            )),
            (false, true) => Err(format!(
                "escalated after {failures} failures, intensity {max_restarts}"
            )),
            _ => Ok(()),
        }
    })
}

/// Messages sent and neither handled, nor dead-lettered, nor explained by a
/// failure of the recipient in a handler, by recipient.
pub(crate) fn unaccounted<'a>(steps: impl Iterator<Item = &'a Step>) -> BTreeMap<String, Vec<u64>> {
    #[derive(Default)]
    struct Mail {
        sent: Vec<u64>,
        done: BTreeSet<u64>,
        excused: usize,
    }
    let mut mail: BTreeMap<&str, Mail> = BTreeMap::new();
    for step in steps {
        match step {
            Step::Sent { to, id } => mail.entry(to).or_default().sent.push(*id),
            Step::Handled { by, id } => {
                mail.entry(by).or_default().done.insert(*id);
            }
            Step::DeadLetter {
                to, id: Some(id), ..
            } => {
                mail.entry(to).or_default().done.insert(*id);
            }
            Step::Lifecycle(event) if failed_in_handler(event) => {
                mail.entry(event.agent().as_str()).or_default().excused += 1;
            }
            _ => {}
        }
    }
    (mail.into_iter())
        .filter_map(|(to, mail)| {
            let missing: Vec<u64> = (mail.sent.iter())
                .filter(|id| !mail.done.contains(id))
                .copied()
                .collect();
            (missing.len() > mail.excused).then(|| (to.to_owned(), missing))
        })
        .collect()
}

fn failed_in_handler(event: &LifecycleEvent) -> bool {
    match event.event() {
        Event::Failed {
            reason: ExitReason::Failed(failure),
        } => matches!(failure.during(), During::Handler { .. }),
        _ => false,
    }
}
