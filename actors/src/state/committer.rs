//! The committing side of group commit, off the shard's thread: batches a
//! shard hands over (encoded) queue here and are written in order, every
//! batch waiting when a transaction starts going into that one
//! transaction, so that the disk never waits for the shard to answer the
//! last batch's writers before it starts on the next one.

use std::{
    collections::VecDeque,
    mem,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Instant,
};

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::{Backend, CommitBatch, Key, StorageError, StoreStats};

/// Where a batch's outcome appears, for the shard to pick up.
#[derive(Debug, Default)]
pub(crate) struct Done {
    outcome: Mutex<Option<Result<(), StorageError>>>,
    ready: Notify,
}

impl Done {
    fn set(&self, outcome: Result<(), StorageError>) {
        *self.outcome.lock() = Some(outcome);
        self.ready.notify_one();
    }

    /// The outcome, once the batch is written or has failed.
    pub(crate) async fn wait(&self) -> Result<(), StorageError> {
        loop {
            let ready = self.ready.notified();
            if let Some(outcome) = self.outcome.lock().take() {
                return outcome;
            }
            ready.await;
        }
    }
}

/// One drain's staged states, encoded (on the shard's thread, so that
/// the disk's thread does nothing but write), and counters.
pub(crate) struct Job {
    pub(crate) entries: Result<Vec<(Key, Vec<u8>)>, StorageError>,
    pub(crate) fence: Option<u64>,
    pub(crate) conflicts: Option<u64>,
    /// The shard's count of failed commits when it decided these writes:
    /// they were decided on top of every batch queued before them.
    pub(crate) epoch: u64,
    pub(crate) done: Arc<Done>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Whether a blocking task is writing (and will look again).
    running: bool,
    /// Batches of this epoch or older fail unwritten: one before them
    /// failed, and they were decided on top of it.
    failed_through: Option<u64>,
}

/// One shard's queue of batches to write.
pub(crate) struct Committer {
    backend: Arc<dyn Backend>,
    stats: Arc<StoreStats>,
    queue: Mutex<Queue>,
}

impl Committer {
    pub(crate) fn new(backend: Arc<dyn Backend>, stats: Arc<StoreStats>) -> Arc<Self> {
        Arc::new(Self {
            backend,
            stats,
            queue: Mutex::default(),
        })
    }

    /// Queues `job`; a blocking task writes it, with whatever else is
    /// queued by then.
    pub(crate) fn submit(self: &Arc<Self>, job: Job) {
        let mut queue = self.queue.lock();
        queue.jobs.push_back(job);
        if mem::replace(&mut queue.running, true) {
            return;
        }
        drop(queue);
        let committer = self.clone();
        tokio::task::spawn_blocking(move || committer.run());
    }

    fn run(&self) {
        loop {
            let (jobs, failed_through) = {
                let mut queue = self.queue.lock();
                if queue.jobs.is_empty() {
                    queue.running = false;
                    return;
                }
                (mem::take(&mut queue.jobs), queue.failed_through)
            };
            let (doomed, mut live): (Vec<_>, Vec<_>) = (jobs.into_iter())
                .partition(|job| failed_through.is_some_and(|through| job.epoch <= through));
            for job in doomed {
                job.done.set(Err(StorageError::Commit(
                    "a batch committed before this one failed".into(),
                )));
            }
            if live.is_empty() {
                continue;
            }
            // A backend that panics fails the batch: the shard must hear
            // back, or it would wait for this commit forever.
            let outcome = catch_unwind(AssertUnwindSafe(|| self.write(&mut live)))
                .unwrap_or_else(|_| Err(StorageError::Commit("the backend panicked".into())));
            if outcome.is_err() {
                // Before anyone hears of it: what the shard queued on top
                // of these must not be written after them.
                let newest = live.iter().map(|job| job.epoch).max();
                self.queue.lock().failed_through = newest;
            }
            for job in live {
                job.done.set(outcome.clone());
            }
        }
    }

    /// Commits `jobs`' entries (moved out) as one transaction.
    fn write(&self, jobs: &mut [Job]) -> Result<(), StorageError> {
        let started = Instant::now();
        let mut batch = CommitBatch {
            entries: Vec::new(),
            fence: jobs.iter().filter_map(|job| job.fence).max(),
            conflicts: jobs.iter().filter_map(|job| job.conflicts).max(),
        };
        for job in jobs.iter_mut() {
            // A batch that did not encode fails the transaction whole.
            let entries = job.entries.as_mut().map_err(|error| error.clone())?;
            batch.entries.append(entries);
        }
        if batch.entries.is_empty() && batch.fence.is_none() && batch.conflicts.is_none() {
            // Answers waiting only for the batches before them.
            return Ok(());
        }
        let bytes = (batch.entries.iter())
            .map(|(_, bytes)| bytes.len() as u64)
            .sum();
        self.backend.commit(&batch)?;
        self.stats
            .committed(batch.entries.len(), started.elapsed(), bytes);
        Ok(())
    }
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("queued", &self.queue.lock().jobs.len())
            .finish_non_exhaustive()
    }
}
