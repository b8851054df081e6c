//! The state store agrees with a plain model of versioned values: for
//! generated sequences of puts, compare-and-sets (right and wrong),
//! deletes, updates, writes based on older versions under last- and
//! first-writer-wins, reads, listings, history and snapshot restores, on
//! one shard and on three, in memory and in a redb file (which, opened
//! again, still holds every acknowledged write).

#[path = "state_model/model.rs"]
mod model;

use std::sync::atomic::{AtomicU64, Ordering};

use agentix::{
    actix,
    actors::state::{ConflictPolicy, Snapshot, StoreConfig, StoreError, StoreRef, Write, Writer},
    prelude::*,
};
use model::{Call, Model, Op, Outcome};
use proptest::{
    prelude::{Just, ProptestConfig, Strategy, prop, prop_assert_eq, prop_oneof, proptest},
    test_runner::TestCaseError,
};

fn op() -> impl Strategy<Value = Op> {
    let key = || 0..model::KEYS.len();
    let prefix = || 0..model::PREFIXES.len();
    let value = || 0..1000u64;
    prop_oneof![
        4 => (key(), value()).prop_map(|(key, value)| Op::Put { key, value }),
        2 => (key(), value()).prop_map(|(key, value)| Op::CasRight { key, value }),
        2 => (key(), 0..4u64, value())
            .prop_map(|(key, guess, value)| Op::CasWrong { key, guess, value }),
        3 => key().prop_map(|key| Op::Delete { key }),
        2 => (key(), 1..10u64).prop_map(|(key, add)| Op::Update { key, add }),
        3 => (key(), 0..3u64, value())
            .prop_map(|(key, back, value)| Op::Based { key, back, value }),
        1 => key().prop_map(|key| Op::Get { key }),
        1 => key().prop_map(|key| Op::GetVersion { key }),
        1 => prefix().prop_map(|prefix| Op::List { prefix }),
        2 => key().prop_map(|key| Op::History { key }),
        1 => prefix().prop_map(|prefix| Op::Snapshot { prefix }),
        1 => Just(Op::Restore),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..40)
}

fn config(storage: StoreConfig, shards: usize, depth: usize) -> StoreConfig {
    storage
        .shards(shards)
        .history(depth)
        .policy("fww", ConflictPolicy::FirstWriterWins)
        .policy("lww", ConflictPolicy::LastWriterWins)
}

/// A refusal as the model states it; any other error fails the case.
fn refused(error: StoreError) -> Result<Outcome, String> {
    match error {
        StoreError::VersionMismatch { expected, current } => {
            let value = current.as_ref().map(|current| current.decode::<u64>());
            Ok(Outcome::Mismatch {
                expected,
                current: current.as_ref().map_or(0, |current| current.version),
                value: value
                    .transpose()
                    .map_err(|error| error.to_string())?
                    .flatten(),
            })
        }
        StoreError::Stale { current } => Ok(Outcome::Stale {
            current: current.version,
            value: current.decode::<u64>().map_err(|error| error.to_string())?,
        }),
        other => Err(format!("an unexpected error: {other}")),
    }
}

fn written(answer: Result<u64, StoreError>) -> Result<Outcome, String> {
    answer.map_or_else(refused, |version| Ok(Outcome::Written(version)))
}

/// Calls the store; `snapshot` is the last one taken.
async fn perform(
    store: &StoreRef,
    call: &Call,
    snapshot: &mut Option<Snapshot>,
) -> Result<Outcome, String> {
    let text = |error: StoreError| error.to_string();
    match *call {
        Call::Put(key, value) => written(store.put(key, &value).await),
        Call::Cas(key, expected, value) => {
            written(store.compare_and_set(key, expected, &value).await)
        }
        Call::Delete(key) => written(store.delete(key).await),
        Call::Update(key, add) => {
            let next = |old: Option<&u64>| old.map_or(add, |old| old + add);
            written(store.update(key, next).await)
        }
        Call::Based(key, based_on, value) => {
            let write = Write::put(&value).map_err(text)?.based_on(based_on);
            written(store.write(key, write).await)
        }
        Call::Get(key) => {
            let document = store.get::<u64>(key).map_err(text)?;
            Ok(Outcome::Read(document.map(|doc| (doc.version, doc.value))))
        }
        Call::GetVersion(key) => Ok(Outcome::Version(store.get_version(key).map_err(text)?)),
        Call::List(prefix) => {
            let listed = store.list::<u64>(prefix).await.map_err(text)?;
            let listed = listed
                .into_iter()
                .map(|doc| (doc.key.to_string(), doc.version, doc.value));
            Ok(Outcome::Listed(listed.collect()))
        }
        Call::History(key) => {
            let mut versions = Vec::new();
            for version in store.history(key).await.map_err(text)? {
                let value = version.decode::<u64>().map_err(|error| error.to_string())?;
                versions.push((version.version, value));
            }
            Ok(Outcome::History(versions))
        }
        Call::Snapshot(prefix) => {
            let taken = store.snapshot(prefix).await.map_err(text)?;
            // What a file would give back is what was taken.
            let read = Snapshot::from_bytes(&taken.to_bytes()).map_err(|e| e.to_string())?;
            if read != taken {
                return Err("the snapshot changed on its way through bytes".into());
            }
            let mut entries = Vec::new();
            for (key, version) in &taken.entries {
                let value = version.decode::<u64>().map_err(|error| error.to_string())?;
                let value = value.ok_or("a snapshot holds a tombstone")?;
                entries.push((key.to_string(), version.version, value));
            }
            *snapshot = Some(taken);
            Ok(Outcome::Snapshot(entries))
        }
        Call::Restore => match snapshot {
            None => Ok(Outcome::NoSnapshot),
            Some(snapshot) => Ok(Outcome::Restored(
                store.restore(snapshot).await.map_err(text)?,
            )),
        },
    }
}

