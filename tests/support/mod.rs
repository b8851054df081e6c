//! Probes shared by the integration tests: waiting with a deadline whose
//! failure says what never happened, capturing dead letters, and noticing
//! when a thread exits. Tests never sleep to wait.
#![allow(dead_code, clippy::mod_module_files)]

use std::{
    future::Future,
    sync::{Arc, mpsc},
    thread::ThreadId,
    time::Duration,
};

use agentix::{DeadLetter, DeadLetterSink, Event, Events, LifecycleEvent};
use parking_lot::Mutex;
use tokio::sync::Notify;

/// How long a test waits for something that should happen promptly.
pub(crate) const PROMPTLY: Duration = Duration::from_secs(5);

/// Awaits `fut`, failing the test with `what` if it takes longer than `limit`.
pub(crate) async fn within<F: Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

pub(crate) mod worker;

/// Waits for the first event that `wanted` accepts, failing the test with
/// `what` after `PROMPTLY`.
pub(crate) async fn next_event(
    events: &mut Events,
    what: &str,
    wanted: impl Fn(&LifecycleEvent) -> bool,
) -> LifecycleEvent {
    within(PROMPTLY, what, async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) => {}
                Err(err) => panic!("while waiting for {what}: {err}"),
            }
        }
    })
    .await
}

/// Whether `event` is `kind` (compared by variant) for the agent `agent`.
pub(crate) fn is(event: &LifecycleEvent, agent: &str, kind: fn(&Event) -> bool) -> bool {
    event.agent().as_str() == agent && kind(event.event())
}

/// A dead-letter sink that keeps every letter for inspection.
#[derive(Default)]
pub(crate) struct DeadLetterProbe {
    letters: Mutex<Vec<DeadLetter>>,
    arrived: Notify,
}

impl DeadLetterProbe {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Waits until at least `count` letters have arrived and returns them all.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<DeadLetter> {
        within(PROMPTLY, &format!("{count} dead letters"), async {
            loop {
                let notified = self.arrived.notified();
                let mut notified = std::pin::pin!(notified);
                notified.as_mut().enable();
                if self.letters.lock().len() >= count {
                    return std::mem::take(&mut *self.letters.lock());
                }
                notified.await;
            }
        })
        .await
    }

    /// The letters received so far.
    pub(crate) fn take(&self) -> Vec<DeadLetter> {
        std::mem::take(&mut *self.letters.lock())
    }
}

impl DeadLetterSink for DeadLetterProbe {
    fn dead_letter(&self, letter: DeadLetter) {
        self.letters.lock().push(letter);
        self.arrived.notify_waiters();
    }
}

/// Reports through a channel when the thread it was installed on exits.
pub(crate) struct ThreadExitProbe {
    thread: ThreadId,
    exited: mpsc::Sender<ThreadId>,
}

thread_local! {
    static EXIT_PROBE: std::cell::RefCell<Option<ThreadExitProbe>> = const { std::cell::RefCell::new(None) };
}

impl ThreadExitProbe {
    /// Installs a probe on the current thread; `exited` receives its id
    /// when the thread's locals are destroyed, i.e. when it exits.
    pub(crate) fn install(exited: mpsc::Sender<ThreadId>) -> ThreadId {
        let thread = std::thread::current().id();
        EXIT_PROBE.with(|cell| *cell.borrow_mut() = Some(Self { thread, exited }));
        thread
    }
}

impl Drop for ThreadExitProbe {
    fn drop(&mut self) {
        let _ = self.exited.send(self.thread);
    }
}
