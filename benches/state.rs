//! The state store next to what one would write by hand, in one process:
//! current-value reads against a `RwLock<HashMap>`, durable
//! compare-and-set against raw redb committing the same batches, the same
//! load in memory, the latency of paced durable writes, the open of a
//! million-key file, and the live heap under 30 s of mixed load. One swarm
//! of 2 arbiters; stores of one shard (the default).
//!
//! - `state_get_per_s`: `StoreRef::get::<u64>` from 2 threads over 100k
//!   keys (memory backend), 1M reads per thread; against it a
//!   `parking_lot::RwLock<HashMap<String, Arc<Encoded>>>` read with the
//!   same keys in the same order and decoded the same way
//!   (`state_get/vs_rwlock_hashmap`, target ≥ 0.8: the median of 5 rounds'
//!   ratios, each round running both sides in turn). For context,
//!   `state_get_raw_per_s`: `get_raw` and a decode, no typed document.
//! - `state_cas_durable_per_s`: 1,000 writers (tasks on the system's
//!   thread), each making 100 compare-and-sets in a row on its own key,
//!   redb file, each answered after its commit (target ≥ 100k/s); against
//!   it raw redb committing as many writes of the same size in as many
//!   transactions, each with immediate durability
//!   (`state_cas_durable/vs_redb_batched`, target ≥ 0.8). For context,
//!   the mean batch, bytes per write, ms per commit and ms per batch.
//! - `state_cas_memory_per_s`: the same writers, 300 compare-and-sets
//!   each, memory backend (target ≥ 1 M/s).
//! - `state_write_p99_us`: puts paced at 1,000 a second for 5 s on the
//!   durable store, each on its own task, from call to answer.
//! - `state_open_1m_keys_ms`: `StoreRef::open` on a closed redb file of
//!   1M keys, in a fresh swarm; median of 3 (target ≤ 2,000).
//! - `state_heap_growth_mb_per_s`: least-squares slope of the resident
//!   memory over the last 20 s of 30 s of mixed load on a durable store
//!   (target ≤ 0.5), in a process of its own (this bench run again with
//!   `STATE_BENCH_ONLY=sustained`), so that nothing the other parts left
//!   allocated hides growth.
//!
//! No counting global allocator: its shared counters, touched by every
//! allocation and free of every thread, cost the store's writes a fifth.
//! The allocator keeps freed memory for reuse, so the resident size of a
//! fresh process grows when, and only when, the live heap outgrows what it
//! ever was: under a load whose live heap levels off, it levels off too.
//!
//! Medians over 3 rounds unless said. About 65 s on 2 cores.
//!
//! Run with `cargo bench --bench state`. Prints one `name value` per line.

use std::{path::PathBuf, sync::Arc, time::Duration};

use agentix::{
    actors::state::{StoreConfig, StoreRef},
    prelude::*,
};

#[path = "state_parts/open.rs"]
mod open;
#[path = "state_parts/reads.rs"]
mod reads;
mod support;
#[path = "state_parts/sustained.rs"]
mod sustained;
#[path = "state_parts/writes.rs"]
mod writes;

use support::{median, percentile, print};
use writes::{CasRound, cas_key, cas_round, paced, raw_redb};