async fn open(swarm: &Swarm, config: StoreConfig) -> Result<StoreRef, TestCaseError> {
    let store = StoreRef::open(swarm, config).await;
    let store = store.map_err(|error| TestCaseError::fail(format!("open: {error}")))?;
    Ok(store.as_writer(Writer::label("model")))
}

/// Runs `ops` on the store and the model side by side, then reads every
/// key back.
async fn agree(store: &StoreRef, model: &mut Model, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut snapshot = None;
    for (step, op) in ops.iter().enumerate() {
        let call = model.call(op);
        let actual = perform(store, &call, &mut snapshot).await;
        let actual = actual.map_err(|why| TestCaseError::fail(format!("step {step}: {why}")))?;
        let expected = model.apply(&call);
        prop_assert_eq!(actual, expected, "step {}: {:?} as {:?}", step, op, call);
    }
    read_back(store, model, "after the sequence").await
}

/// Every key's version, value and history, and the listing, as the model
/// has them.
async fn read_back(store: &StoreRef, model: &mut Model, when: &str) -> Result<(), TestCaseError> {
    for call in Model::everything() {
        let actual = perform(store, &call, &mut None).await;
        let actual = actual.map_err(|why| TestCaseError::fail(format!("{when}: {why}")))?;
        prop_assert_eq!(actual, model.apply(&call), "{}: {:?}", when, call);
    }
    Ok(())
}

fn in_memory(ops: &[Op], shards: usize, depth: usize) -> Result<(), TestCaseError> {
    actix::System::new().block_on(async {
        let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
        let store = open(&swarm, config(StoreConfig::memory(), shards, depth)).await?;
        let outcome = agree(&store, &mut Model::new(depth), ops).await;
        swarm.shutdown().await.unwrap();
        outcome
    })
}

/// A file of its own per case, removed when the case ends.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("agentix-state-model-{}-{n}.redb", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn in_a_file(ops: &[Op], shards: usize, depth: usize) -> Result<(), TestCaseError> {
    let file = TempFile::new();
    actix::System::new().block_on(async {
        let mut model = Model::new(depth);
        let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
        let store = open(&swarm, config(StoreConfig::redb(&file.0), shards, depth)).await?;
        let outcome = agree(&store, &mut model, ops).await;
        drop(store);
        swarm.shutdown().await.unwrap();
        outcome?;
        // The file alone holds the store now: what was acknowledged is there.
        let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
        let store = open(&swarm, config(StoreConfig::redb(&file.0), shards, depth)).await?;
        let outcome = read_back(&store, &mut model, "opened again").await;
        drop(store);
        swarm.shutdown().await.unwrap();
        outcome
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_store_in_memory_agrees_with_the_model(
        ops in ops(),
        shards in prop_oneof![Just(1usize), Just(3)],
        depth in prop_oneof![Just(0usize), Just(1), Just(3)],
    ) {
        in_memory(&ops, shards, depth)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_store_in_a_redb_file_agrees_with_the_model_and_keeps_it(
        ops in ops(),
        shards in prop_oneof![Just(1usize), Just(3)],
        depth in prop_oneof![Just(0usize), Just(3)],
    ) {
        in_a_file(&ops, shards, depth)?;
    }
}

// What the model found, one rule at a time: a restore is answered before
// its versions reach the index that reads come from, and the rule that a
// delete with nothing to delete writes nothing is kept only by the caller,
// so a delete decided after another one writes a second tombstone.

#[agentix::test]
async fn a_read_after_a_restore_sees_what_it_restored() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, StoreConfig::memory()).await.unwrap();
    for round in 0..20 {
        let key = format!("plan.r{round}");
        let before = store.snapshot(&key).await.unwrap();
        store.put(&key, &1u64).await.unwrap();
        assert_eq!(store.restore(&before).await.unwrap(), 1);
        let read = store.get::<u64>(&key).unwrap().map(|doc| doc.version);
        assert_eq!(
            read, None,
            "round {round}: restored to absent (tombstone 2)"
        );
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn two_deletes_of_one_key_leave_one_tombstone() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, StoreConfig::memory()).await.unwrap();
    for round in 0..20 {
        let key = format!("plan.d{round}");
        store.put(&key, &1u64).await.unwrap();
        let (first, second) = tokio::join!(store.delete(&key), store.delete(&key));
        let answers = [first.unwrap(), second.unwrap()];
        // The second found nothing to delete: it writes nothing and answers
        // the tombstone's version.
        assert_eq!(answers, [2, 2], "round {round}");
        assert_eq!(store.get_version(&key).unwrap(), 2, "round {round}");
    }
    swarm.shutdown().await.unwrap();
}
