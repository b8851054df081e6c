//! The store on a redb file: what was acknowledged is there after a
//! reopen (documents, history, conflicts, fencing tokens); a foreign or
//! damaged file is a typed error naming the path; snapshots go to a file
//! and back and restore atomically as new versions; settings over their
//! whole range give typed errors or documented saturation.

use std::{path::PathBuf, time::Duration};

use agentix::{
    actors::state::{
        ConflictPolicy, LockMode, OpenError, Snapshot, SnapshotError, StorageError, StoreConfig,
        StoreError, StoreRef, Write,
    },
    prelude::*,
};

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("agentix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn swarm() -> Swarm {
    Swarm::start(SwarmConfig::default().arbiters(2)).unwrap()
}

#[agentix::test]
async fn what_was_acknowledged_is_there_after_a_reopen() {
    let dir = TempDir::new("state-reopen");
    let path = dir.file("state.redb");
    let config = || {
        StoreConfig::redb(&path)
            .shards(2)
            .policy("m", ConflictPolicy::Manual)
    };
    let token = {
        let swarm = swarm();
        let store = StoreRef::open(&swarm, config()).await.unwrap();
        for n in 1..=3u64 {
            store.put("doc.a", &n).await.unwrap();
        }
        store.put("doc.b", &"b".to_string()).await.unwrap();
        store.put("m.x", &1u64).await.unwrap();
        store.put("m.x", &2u64).await.unwrap();
        let held = store
            .write("m.x", Write::put(&9u64).unwrap().based_on(1))
            .await;
        assert!(matches!(held, Err(StoreError::Held { .. })));
        let lock = store
            .lock("doc", LockMode::Exclusive, Duration::from_secs(60))
            .await
            .unwrap();
        swarm.shutdown().await.unwrap();
        lock.token
    };
    let swarm = swarm();
    let store = StoreRef::open(&swarm, config()).await.unwrap();
    let doc = store.get::<u64>("doc.a").unwrap().unwrap();
    assert_eq!((doc.value, doc.version), (3, 3));
    assert_eq!(store.history("doc.a").await.unwrap().len(), 3);
    assert_eq!(store.get::<String>("doc.b").unwrap().unwrap().value, "b");
    let conflicts = store.conflicts("m").await.unwrap();
    assert_eq!(conflicts.len(), 1, "the held write is kept");
    assert_eq!(store.stats().keys(), 3);
    assert_eq!(store.stats().conflicts_open(), 1);
    // Locks are not kept (their holders are gone), so a token from before
    // the reopen is stale; tokens keep growing.
    let stale = store
        .write("doc.a", Write::put(&9u64).unwrap().fence(token))
        .await;
    assert!(matches!(stale, Err(StoreError::Fenced { .. })), "{stale:?}");
    let lock = store
        .lock("doc", LockMode::Exclusive, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(lock.token > token, "{} after {token}", lock.token);
    assert_eq!(store.put("doc.a", &4u64).await.unwrap(), 4);
    swarm.shutdown().await.unwrap();
}

async fn open_error(path: &std::path::Path) -> StorageError {
    let swarm = swarm();
    let opened = StoreRef::open(&swarm, StoreConfig::redb(path)).await;
    swarm.shutdown().await.unwrap();
    match opened {
        Err(OpenError::Storage(error)) => error,
        other => panic!("{path:?} opened: {other:?}"),
    }
}

#[agentix::test]
async fn conflict_ids_are_never_reused_across_a_reopen() {
    let dir = TempDir::new("state-conflict-ids");
    let path = dir.file("state.redb");
    let config = || StoreConfig::redb(&path).policy("m", ConflictPolicy::Manual);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let swarm = swarm();
        let store = StoreRef::open(&swarm, config()).await.unwrap();
        let version = store.put("m.k", &1u64).await.unwrap();
        store.put("m.k", &2u64).await.unwrap();
        let held = store
            .write("m.k", Write::put(&3u64).unwrap().based_on(version))
            .await;
        let Err(StoreError::Held { conflict }) = held else {
            panic!("{held:?}")
        };
        store
            .resolve(
                "m.k",
                conflict,
                agentix::actors::state::Resolution::KeepCurrent,
            )
            .await
            .unwrap();
        ids.push(conflict);
        swarm.shutdown().await.unwrap();
    }
    assert!(ids[1] > ids[0], "{ids:?}");
}

