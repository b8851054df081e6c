//! Fault plans (the testkit) cover a store whose writers panic mid-update:
//! writer agents under a supervisor bump shared keys with `update` and
//! `compare_and_set` while plans panic, stop, delay and stall them.
//! Every write the store acknowledged is in its key's history (or
//! superseded by later versions), no two acknowledged writes share a
//! version, no accepted write was based on anything but the one before,
//! a restarted writer keeps its lock and a stopped one loses it.

#[path = "state_faults/writer.rs"]
mod writer;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use agentix::{
    AgentStatus, AskError,
    actors::state::{StoreConfig, StoreRef},
    prelude::*,
    testkit::{FaultKind, FaultTest, Scene, Shape, eventually},
};
use writer::{Ack, Acks, InFlight, Stamp, StoreWriter, StoreWriterRef, Write, lock_key};

const WRITERS: [&str; 3] = ["w0", "w1", "w2"];
const WRITES: u64 = 12;
/// Fewer than the writes a key gets, so that some acknowledged writes are
/// superseded out of the history and some are still in it.
const HISTORY: usize = 16;
const SETTLE: Duration = Duration::from_secs(5);

/// Runs where a writer restarted after it took its lock, and was found
/// still holding it; runs where a writer stopped for good and lost it. A
/// suite that never saw either would prove nothing about locks.
static RESTARTED_HOLDERS: AtomicU64 = AtomicU64::new(0);
static STOPPED_HOLDERS: AtomicU64 = AtomicU64::new(0);
/// Writes abandoned by a failing writer after it asked the store: the
/// suite must have panicked writers mid-update.
static MID_UPDATE: AtomicU64 = AtomicU64::new(0);

/// The run's store file, removed with the run.
struct StoreFile(PathBuf);

