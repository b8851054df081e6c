//! How spawned agents tell their spawner that they started: one latch for a
//! whole batch of agents, one slot in it per agent.
//!
//! A channel per agent costs an allocation and a waker per agent; starting
//! 100k agents under a supervisor, that was the largest transient cost after
//! the agents themselves. A batch's agents share one latch instead, and the
//! spawner wakes once, when the last of them has reported.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;

use crate::ExitReason;

/// What a slot holds.
#[derive(Debug, Clone, Default)]
enum Report {
    /// Nothing yet.
    #[default]
    Waiting,
    /// Dropped unreported: the agent never ran (its arbiter had stopped).
    Dropped,
    /// `Ok` once `started` returned, or why the agent ended before that.
    Reported(Result<(), ExitReason>),
}

struct Inner {
    reports: Mutex<Vec<Report>>,
    waiting: AtomicUsize,
    waker: AtomicWaker,
}

/// The spawner's side: waits until every slot has reported.
pub(crate) struct StartLatch {
    inner: Arc<Inner>,
}

impl StartLatch {
    /// A latch for `slots` agents; hand each its [`slot`](Self::slot).
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                reports: Mutex::new(vec![Report::Waiting; slots]),
                waiting: AtomicUsize::new(slots),
                waker: AtomicWaker::new(),
            }),
        }
    }

    /// The slot of agent `index`. Each index is handed out once.
    pub(crate) fn slot(&self, index: usize) -> StartSlot {
        StartSlot {
            latch: Some(self.inner.clone()),
            index,
        }
    }

    /// Ready once every slot has reported or been dropped.
    pub(crate) fn poll_all(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.waiting.load(Ordering::Acquire) == 0 {
            return Poll::Ready(());
        }
        self.inner.waker.register(cx.waker());
        // A report between the check and the registration woke nobody.
        if self.inner.waiting.load(Ordering::Acquire) == 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// How each start went, by slot: `Some(Some(_))` reported, `Some(None)`
    /// never ran, `None` not reported yet (when the waiting timed out).
    pub(crate) fn outcomes(&self) -> Vec<Option<Option<Result<(), ExitReason>>>> {
        let reports = self.inner.reports.lock();
        reports
            .iter()
            .map(|report| match report {
                Report::Waiting => None,
                Report::Dropped => Some(None),
                Report::Reported(result) => Some(Some(result.clone())),
            })
            .collect()
    }
}

impl fmt::Debug for StartLatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartLatch")
            .field("waiting", &self.inner.waiting.load(Ordering::Relaxed))
            .finish()
    }
}

/// An agent's side: reports its first start once, or, dropped unreported,
/// that it never ran.
pub(crate) struct StartSlot {
    latch: Option<Arc<Inner>>,
    index: usize,
}

impl StartSlot {
    /// Reports how the first start went.
    pub(crate) fn report(mut self, result: Result<(), ExitReason>) {
        self.fill(Report::Reported(result));
    }

    fn fill(&mut self, report: Report) {
        let Some(latch) = self.latch.take() else {
            return;
        };
        if let Some(slot) = latch.reports.lock().get_mut(self.index) {
            *slot = report;
        }
        if latch.waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            latch.waker.wake();
        }
    }
}

impl Drop for StartSlot {
    fn drop(&mut self) {
        self.fill(Report::Dropped);
    }
}

impl fmt::Debug for StartSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartSlot")
            .field("index", &self.index)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::{future::poll_fn, time::Duration};

    use super::*;

    #[tokio::test]
    async fn wakes_once_every_slot_has_reported_or_been_dropped() {
        let latch = StartLatch::new(3);
        let (ok, failed, dropped) = (latch.slot(0), latch.slot(1), latch.slot(2));
        let reporter = std::thread::spawn(move || {
            ok.report(Ok(()));
            failed.report(Err(ExitReason::Normal));
            drop(dropped);
        });
        tokio::time::timeout(Duration::from_secs(10), poll_fn(|cx| latch.poll_all(cx)))
            .await
            .expect("all three reported");
        reporter.join().expect("the reporter ran");
        let outcomes = latch.outcomes();
        assert!(matches!(outcomes[0], Some(Some(Ok(())))));
        assert!(matches!(outcomes[1], Some(Some(Err(ExitReason::Normal)))));
        assert!(matches!(outcomes[2], Some(None)));
    }

    #[test]
    fn a_slot_not_yet_reported_reads_as_pending() {
        let latch = StartLatch::new(2);
        latch.slot(0).report(Ok(()));
        let _late = latch.slot(1);
        let outcomes = latch.outcomes();
        assert!(matches!(outcomes[0], Some(Some(Ok(())))));
        assert!(outcomes[1].is_none());
    }
}
