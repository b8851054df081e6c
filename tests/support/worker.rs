//! A worker agent for supervision tests: it counts its incarnations, writes
//! its lifecycle into a shared journal, and fails on command.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
};

use agentix::prelude::*;
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// What the workers of one test did, in order: `"start a 0"`, `"stop a"`.
#[derive(Clone, Default)]
pub(crate) struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub(crate) fn push(&self, entry: String) {
        self.0.lock().push(entry);
    }

    pub(crate) fn entries(&self) -> Vec<String> {
        self.0.lock().clone()
    }

    /// The entries that start with `prefix`.
    pub(crate) fn with_prefix(&self, prefix: &str) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| e.starts_with(prefix))
            .collect()
    }
}

#[derive(Agent)]
#[agent(lifecycle, restart = "permanent")]
pub(crate) struct Worker {
    id: &'static str,
    incarnation: u32,
    seen: Vec<u32>,
    journal: Journal,
}

/// A factory of workers named `id` that write into `journal`; each call is
/// the next incarnation.
pub(crate) fn worker(
    id: &'static str,
    journal: &Journal,
) -> impl Fn() -> Worker + Send + Sync + 'static {
    let journal = journal.clone();
    let incarnations = Arc::new(AtomicU32::new(0));
    move || Worker {
        id,
        incarnation: incarnations.fetch_add(1, Ordering::SeqCst),
        seen: Vec::new(),
        journal: journal.clone(),
    }
}

impl Lifecycle for Worker {
    fn started(&mut self, _: &mut AgentContext<Self>) {
        self.journal
            .push(format!("start {} {}", self.id, self.incarnation));
    }

    fn stopped(&mut self, _: &mut AgentContext<Self>) {
        self.journal.push(format!("stop {}", self.id));
    }
}

#[handlers]
impl Worker {
    #[handle]
    pub(crate) fn fail(&mut self) {
        panic!("{} failed on purpose", self.id)
    }

    #[handle]
    pub(crate) fn quit(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.stop();
    }

    #[handle]
    pub(crate) fn incarnation(&mut self) -> u32 {
        self.incarnation
    }

    #[handle]
    pub(crate) fn record(&mut self, n: u32) {
        self.seen.push(n);
    }

    #[handle]
    pub(crate) fn seen(&mut self) -> Vec<u32> {
        self.seen.clone()
    }

    /// Holds the mailbox until `gate` opens or is dropped.
    #[handle]
    pub(crate) fn hold(
        &mut self,
        gate: oneshot::Receiver<()>,
    ) -> impl Future<Output = ()> + 'static {
        async move {
            let _ = gate.await;
        }
    }
}