#[agentix::test]
async fn a_foreign_file_is_a_typed_error_naming_its_path() {
    let dir = TempDir::new("state-foreign");
    let text = dir.file("notes.txt");
    std::fs::write(&text, "these are notes, not a store").unwrap();
    let error = open_error(&text).await;
    assert!(matches!(error, StorageError::Foreign { .. }), "{error:?}");
    assert!(error.to_string().contains("notes.txt"), "{error}");
    // A redb database of another program: tables of its own, no mark.
    let other = dir.file("other.redb");
    {
        let db = redb::Database::create(&other).unwrap();
        let write = db.begin_write().unwrap();
        let table: redb::TableDefinition<'_, u64, u64> = redb::TableDefinition::new("theirs");
        write.open_table(table).unwrap().insert(1, 2).unwrap();
        write.commit().unwrap();
    }
    let error = open_error(&other).await;
    assert!(matches!(error, StorageError::Foreign { .. }), "{error:?}");
    let dir_error = open_error(&dir.0).await;
    assert!(
        dir_error.to_string().contains(&*dir.0.to_string_lossy()),
        "{dir_error}"
    );
}

#[agentix::test]
async fn a_damaged_file_is_a_typed_error_never_a_panic() {
    let dir = TempDir::new("state-damaged");
    let path = dir.file("state.redb");
    {
        let swarm = swarm();
        let store = StoreRef::open(&swarm, StoreConfig::redb(&path))
            .await
            .unwrap();
        for n in 0..200u64 {
            store.put(&format!("k{n}"), &vec![n; 64]).await.unwrap();
        }
        swarm.shutdown().await.unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    // Cut short, and garbled from the header on: each must be refused (or,
    // where redb repairs it, opened), never a panic.
    let cut = dir.file("cut.redb");
    std::fs::write(&cut, &bytes[..bytes.len().min(700)]).unwrap();
    let garbled = dir.file("garbled.redb");
    let mut noisy = bytes.clone();
    for (i, byte) in noisy.iter_mut().enumerate().skip(16) {
        *byte ^= (i % 251) as u8 | 1;
    }
    std::fs::write(&garbled, &noisy).unwrap();
    for file in [cut, garbled] {
        let error = open_error(&file).await;
        assert!(
            error.to_string().contains(&*file.to_string_lossy()),
            "{error}"
        );
    }
}

#[agentix::test]
async fn a_snapshot_goes_to_a_file_and_restores_as_new_versions() {
    let dir = TempDir::new("state-snapshot");
    let swarm = swarm();
    let config = StoreConfig::redb(dir.file("state.redb")).shards(3);
    let store = StoreRef::open(&swarm, config).await.unwrap();
    for key in ["plan.a", "plan.b", "plan.c", "other"] {
        store.put(key, &1u64).await.unwrap();
    }
    let snapshot = store.snapshot("plan").await.unwrap();
    assert_eq!(snapshot.entries.len(), 3);
    snapshot.write_to(dir.file("plan.snapshot")).unwrap();
    store.put("plan.a", &2u64).await.unwrap();
    store.delete("plan.b").await.unwrap();
    store.put("plan.d", &2u64).await.unwrap();
    store.put("other", &2u64).await.unwrap();
    let read = Snapshot::read_from(dir.file("plan.snapshot")).unwrap();
    assert_eq!(read, snapshot);
    assert_eq!(
        store.restore(&read).await.unwrap(),
        3,
        "a, b and d change; c is as it was"
    );
    let values: Vec<(String, u64, u64)> = (store.list::<u64>("").await.unwrap().into_iter())
        .map(|doc| (doc.key.to_string(), doc.value, doc.version))
        .collect();
    let expected = [
        ("other", 2, 2),
        ("plan.a", 1, 3),
        ("plan.b", 1, 3),
        ("plan.c", 1, 1),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(k, v, n)| (k.to_string(), *v, *n))
        .collect();
    assert_eq!(values, expected);
    assert_eq!(
        store.get_version("plan.d").unwrap(),
        2,
        "deleted by the restore"
    );
    assert_eq!(
        store.history("plan.a").await.unwrap().len(),
        3,
        "history kept"
    );
    swarm.shutdown().await.unwrap();
    // The file stays open while a reference to the store is kept.
    drop(store);
    let swarm = self::swarm();
    let store = StoreRef::open(&swarm, StoreConfig::redb(dir.file("state.redb")).shards(3)).await;
    let store = store.unwrap();
    assert_eq!(
        store.get::<u64>("plan.b").unwrap().unwrap().version,
        3,
        "the restore is durable"
    );
    swarm.shutdown().await.unwrap();
}

#[test]
fn a_file_that_is_not_a_snapshot_is_a_typed_error() {
    let dir = TempDir::new("state-badsnap");
    let path = dir.file("x.snapshot");
    std::fs::write(&path, b"agentix-snapshot-1\n\xff\xff\xff").unwrap();
    assert!(matches!(
        Snapshot::read_from(&path),
        Err(SnapshotError::Invalid { .. })
    ));
    std::fs::write(&path, b"hello").unwrap();
    assert!(matches!(
        Snapshot::read_from(&path),
        Err(SnapshotError::Invalid { .. })
    ));
    let missing = Snapshot::read_from(dir.file("missing")).unwrap_err();
    assert!(matches!(missing, SnapshotError::Io { .. }));
    assert!(missing.to_string().contains("missing"));
}

#[agentix::test]
async fn writes_wait_behind_a_snapshot_and_none_is_lost() {
    let swarm = swarm();
    let store = StoreRef::open(&swarm, StoreConfig::memory().shards(2))
        .await
        .unwrap();
    let writers = (0..4u64).map(|w| {
        let store = store.clone();
        async move {
            for n in 0..100u64 {
                store.put(&format!("s.w{w}"), &n).await.unwrap();
            }
        }
    });
    let snapshots = async {
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(store.snapshot("s").await.unwrap().entries.len());
        }
        seen
    };
    let (_, seen) =
        futures_util::future::join(futures_util::future::join_all(writers), snapshots).await;
    assert!(seen.iter().all(|n| *n <= 4));
    for w in 0..4 {
        assert_eq!(store.get_version(&format!("s.w{w}")).unwrap(), 100);
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn settings_over_their_whole_range_are_typed_errors_or_saturate() {
    use agentix::actors::state::{MAX_HISTORY, MAX_STORE_SHARDS};
    let bad = [
        StoreConfig::memory().history(MAX_HISTORY + 1),
        StoreConfig::memory().history(usize::MAX),
        StoreConfig::memory().shards(MAX_STORE_SHARDS + 1),
        StoreConfig::memory().shards(usize::MAX),
        StoreConfig::memory().timeout(Duration::ZERO),
        StoreConfig::memory().mailbox(0),
        StoreConfig::memory().mailbox(usize::MAX),
        StoreConfig::memory().policy("a..b", ConflictPolicy::Manual),
    ];
    let swarm = swarm();
    for config in bad {
        assert!(config.validate().is_err(), "{config:?}");
        let opened = StoreRef::open(&swarm, config).await;
        assert!(
            matches!(opened, Err(OpenError::Config(_) | OpenError::Key(_))),
            "{opened:?}"
        );
    }
    let good = [
        StoreConfig::memory()
            .history(0)
            .shards(0)
            .update_attempts(0),
        StoreConfig::memory()
            .history(1)
            .shards(1)
            .update_attempts(1),
        StoreConfig::memory()
            .history(MAX_HISTORY)
            .update_attempts(u32::MAX),
        StoreConfig::memory().timeout(Duration::MAX).mailbox(1),
    ];
    for config in good {
        let store = StoreRef::open(&swarm, config).await.unwrap();
        assert_eq!(store.put("k", &u64::MAX).await.unwrap(), 1);
        assert_eq!(
            store
                .update("k", |n: Option<&u64>| n.copied().unwrap_or(0) / 2)
                .await
                .unwrap(),
            2
        );
    }
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn extreme_versions_tokens_and_indices_are_typed_errors() {
    let swarm = swarm();
    let store = StoreRef::open(&swarm, StoreConfig::memory()).await.unwrap();
    store.put("x", &1u64).await.unwrap();
    let cas = store.compare_and_set("x", u64::MAX, &2u64).await;
    assert!(matches!(
        cas,
        Err(StoreError::VersionMismatch {
            expected: u64::MAX,
            ..
        })
    ));
    // A base no version has: a conflict, accepted by last-writer-wins.
    let based = Write::put(&3u64).unwrap().based_on(u64::MAX);
    assert_eq!(store.write("x", based).await.unwrap(), 2);
    // No lock was ever granted: a token of u64::MAX is not stale; 0 is
    // never granted (tokens start at 1), so it is.
    let fenced = Write::put(&4u64).unwrap().fence(u64::MAX);
    assert_eq!(store.write("x", fenced).await.unwrap(), 3);
    let zero = store.write("x", Write::put(&5u64).unwrap().fence(0)).await;
    assert!(
        matches!(zero, Err(StoreError::Fenced { token: 0, .. })),
        "{zero:?}"
    );
    let missing = agentix::actors::state::ConflictId(u64::MAX);
    let resolution = agentix::actors::state::Resolution::Take(usize::MAX);
    assert!(matches!(
        store.resolve("x", missing, resolution).await,
        Err(StoreError::NoSuchConflict(_))
    ));
    swarm.shutdown().await.unwrap();
}
