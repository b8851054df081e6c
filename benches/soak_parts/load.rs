//! The load of the soak bench: driver agents running one loop each on
//! their arbiter (flooding the busy agent, telling workers, publishing),
//! and the panics and asks sent from the main thread. A directory module,
//! so that cargo does not take it for a bench of its own.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::{
    actors::router::{Publish, RouterRef, Topic},
    prelude::*,
};

use crate::{
    ASK_DEADLINE, ASK_EVERY, PANIC_EVERY, PANICS_PER_TICK, TELL_WAIT, TOPICS,
    agents::{BusyRef, Churn, Work, WorkerRef},
    measure::probe,
};

/// What a load loop sent: accepted (at once or after waiting), or not.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sent {
    pub(crate) ok: u64,
    pub(crate) failed: u64,
}

impl Sent {
    fn count(&mut self, taken: bool) {
        if taken {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Adds up loops; one that did not report counts for nothing.
    pub(crate) fn sum<E>(all: impl IntoIterator<Item = Result<Sent, E>>) -> Sent {
        all.into_iter()
            .flatten()
            .fold(Sent::default(), |a, b| Sent {
                ok: a.ok + b.ok,
                failed: a.failed + b.failed,
            })
    }
}

/// Runs one load loop on its arbiter (a serial async handler: one loop
/// per driver).
#[derive(Agent, Default)]
#[agent(ask_timeout_ms = 120_000)]
pub(crate) struct Driver;

#[handlers]
impl Driver {
    /// Keeps `busy`'s mailbox non-empty until `until`.
    #[handle]
    pub(crate) fn flood(
        &mut self,
        busy: BusyRef,
        until: Instant,
    ) -> impl Future<Output = Sent> + 'static {
        async move {
            let mut sent = Sent::default();
            while Instant::now() < until {
                sent.count(busy.tell_wait(Churn).await.is_ok());
            }
            sent
        }
    }

    /// Tells random workers until `until`, waiting for room when full.
    #[handle]
    pub(crate) fn tells(
        &mut self,
        workers: Arc<[WorkerRef]>,
        seed: u64,
        until: Instant,
    ) -> impl Future<Output = Sent> + 'static {
        async move {
            let (mut rng, mut sent) = (Rng(seed), Sent::default());
            while Instant::now() < until {
                let worker = &workers[rng.below(workers.len())];
                let taken = match worker.tell(Work { fail: false }) {
                    Ok(()) => true,
                    Err(err) if err.is_full() => {
                        let wait = worker.tell_wait(err.into_inner());
                        wait.timeout(TELL_WAIT).await.is_ok()
                    }
                    Err(_) => false,
                };
                sent.count(taken);
                if (sent.ok + sent.failed).is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            sent
        }
    }

    /// Publishes on the topics in turn until `until`, waiting for room.
    #[handle]
    pub(crate) fn feed(
        &mut self,
        router: RouterRef<u64>,
        until: Instant,
    ) -> impl Future<Output = Sent> + 'static {
        async move {
            let topics: Vec<Topic> = (0..TOPICS)
                .map(|t| Topic::new(&format!("soak.t{t}")).expect("a valid topic"))
                .collect();
            let mut sent = Sent::default();
            while Instant::now() < until {
                let n = sent.ok + sent.failed;
                let topic = topics[n as usize % TOPICS].clone();
                sent.count(router.send_wait(Publish::new(topic, n)).await.is_ok());
                if (n + 1).is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            sent
        }
    }
}

/// xorshift64: which worker next, the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Sends `PANICS_PER_TICK` panics to random workers every `PANIC_EVERY`
/// until `until` (a full mailbox refuses one).
pub(crate) async fn panics(workers: &[WorkerRef], until: Instant) -> Sent {
    let (mut rng, mut sent) = (Rng(7), Sent::default());
    let mut tick = tokio::time::interval(PANIC_EVERY);
    while Instant::now() < until {
        tick.tick().await;
        for _ in 0..PANICS_PER_TICK {
            let worker = &workers[rng.below(workers.len())];
            sent.count(worker.tell(Work { fail: true }).is_ok());
        }
    }
    sent
}

/// The asks to workers: sent, timed out, failed otherwise.
#[derive(Default)]
pub(crate) struct AskTally {
    pub(crate) sent: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// Asks a random worker every `ASK_EVERY` until `until`, each on its own
/// task with a 2 s deadline, then waits for the last answers.
pub(crate) async fn asks(workers: &[WorkerRef], until: Instant, tally: &Arc<AskTally>) {
    let mut rng = Rng(11);
    let grace = ASK_DEADLINE + Duration::from_secs(1);
    probe(ASK_EVERY, until, grace, || {
        let (worker, tally) = (workers[rng.below(workers.len())].clone(), tally.clone());
        async move {
            tally.sent.fetch_add(1, Relaxed);
            let answer = worker.square(3).timeout(ASK_DEADLINE).await;
            let count = match &answer {
                Ok(_) => return true,
                Err(AskError::Timeout { .. }) => &tally.timed_out,
                Err(_) => &tally.failed,
            };
            count.fetch_add(1, Relaxed);
            false
        }
    })
    .await;
}
