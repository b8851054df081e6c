//! What a run records besides the workload: the swarm's lifecycle events,
//! and quiet for the panics a plan injects.

use std::{pin::pin, sync::Once};

use futures_util::future::{Either, select};
use tokio::sync::oneshot;

use super::{Step, Trace};
use crate::{EventError, Events};

/// Records a swarm's lifecycle events into a trace, from a task on the
/// run's thread, until told to finish.
pub(crate) struct Listener {
    done: oneshot::Sender<()>,
    task: actix_rt::task::JoinHandle<()>,
}

impl Listener {
    pub(crate) fn start(mut events: Events, trace: Trace) -> Self {
        let (done, mut finish) = oneshot::channel::<()>();
        let task = actix_rt::spawn(async move {
            loop {
                // In a block of its own: the receive borrows `events`
                // until it is dropped.
                let next = {
                    let recv = pin!(events.recv());
                    match select(recv, &mut finish).await {
                        Either::Left((event, _)) => Some(event),
                        Either::Right(_) => None,
                    }
                };
                match next {
                    Some(event) => {
                        if !record(&trace, event) {
                            return;
                        }
                    }
                    None => {
                        // What was published before the finish.
                        while let Ok(Some(event)) = events.try_recv() {
                            record(&trace, Ok(event));
                        }
                        return;
                    }
                }
            }
        });
        Self { done, task }
    }

    /// Records what is still waiting, and stops.
    pub(crate) async fn finish(self) {
        let _ = self.done.send(());
        let _ = self.task.await;
    }
}

/// Whether to go on listening.
fn record(trace: &Trace, event: Result<crate::LifecycleEvent, EventError>) -> bool {
    match event {
        Ok(event) => trace.record(Step::Lifecycle(event)),
        Err(EventError::Missed(n)) => trace.record(Step::EventsMissed(n)),
        Err(EventError::Closed) => return false,
    }
    true
}

/// Keeps the panics a fault plan injects out of the test's output: the
/// panic hook stays what it was for every other panic. Installed once per
/// process, by the first [`FaultTest::check`](super::FaultTest::check).
pub fn quiet_injected_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let text = (payload.downcast_ref::<&str>().copied())
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !text.is_some_and(|text| text.starts_with("injected fault")) {
                before(info);
            }
        }));
    });
}
