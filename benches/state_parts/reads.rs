//! Current-value reads from two threads: the store's published index next
//! to a `parking_lot::RwLock<HashMap>` holding the same encoded values, read
//! with the same keys in the same order and decoded the same way, so that
//! what differs is the index (and what `get` does around it). A directory
//! module, so that cargo does not take it for a bench of its own.

use std::{
    collections::HashMap,
    hint::black_box,
    sync::{Arc, Barrier},
    time::Instant,
};

use agentix::{
    actors::state::{Encoded, StoreConfig, StoreError, StoreRef},
    prelude::*,
};
use parking_lot::RwLock;

use crate::support::median;

const KEYS: usize = 100_000;
const THREADS: usize = 2;
const READS_PER_THREAD: usize = 1_000_000;
/// Rounds of the three sides in turn: the machine's speed drifts, so each
/// round's ratio is taken from sides run moments apart, and the median of
/// those reported.
const ROUNDS: usize = 5;
/// Coprime with `KEYS`: each thread visits every key, in an order that
/// jumps across the map as lookups by unrelated callers would.
const STRIDE: usize = 7_919;

/// Reads per second, each side's median over the rounds.
pub(crate) struct Reads {
    /// `get::<u64>`: a typed document, its key and metadata cloned.
    pub(crate) store_per_s: f64,
    /// `get_raw` and a decode: the index and the value, no document.
    pub(crate) store_raw_per_s: f64,
    pub(crate) map_per_s: f64,
    /// The median over rounds of each round's `get` over its map.
    pub(crate) store_vs_map: f64,
}

fn key(i: usize) -> String {
    format!("read.k{i}")
}

/// The `i`-th key thread `thread` reads.
fn pick(thread: usize, i: usize) -> usize {
    (thread * (KEYS / THREADS) + i * STRIDE) % KEYS
}

/// Runs `read` from `THREADS` threads, started together; reads per second.
/// The sum of the values read is checked, so that nothing is optimised
/// away and both sides are seen to read the same values.
fn run(keys: &[String], expected: u64, read: impl Fn(&str) -> u64 + Sync) -> f64 {
    let start_line = Barrier::new(THREADS + 1);
    let (took, sum) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (read, start_line) = (&read, &start_line);
                scope.spawn(move || {
                    start_line.wait();
                    let mut sum = 0u64;
                    for i in 0..READS_PER_THREAD {
                        sum = sum.wrapping_add(read(&keys[pick(thread, i)]));
                    }
                    black_box(sum)
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        let sum = (readers.into_iter())
            .map(|reader| reader.join().expect("a reader finished"))
            .fold(0u64, u64::wrapping_add);
        (start.elapsed(), sum)
    });
    assert_eq!(sum, expected, "both sides read the same values");
    (THREADS * READS_PER_THREAD) as f64 / took.as_secs_f64()
}

/// Fills a memory store and the map with `KEYS` values, then reads both
/// in alternating rounds.
pub(crate) async fn reads(swarm: &Swarm) -> agentix::Result<Reads> {
    let store = StoreRef::open(swarm, StoreConfig::memory()).await?;
    let keys: Arc<[String]> = (0..KEYS).map(key).collect();
    // Concurrent writers: one put at a time would wait for each answer.
    let fillers: Vec<_> = (0..100)
        .map(|filler| {
            let (store, keys) = (store.clone(), keys.clone());
            agentix::actix::spawn(async move {
                for i in (filler..KEYS).step_by(100) {
                    store.put(&keys[i], &(i as u64)).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for filler in fillers {
        filler.await.expect("a filler finished")?;
    }
    let map: RwLock<HashMap<String, Arc<Encoded>>> = RwLock::new(
        (0..KEYS)
            .map(|i| Ok((key(i), Arc::new(Encoded::new(&(i as u64))?))))
            .collect::<Result<_, StoreError>>()?,
    );
    let expected = (0..THREADS)
        .flat_map(|thread| (0..READS_PER_THREAD).map(move |i| pick(thread, i) as u64))
        .fold(0u64, u64::wrapping_add);

    let read_store = |key: &str| {
        let document = store.get::<u64>(key).expect("a valid key");
        document.expect("written").value
    };
    let read_store_raw = |key: &str| {
        let version = store.get_raw(key).expect("a valid key");
        let value = version.expect("written").decode::<u64>();
        value.expect("a u64").expect("not deleted")
    };
    let read_map = |key: &str| {
        // The store clones its `Arc` out of the index too, and decodes
        // after: the lock is held for the lookup only.
        let encoded = map.read().get(key).cloned().expect("written");
        encoded.decode::<u64>().expect("a u64")
    };
    let mut rates = [Vec::new(), Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    for _ in 0..ROUNDS {
        rates[0].push(run(&keys, expected, read_store));
        rates[1].push(run(&keys, expected, read_store_raw));
        rates[2].push(run(&keys, expected, read_map));
        ratios.push(rates[0][rates[0].len() - 1] / rates[2][rates[2].len() - 1]);
    }
    let [store, store_raw, map] = rates.map(|mut rates| median(&mut rates));
    Ok(Reads {
        store_per_s: store,
        store_raw_per_s: store_raw,
        map_per_s: map,
        store_vs_map: median(&mut ratios),
    })
}
