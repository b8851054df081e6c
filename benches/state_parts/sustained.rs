//! Sustained mixed load on a durable store, watching whether the
//! process's resident memory plateaus: writers over a
//! bounded key set making compare-and-sets, updates, deletes and puts, a
//! reader pacing current-value reads, and a sampler of the resident memory every
//! 100 ms. A directory module, so that cargo does not take it for a bench
//! of its own.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::actors::state::{StoreError, StoreRef};
use tokio::time::{MissedTickBehavior, interval};

const KEYS: u64 = 10_000;
const WRITERS: u64 = 64;
const READ_EVERY: Duration = Duration::from_millis(1);
const READS_PER_TICK: u64 = 200;
const HEAP_EVERY: Duration = Duration::from_millis(100);

/// What the load did and what the sampler saw.
pub(crate) struct Sustained {
    /// (seconds into the load, resident MB), every `HEAP_EVERY`.
    pub(crate) heap: Vec<(f64, f64)>,
    /// Writes answered (accepted or refused) and reads, over the load.
    pub(crate) writes: u64,
    pub(crate) reads: u64,
    /// Writes that failed other than by a version mismatch or contention
    /// (a timeout, a storage error): none expected.
    pub(crate) failed: u64,
    pub(crate) took: Duration,
}

#[derive(Default)]
struct Tally {
    writes: AtomicU64,
    reads: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    fn wrote(&self, outcome: Result<u64, StoreError>) {
        self.writes.fetch_add(1, Relaxed);
        match outcome {
            Ok(_) | Err(StoreError::VersionMismatch { .. } | StoreError::Contended { .. }) => {}
            Err(_) => {
                self.failed.fetch_add(1, Relaxed);
            }
        }
    }
}

/// A small seeded generator: the same load each run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn key(i: u64) -> String {
    format!("mix.k{i}")
}

/// One writer: half compare-and-sets (from the version it reads), a fifth
/// updates, a tenth deletes, a fifth blind puts, over random keys.
async fn write_until(store: StoreRef, seed: u64, until: Instant, tally: Arc<Tally>) {
    let mut rng = XorShift(seed);
    while Instant::now() < until {
        let draw = rng.next();
        let key = key(draw % KEYS);
        let outcome = match (draw >> 32) % 10 {
            0..=4 => match store.get_version(&key) {
                Ok(version) => store.compare_and_set(&key, version, &draw).await,
                Err(error) => Err(error),
            },
            5..=6 => (store.update(&key, |value: Option<&u64>| value.map_or(0, |v| v + 1))).await,
            7 => store.delete(&key).await,
            _ => store.put(&key, &draw).await,
        };
        tally.wrote(outcome);
    }
}

/// `READS_PER_TICK` reads of random keys every `READ_EVERY`.
async fn read_until(store: StoreRef, until: Instant, tally: Arc<Tally>) {
    let mut rng = XorShift(0x5eed_0001);
    let mut tick = interval(READ_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let keys: Vec<String> = (0..KEYS).map(key).collect();
    while Instant::now() < until {
        tick.tick().await;
        for _ in 0..READS_PER_TICK {
            let key = &keys[(rng.next() % KEYS) as usize];
            let read = store.get::<u64>(key).expect("a valid key");
            std::hint::black_box(read);
        }
        tally.reads.fetch_add(READS_PER_TICK, Relaxed);
    }
}

/// Runs the load on `store` for `span`, sampling the resident memory.
pub(crate) async fn sustained(store: &StoreRef, span: Duration) -> Sustained {
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let until = start + span;
    let mut tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let seed = 0x9e37_79b9_7f4a_7c15 ^ (writer + 1);
            let load = write_until(store.clone(), seed, until, tally.clone());
            agentix::actix::spawn(load)
        })
        .collect();
    tasks.push(agentix::actix::spawn(read_until(
        store.clone(),
        until,
        tally.clone(),
    )));
    // Reserved up front: the sampler's own vector must not be the growth.
    let mut heap = Vec::with_capacity((span.as_millis() / HEAP_EVERY.as_millis()) as usize + 8);
    let mut tick = interval(HEAP_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while Instant::now() < until {
        tick.tick().await;
        heap.push((start.elapsed().as_secs_f64(), crate::support::resident_mb()));
    }
    for task in tasks {
        task.await.expect("a load task finished");
    }
    Sustained {
        heap,
        writes: tally.writes.load(Relaxed),
        reads: tally.reads.load(Relaxed),
        failed: tally.failed.load(Relaxed),
        took: start.elapsed(),
    }
}