impl StoreFile {
    fn new() -> Self {
        static RUN: AtomicU64 = AtomicU64::new(0);
        let run = RUN.fetch_add(1, Ordering::Relaxed);
        let name = format!("agentix-state-faults-{}-{run}.redb", std::process::id());
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for StoreFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

async fn start_writers(
    scene: &Scene,
    store: &StoreRef,
    acks: &Acks,
    in_flight: &InFlight,
) -> Result<SupervisorRef, String> {
    let mut root = scene
        .swarm()
        .supervisor("writers")
        .strategy(Strategy::OneForOne)
        .intensity(Intensity::new(100, Duration::from_secs(3600)))
        .backoff(Backoff::exponential(
            Duration::from_millis(1),
            Duration::from_millis(2),
        ));
    for name in WRITERS {
        let (store, trace) = (store.clone(), scene.trace().clone());
        let (acks, in_flight) = (acks.clone(), in_flight.clone());
        let spec = ChildSpec::new(name, move || StoreWriter {
            store: store.clone(),
            trace: trace.clone(),
            acks: acks.clone(),
            in_flight: in_flight.clone(),
        });
        // A planned stop ends a writer for good; a panic restarts it.
        root = root.child(spec.restart(Restart::Transient));
    }
    root.start().await.map_err(text)
}

/// Asks `writer` for its lock until it has it (a plan may fail the ask)
/// or it has stopped for good.
async fn hold(writer: &StoreWriterRef) -> Result<bool, String> {
    for _ in 0..10 {
        match writer.hold().await {
            Ok(_) => return Ok(true),
            Err(AskError::Handler { error, .. }) => return Err(error),
            Err(_) if matches!(writer.status(), AgentStatus::Stopped | AgentStatus::Failed) => {
                return Ok(false);
            }
            Err(_) => {}
        }
    }
    Err(format!("{} never took its lock", writer.name()))
}

async fn workload(scene: &Scene) -> Result<(), String> {
    // A file, so that an acknowledged write is a durable one; its commits
    // take long enough that panics land while writes wait for them.
    let file = StoreFile::new();
    let config = StoreConfig::redb(&file.0)
        .history(HISTORY)
        .shards(2)
        .update_attempts(64);
    let store = StoreRef::open(scene.swarm(), config).await.map_err(text)?;
    let (acks, in_flight) = (Acks::default(), InFlight::default());
    let root = start_writers(scene, &store, &acks, &in_flight).await?;
    let writers: Vec<StoreWriterRef> = (WRITERS.iter())
        .map(|name| root.child::<StoreWriter>(name).expect("a StoreWriter"))
        .collect();
    let mut holders = Vec::new();
    for writer in &writers {
        if hold(writer).await? {
            holders.push((writer, writer.restarts()));
        }
    }
    // Each round is paced by a ping behind it: its writes are under way
    // (the store asked) when the next round arrives, so a panic planned
    // for one of those lands in the middle of them.
    for id in 1..=WRITES {
        for writer in &writers {
            if writer.tell(Write { id }).is_ok() {
                scene.trace().sent(writer.name().as_str(), id);
            }
        }
        for writer in &writers {
            let _ = writer.ping().await;
        }
    }
    let settled = async || scene.trace().unaccounted().is_empty() && in_flight.none();
    if !eventually(SETTLE, settled).await {
        return Err("the writes did not settle".into());
    }
    let acked = acks.lock().clone();
    MID_UPDATE.fetch_add(in_flight.abandoned() as u64, Ordering::Relaxed);
    check_writes(&store, &acked).await?;
    check_locks(&store, &holders).await?;
    root.shutdown().await;
    let gone = async || store.locks("locks").await.is_ok_and(|held| held.is_empty());
    if !eventually(SETTLE, gone).await {
        let held = store.locks("locks").await.map_err(text)?;
        return Err(format!("locks outlived their stopped holders: {held:?}"));
    }
    Ok(())
}

/// Every acknowledged write is in its key's history with its value and
/// writer, or older than the history reaches; each version was
/// acknowledged at most once; every version kept counts the writes before
/// it, so no accepted write overwrote one it had not read.
async fn check_writes(store: &StoreRef, acks: &[Ack]) -> Result<(), String> {
    let mut by_key: BTreeMap<&str, Vec<&Ack>> = BTreeMap::new();
    for ack in acks {
        by_key.entry(&ack.key).or_default().push(ack);
    }
    for (key, acks) in by_key {
        let current = store.get_version(key).map_err(text)?;
        let history = store.history(key).await.map_err(text)?;
        let kept: Vec<u64> = history.iter().map(|version| version.version).collect();
        let expected: Vec<u64> = (1..=current).rev().take(HISTORY).collect();
        if kept != expected {
            return Err(format!("{key} at {current} keeps versions {kept:?}"));
        }
        for version in &history {
            let stamp = version.decode::<Stamp>().map_err(text)?;
            let count = stamp.as_ref().map(|stamp| stamp.0);
            if count != Some(version.version) {
                return Err(format!(
                    "{key} version {} holds {stamp:?}: a write was lost under it",
                    version.version
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for ack in acks {
            if !seen.insert(ack.version) {
                return Err(format!("{key} version {} acknowledged twice", ack.version));
            }
            if ack.version > current {
                return Err(format!(
                    "{key} acknowledged at {} but is at {current}",
                    ack.version
                ));
            }
            let Some(version) = history.iter().find(|kept| kept.version == ack.version) else {
                continue;
            };
            let stamp = version.decode::<Stamp>().map_err(text)?;
            let writer = version.meta.writer.name();
            if stamp.as_ref() != Some(&ack.stamp) || writer != ack.stamp.1 {
                return Err(format!(
                    "{key} version {} holds {stamp:?} by {writer}, acknowledged {:?}",
                    ack.version, ack.stamp
                ));
            }
        }
    }
    Ok(())
}

/// Between restarts and the final stop: a writer still alive holds its
/// lock whatever restarts it went through; one a plan stopped for good
/// loses it once the store hears.
/// `holders` are the writers that took their lock, with their restarts
/// then.
async fn check_locks(store: &StoreRef, holders: &[(&StoreWriterRef, u32)]) -> Result<(), String> {
    let holds = async |name: &str| {
        let held = store.locks("locks").await.unwrap_or_default();
        held.iter().any(|lock| {
            lock.key.as_str() == lock_key(name)
                && lock.holder.is_agent()
                && lock.holder.name() == name
        })
    };
    for &(writer, restarts_then) in holders {
        let name = writer.name().as_str();
        if matches!(writer.status(), AgentStatus::Stopped | AgentStatus::Failed) {
            if !eventually(SETTLE, async || !holds(name).await).await {
                return Err(format!("{name} stopped for good and still holds its lock"));
            }
            STOPPED_HOLDERS.fetch_add(1, Ordering::Relaxed);
        } else if !holds(name).await {
            return Err(format!(
                "{name} ({} restarts) lost its lock while alive",
                writer.restarts()
            ));
        } else if writer.restarts() > restarts_then {
            RESTARTED_HOLDERS.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

#[test]
fn writers_failing_mid_update_lose_no_acknowledged_write_and_leave_no_lock() {
    let shape = Shape::new(WRITERS, 2 * WRITES + 1)
        .kinds([
            FaultKind::Panic,
            FaultKind::Stop,
            FaultKind::Delay,
            FaultKind::Stall,
        ])
        .faults(1..=4)
        .max_ms(3);
    FaultTest::new("state_faults")
        .cases(32)
        .track(|write: &Write| write.id)
        .check(shape.plans(), workload)
        .assert_ok();
    assert!(
        RESTARTED_HOLDERS.load(Ordering::Relaxed) > 0,
        "no run restarted a lock holder"
    );
    assert!(
        STOPPED_HOLDERS.load(Ordering::Relaxed) > 0,
        "no run stopped a lock holder"
    );
    assert!(
        MID_UPDATE.load(Ordering::Relaxed) > 0,
        "no panic landed mid-update"
    );
}
