//! The arbiter pool of a swarm: start-up, placement, stop and join.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    thread::ThreadId,
    time::Duration,
};

use actix_rt::{Arbiter, ArbiterHandle, System};
use parking_lot::Mutex;

use crate::ConfigError;

pub(crate) struct ArbiterPool {
    handles: Vec<ArbiterHandle>,
    thread_ids: Vec<ThreadId>,
    /// Taken by `stop_and_join`; `None` afterwards.
    arbiters: Mutex<Option<Vec<Arbiter>>>,
    next: AtomicUsize,
}

impl ArbiterPool {
    /// Starts `count` arbiters; fails cleanly outside an actix system or
    /// when a thread cannot be started (already started ones are stopped).
    pub(crate) fn start(count: usize, turn_slice: Duration) -> Result<Self, ConfigError> {
        if System::try_current().is_none() {
            return Err(ConfigError::NoSystem);
        }
        let mut arbiters = Vec::with_capacity(count);
        let mut thread_ids = Vec::with_capacity(count);
        for _ in 0..count {
            let arbiter = match Arbiter::try_new() {
                Ok(arbiter) => arbiter,
                Err(err) => {
                    stop_all(arbiters);
                    return Err(ConfigError::ArbiterStart {
                        reason: err.to_string(),
                    });
                }
            };
            // Learn the thread's id, to refuse a shutdown from inside the pool.
            let (tx, rx) = std::sync::mpsc::channel();
            arbiter.spawn_fn(move || {
                crate::budget::set_slice(turn_slice);
                let _ = tx.send(std::thread::current().id());
            });
            match rx.recv() {
                Ok(id) => thread_ids.push(id),
                Err(_) => {
                    stop_all(arbiters);
                    return Err(ConfigError::ArbiterStart {
                        reason: "the arbiter thread exited at start".into(),
                    });
                }
            }
            arbiters.push(arbiter);
        }
        Ok(Self {
            handles: arbiters.iter().map(Arbiter::handle).collect(),
            thread_ids,
            arbiters: Mutex::new(Some(arbiters)),
            next: AtomicUsize::new(0),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.handles.len()
    }

    /// The arbiter for the next agent: `Some(index)` if asked for, otherwise
    /// round-robin.
    pub(crate) fn place(&self, index: Option<usize>) -> Option<(usize, &ArbiterHandle)> {
        let index = index.unwrap_or_else(|| self.next.fetch_add(1, Ordering::Relaxed) % self.len());
        self.handles.get(index).map(|handle| (index, handle))
    }

    /// The arbiter at `index` (from `place`).
    pub(crate) fn handle(&self, index: usize) -> &ArbiterHandle {
        &self.handles[index % self.handles.len()]
    }

    pub(crate) fn runs_on_current_thread(&self) -> bool {
        self.thread_ids.contains(&std::thread::current().id())
    }

    /// Stops every arbiter and waits for its thread to exit. Returns how many
    /// threads ended in a panic.
    pub(crate) async fn stop_and_join(&self) -> usize {
        let Some(arbiters) = self.arbiters.lock().take() else {
            return 0;
        };
        let mut panicked = 0;
        for arbiter in arbiters {
            arbiter.stop();
            // Joining blocks; keep it off this arbiter's event loop.
            match actix_rt::task::spawn_blocking(move || arbiter.join()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => panicked += 1,
            }
        }
        panicked
    }
}

impl Drop for ArbiterPool {
    fn drop(&mut self) {
        // A swarm dropped without `shutdown`: at least let the threads end.
        if let Some(arbiters) = self.arbiters.get_mut().take() {
            stop_all(arbiters);
        }
    }
}

fn stop_all(arbiters: Vec<Arbiter>) {
    for arbiter in arbiters {
        arbiter.stop();
    }
}
