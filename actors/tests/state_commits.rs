//! Group commit against a backend that fails: the failed batch's writers,
//! and those of every batch decided on top of it, hear a storage error,
//! and none of their writes is written later or becomes visible; writes
//! after the failure commit as usual.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use agentix::{
    actors::state::{
        Backend, CommitBatch, ConflictId, Counters, Resolution, StorageError, StoreConfig,
        StoreError, StoreRef, Visit,
    },
    prelude::*,
    testkit::eventually,
};
use parking_lot::{Condvar, Mutex};

/// Keeps what it commits in a map; can hold its next commit until let go,
/// and fail it.
#[derive(Debug, Default)]
struct Flaky {
    stored: Mutex<HashMap<String, Vec<u8>>>,
    commits: AtomicUsize,
    hold: Mutex<bool>,
    let_go: Condvar,
    held: AtomicBool,
    fail_next: AtomicBool,
}

impl Flaky {
    fn release(&self) {
        *self.hold.lock() = false;
        self.let_go.notify_all();
    }
}

impl Backend for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }

    fn persistent(&self) -> bool {
        true
    }

    fn load(&self, _each: &mut Visit<'_>) -> Result<Counters, StorageError> {
        Ok(Counters::default())
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StorageError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        let mut hold = self.hold.lock();
        if *hold {
            self.held.store(true, Ordering::SeqCst);
            while *hold {
                self.let_go.wait(&mut hold);
            }
        }
        drop(hold);
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StorageError::Commit("the disk is full".into()));
        }
        let mut stored = self.stored.lock();
        for (key, bytes) in &batch.entries {
            stored.insert(key.to_string(), bytes.clone());
        }
        Ok(())
    }
}

#[agentix::test]
async fn a_failed_commit_fails_what_was_decided_on_top_of_it_and_writes_none_of_it() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let backend = Arc::new(Flaky::default());
    let config = StoreConfig::backend(backend.clone()).timeout(Duration::from_secs(30));
    let store = StoreRef::open(&swarm, config).await.unwrap();
    assert_eq!(store.put("w.before", &0u64).await.unwrap(), 1);

    // The next commit is held, and will fail.
    *backend.hold.lock() = true;
    backend.fail_next.store(true, Ordering::SeqCst);
    let first = agentix::actix::spawn({
        let store = store.clone();
        async move { store.put("w.first", &1u64).await }
    });
    let held = eventually(Duration::from_secs(10), async || {
        backend.held.load(Ordering::SeqCst)
    });
    assert!(held.await, "the commit was held");
    let commits_while_held = backend.commits.load(Ordering::SeqCst);

    // Writes decided while it is held: on top of it.
    let posted = Arc::new(AtomicUsize::new(0));
    let on_top: Vec<_> = (0..20u64)
        .map(|n| {
            let (store, posted) = (store.clone(), posted.clone());
            agentix::actix::spawn(async move {
                let key = format!("w.top{n}");
                // Counted before the write's first poll, which posts it:
                // the test sees 20 only once every write is in the inbox.
                let write = store.put(&key, &n);
                posted.fetch_add(1, Ordering::SeqCst);
                write.await
            })
        })
        .collect();
    let all = eventually(Duration::from_secs(10), async || {
        posted.load(Ordering::SeqCst) == 20
    });
    assert!(all.await, "every write was posted");
    // Answered by the shard in order after those writes: they are decided.
    let nothing = store
        .resolve("w.none", ConflictId(u64::MAX), Resolution::KeepCurrent)
        .await;
    assert!(
        matches!(nothing, Err(StoreError::NoSuchConflict(_))),
        "{nothing:?}"
    );

    backend.release();
    let failed = first.await.unwrap();
    assert!(matches!(failed, Err(StoreError::Storage(_))), "{failed:?}");
    for (n, write) in on_top.into_iter().enumerate() {
        let write = write.await.unwrap();
        assert!(
            matches!(write, Err(StoreError::Storage(_))),
            "w.top{n} was decided on a failed batch: {write:?}"
        );
    }
    // What the failed batch's writers were told is what everyone sees.
    assert_eq!(backend.commits.load(Ordering::SeqCst), commits_while_held);
    let stored: Vec<String> = backend.stored.lock().keys().cloned().collect();
    assert_eq!(stored, ["w.before"], "nothing failed was written after");
    assert!(store.get::<u64>("w.first").unwrap().is_none());
    for n in 0..20 {
        assert!(store.get::<u64>(&format!("w.top{n}")).unwrap().is_none());
    }

    // The store goes on: the next write is decided afresh and committed.
    assert_eq!(store.put("w.first", &2u64).await.unwrap(), 1);
    assert_eq!(store.get::<u64>("w.first").unwrap().unwrap().value, 2);
    assert!(backend.stored.lock().contains_key("w.first"));
    swarm.shutdown().await.unwrap();
}
