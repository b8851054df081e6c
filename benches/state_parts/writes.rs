//! Writes: compare-and-set from many concurrent writers, each on its own
//! key, answered once committed; the same number of writes committed by
//! raw redb in transactions of the sizes the store's group commit made;
//! and the latency of writes paced at a steady rate. A directory module,
//! so that cargo does not take it for a bench of its own.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use agentix::actors::state::{StoreError, StoreRef, WriteOutcome};
use parking_lot::Mutex;
use redb::{Database, TableDefinition};
use tokio::time::{MissedTickBehavior, interval};

const RAW_TABLE: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("raw");

/// The store's counters at one point.
#[derive(Debug, Clone, Copy)]
struct Counts {
    accepted: u64,
    refused: u64,
    commits: u64,
    bytes: u64,
    commit_ns: u64,
}

impl Counts {
    fn of(store: &StoreRef) -> Self {
        let stats = store.stats();
        Self {
            accepted: stats.writes(WriteOutcome::Accepted),
            refused: stats.writes(WriteOutcome::CasRefused),
            commits: stats.batch_sizes().iter().sum(),
            bytes: stats.bytes_written(),
            commit_ns: stats.commit_latency().sum_ns,
        }
    }
}

/// One round of compare-and-set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CasRound {
    pub(crate) per_s: f64,
    /// Writes accepted and commits made over the round.
    pub(crate) accepted: u64,
    pub(crate) commits: u64,
    /// Bytes the store handed its backend over the round.
    pub(crate) bytes: u64,
    /// The round's length, and how long its commits took in all
    /// (encoding, the backend's write and sync).
    pub(crate) took: Duration,
    pub(crate) committing: Duration,
}

pub(crate) fn cas_key(writer: usize) -> String {
    format!("cas.w{writer}")
}

/// `writers` tasks on the caller's runtime, each making `each`
/// compare-and-sets in a row on its own key, from the version it finds;
/// writes per second from the first call to the last answer.
pub(crate) async fn cas_round(
    store: &StoreRef,
    writers: usize,
    each: usize,
) -> agentix::Result<CasRound> {
    let before = Counts::of(store);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let store = store.clone();
            agentix::actix::spawn(async move {
                let key = cas_key(writer);
                let mut version = store.get_version(&key)?;
                for _ in 0..each {
                    version = store.compare_and_set(&key, version, &version).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer finished")?;
    }
    let took = start.elapsed();
    let after = Counts::of(store);
    assert_eq!(after.refused, before.refused, "each writer owns its key");
    let accepted = after.accepted - before.accepted;
    assert_eq!(accepted, (writers * each) as u64);
    Ok(CasRound {
        per_s: accepted as f64 / took.as_secs_f64(),
        accepted,
        commits: after.commits - before.commits,
        bytes: after.bytes - before.bytes,
        took,
        committing: Duration::from_nanos(after.commit_ns - before.commit_ns),
    })
}

/// Raw redb: `writes` writes over `keys` in `commits` write transactions
/// of the sizes a round of the store made (its mean, spread evenly), each
/// committed with redb's default (immediate) durability, values of
/// `value_len` bytes; writes per second. The keys are written once before
/// the clock starts, so that the timed writes update as the store's do.
pub(crate) async fn raw_redb(
    path: PathBuf,
    keys: Arc<[String]>,
    writes: u64,
    commits: u64,
    value_len: usize,
) -> f64 {
    let work = move || -> Result<f64, redb::Error> {
        let db = Database::create(&path)?;
        let value = vec![7u8; value_len];
        let write = |from: u64, to: u64| -> Result<(), redb::Error> {
            let txn = db.begin_write()?;
            {
                let mut table = txn.open_table(RAW_TABLE)?;
                for w in from..to {
                    table.insert(keys[w as usize % keys.len()].as_str(), value.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write(0, keys.len() as u64)?;
        let start = Instant::now();
        for commit in 0..commits {
            write(commit * writes / commits, (commit + 1) * writes / commits)?;
        }
        Ok(writes as f64 / start.elapsed().as_secs_f64())
    };
    // Off the system's thread, as the store commits.
    let rate = tokio::task::spawn_blocking(work).await;
    rate.expect("the raw writer finished").expect("raw redb")
}

/// Puts paced at `rate` per second for `span`, each on a task of its own
/// so that a slow one holds no later one back; each one's latency from
/// its call to its answer, in µs.
pub(crate) async fn paced(
    store: &StoreRef,
    rate: u32,
    span: Duration,
    keys: usize,
) -> agentix::Result<Vec<u64>> {
    let count = (span.as_secs_f64() * f64::from(rate)) as usize;
    let samples = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut tick = interval(Duration::from_secs(1) / rate);
    // A late tick is made up for at once: the pace stays `rate` on average.
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        tick.tick().await;
        let (store, samples) = (store.clone(), samples.clone());
        tasks.push(agentix::actix::spawn(async move {
            let key = format!("paced.k{}", i % keys);
            let start = Instant::now();
            store.put(&key, &(i as u64)).await?;
            samples.lock().push(start.elapsed().as_micros() as u64);
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("a paced write finished")?;
    }
    Ok(std::mem::take(&mut *samples.lock()))
}