const WRITERS: usize = 1_000;
/// Each writer's compare-and-sets per round: enough for history to fill
/// (10 versions) in the warm-up, so that the timed rounds write key
/// states of a steady size.
const WARM_UP_EACH: usize = 20;
const DURABLE_EACH: usize = 100;
const MEMORY_EACH: usize = 300;
const ROUNDS: usize = 3;
const PACED_RATE: u32 = 1_000;
const PACED_FOR: Duration = Duration::from_secs(5);
const PACED_KEYS: usize = 1_000;
const SUSTAINED: Duration = Duration::from_secs(30);
/// The heap's slope is taken over the load's last this much.
const SLOPE_OVER: Duration = Duration::from_secs(20);

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("agentix-state-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Durable compare-and-set rounds, each followed by raw redb committing
/// what the round committed. Prints the rounds' medians: the store's
/// rate, raw redb's, the ratio of each round's pair, and what the rounds
/// committed: mean batch, bytes per write, how long a commit took and how
/// long the round lasted per commit (the difference is the time between
/// one commit's end and the next one's start).
async fn durable_cas(store: &StoreRef, dir: &TempDir) -> agentix::Result<()> {
    cas_round(store, WRITERS, WARM_UP_EACH).await?;
    let keys: Arc<[String]> = (0..WRITERS).map(cas_key).collect();
    let mut figures: [Vec<f64>; 7] = Default::default();
    for round in 0..ROUNDS {
        let CasRound {
            per_s,
            accepted,
            commits,
            bytes,
            took,
            committing,
        } = cas_round(store, WRITERS, DURABLE_EACH).await?;
        let value_len = (bytes / accepted) as usize;
        let path = dir.0.join(format!("raw-{round}.redb"));
        let raw = raw_redb(path, keys.clone(), accepted, commits, value_len).await;
        let per_commit_ms = |span: Duration| span.as_secs_f64() * 1e3 / commits as f64;
        let round = [
            per_s,
            raw,
            per_s / raw,
            accepted as f64 / commits as f64,
            value_len as f64,
            per_commit_ms(committing),
            per_commit_ms(took),
        ];
        for (figure, value) in figures.iter_mut().zip(round) {
            figure.push(value);
        }
    }
    let names = [
        "state_cas_durable_per_s",
        "redb_batched_per_s",
        "state_cas_durable/vs_redb_batched",
        "state_cas_durable_mean_batch",
        "state_cas_durable_bytes_per_write",
        "state_cas_durable_commit_ms",
        "state_cas_durable_ms_per_batch",
    ];
    for (name, mut values) in names.into_iter().zip(figures) {
        print(name, median(&mut values));
    }
    Ok(())
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let dir = TempDir::new();
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
    // `STATE_BENCH_ONLY=memory` (or `durable`, `reads`, `paced`, `open`,
    // `sustained`) runs that part alone, for a profiler.
    if let Ok(part) = std::env::var("STATE_BENCH_ONLY") {
        return only(&swarm, &dir, &part).await;
    }

    let reads = reads::reads(&swarm).await?;
    print("state_get_per_s", reads.store_per_s);
    print("state_get_raw_per_s", reads.store_raw_per_s);
    print("rwlock_hashmap_get_per_s", reads.map_per_s);
    print("state_get/vs_rwlock_hashmap", reads.store_vs_map);

    let durable = StoreRef::open(&swarm, StoreConfig::redb(dir.0.join("cas.redb"))).await?;
    durable_cas(&durable, &dir).await?;

    let memory = StoreRef::open(&swarm, StoreConfig::memory()).await?;
    cas_round(&memory, WRITERS, WARM_UP_EACH).await?;
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        rates.push(cas_round(&memory, WRITERS, MEMORY_EACH).await?.per_s);
    }
    print("state_cas_memory_per_s", median(&mut rates));
    drop(memory);

    let mut latencies = paced(&durable, PACED_RATE, PACED_FOR, PACED_KEYS).await?;
    print("state_write_p99_us", percentile(&mut latencies, 0.99));
    print("state_write_p50_us", percentile(&mut latencies, 0.5));
    drop(durable);

    let open_ms = open::open_1m(&dir.0.join("open.redb")).await?;
    print("state_open_1m_keys_ms", open_ms);

    swarm.shutdown().await?;
    // In a fresh process: see the module's docs.
    let status = std::env::current_exe().and_then(|bench| {
        std::process::Command::new(bench)
            .env("STATE_BENCH_ONLY", "sustained")
            .status()
    });
    match status {
        Ok(status) if status.success() => {}
        other => panic!("the sustained part failed: {other:?}"),
    }
    Ok(())
}

/// The sustained mixed load, and what it did to the resident memory.
async fn mixed_load(swarm: &Swarm, dir: &TempDir) -> agentix::Result<()> {
    let mixed = StoreRef::open(swarm, StoreConfig::redb(dir.0.join("mixed.redb"))).await?;
    let load = sustained::sustained(&mixed, SUSTAINED).await;
    let from = (SUSTAINED - SLOPE_OVER).as_secs_f64();
    let last: Vec<_> = (load.heap.iter().filter(|(t, _)| *t >= from).copied()).collect();
    print("state_heap_growth_mb_per_s", support::slope(&last));
    let heap_at = |i: Option<&(f64, f64)>| i.map_or(0.0, |(_, mb)| *mb);
    print("state_resident_start_mb", heap_at(load.heap.first()));
    print("state_resident_end_mb", heap_at(load.heap.last()));
    let secs = load.took.as_secs_f64();
    print("state_mixed_writes_per_s", load.writes as f64 / secs);
    print("state_mixed_reads_per_s", load.reads as f64 / secs);
    print("state_mixed_writes_failed", load.failed as f64);
    drop(mixed);
    Ok(())
}

/// One part alone, for a profiler.
async fn only(swarm: &Swarm, dir: &TempDir, part: &str) -> agentix::Result<()> {
    match part {
        "memory" => {
            let memory = StoreRef::open(swarm, StoreConfig::memory()).await?;
            for _ in 0..ROUNDS * 3 {
                let rate = cas_round(&memory, WRITERS, MEMORY_EACH).await?.per_s;
                print("state_cas_memory_per_s", rate);
            }
        }
        "durable" => {
            let durable = StoreRef::open(swarm, StoreConfig::redb(dir.0.join("cas.redb"))).await?;
            durable_cas(&durable, dir).await?;
        }
        "reads" => {
            let reads = reads::reads(swarm).await?;
            print("state_get_per_s", reads.store_per_s);
            print("state_get_raw_per_s", reads.store_raw_per_s);
            print("rwlock_hashmap_get_per_s", reads.map_per_s);
            print("state_get/vs_rwlock_hashmap", reads.store_vs_map);
        }
        "open" => print(
            "state_open_1m_keys_ms",
            open::open_1m(&dir.0.join("open.redb")).await?,
        ),
        "paced" => {
            let durable =
                StoreRef::open(swarm, StoreConfig::redb(dir.0.join("paced.redb"))).await?;
            let mut latencies = paced(&durable, PACED_RATE, PACED_FOR, PACED_KEYS).await?;
            print("state_write_p99_us", percentile(&mut latencies, 0.99));
            print("state_write_p50_us", percentile(&mut latencies, 0.5));
            print("state_write_max_us", percentile(&mut latencies, 1.0));
        }
        "sustained" => mixed_load(swarm, dir).await?,
        other => eprintln!("no part {other}: reads, durable, memory, paced, open, sustained"),
    }
    Ok(())
}
