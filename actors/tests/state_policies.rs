//! Conflict policies per key prefix, as a writer meets them: a write based
//! on an older version is accepted (last-writer-wins), refused
//! (first-writer-wins), merged, or held as an open conflict (manual) that
//! a caller lists and resolves; watchers see every accepted change in
//! version order, and are told of conflicts.

use std::time::Duration;

use agentix::{
    actix,
    actors::{
        router::Batch,
        state::{
            Change, ChangeKind, ConflictPolicy, Encoded, Resolution, StoreConfig, StoreError,
            StoreRef, Write, WriteOutcome, Writer,
        },
    },
    prelude::*,
};
use tokio::sync::mpsc;

fn config() -> StoreConfig {
    StoreConfig::memory()
        .policy("fww", ConflictPolicy::FirstWriterWins)
        .policy("manual", ConflictPolicy::Manual)
        .policy(
            "sum",
            ConflictPolicy::merge(|base: Option<&u64>, current: &u64, proposed: u64| {
                // Both sides added to the base: keep both additions.
                let base = base.copied().unwrap_or(0);
                current + proposed.saturating_sub(base)
            }),
        )
        .policy(
            "panicky",
            ConflictPolicy::merge(|_: Option<&u64>, _: &u64, _: u64| -> u64 {
                panic!("merge cannot cope")
            }),
        )
}

async fn open() -> (Swarm, StoreRef) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, config()).await.unwrap();
    (swarm, store)
}

async fn based(store: &StoreRef, key: &str, value: u64, on: u64) -> Result<u64, StoreError> {
    store.write(key, Write::put(&value)?.based_on(on)).await
}

#[agentix::test]
async fn last_writer_wins_accepts_a_write_based_on_an_old_version() {
    let (swarm, store) = open().await;
    store.put("lww.doc", &1u64).await.unwrap();
    store.put("lww.doc", &2u64).await.unwrap();
    assert_eq!(based(&store, "lww.doc", 9, 1).await.unwrap(), 3);
    assert_eq!(store.get::<u64>("lww.doc").unwrap().unwrap().value, 9);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn first_writer_wins_refuses_a_stale_write_with_the_current_document() {
    let (swarm, store) = open().await;
    assert_eq!(store.put("fww.doc", &1u64).await.unwrap(), 1);
    let refused = store.put("fww.doc", &2u64).await.unwrap_err();
    assert!(matches!(refused, StoreError::Stale { .. }), "{refused:?}");
    assert_eq!(refused.current::<u64>().unwrap().unwrap(), 1);
    let stale = based(&store, "fww.doc", 3, 0).await.unwrap_err();
    assert!(matches!(stale, StoreError::Stale { .. }));
    assert_eq!(
        based(&store, "fww.doc", 4, 1).await.unwrap(),
        2,
        "based on the current one"
    );
    // A blind delete is a write like any other: refused on a live key.
    assert!(matches!(
        store.delete("fww.doc").await,
        Err(StoreError::Stale { .. })
    ));
    let delete = Write::delete().based_on(2);
    assert_eq!(store.write("fww.doc", delete).await.unwrap(), 3);
    assert_eq!(
        store.put("fww.doc", &5u64).await.unwrap(),
        4,
        "a deleted key is free"
    );
    assert_eq!(store.stats().writes(WriteOutcome::StaleRefused), 3);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn merge_combines_base_current_and_proposed() {
    let (swarm, store) = open().await;
    store.put("sum.total", &10u64).await.unwrap();
    // Two writers read version 1 (10); one adds 5, the other adds 7.
    assert_eq!(based(&store, "sum.total", 15, 1).await.unwrap(), 2);
    assert_eq!(based(&store, "sum.total", 17, 1).await.unwrap(), 3);
    assert_eq!(store.get::<u64>("sum.total").unwrap().unwrap().value, 22);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_panicking_merge_refuses_the_write_and_the_store_goes_on() {
    let (swarm, store) = open().await;
    store.put("panicky.x", &1u64).await.unwrap();
    store.put("panicky.x", &2u64).await.unwrap();
    let refused = based(&store, "panicky.x", 3, 1).await.unwrap_err();
    let StoreError::MergeFailed(why) = &refused else {
        panic!("{refused:?}")
    };
    assert!(why.contains("merge cannot cope"), "{why}");
    assert_eq!(store.put("panicky.x", &4u64).await.unwrap(), 3);
    swarm.shutdown().await.unwrap();
}

/// Hands every change it is delivered to the test.
#[derive(Agent)]
struct Watcher {
    changes: mpsc::UnboundedSender<Change>,
}

impl actix::Handler<Batch<Change>> for Watcher {
    type Result = ();

    fn handle(&mut self, batch: Batch<Change>, _: &mut AgentContext<Self>) {
        for change in batch.payloads() {
            let _ = self.changes.send(change.clone());
        }
    }
}

async fn next(changes: &mut mpsc::UnboundedReceiver<Change>) -> Change {
    tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .expect("a change within 5 s")
        .expect("the watcher is running")
}

#[agentix::test]
async fn manual_holds_the_write_as_a_conflict_until_a_caller_resolves_it() {
    let (swarm, store) = open().await;
    let (tx, mut changes) = mpsc::unbounded_channel();
    let watcher = swarm
        .spawn("watcher", move || Watcher {
            changes: tx.clone(),
        })
        .await
        .unwrap();
    store.watch("manual", &watcher).await.unwrap();
    store.put("manual.plan", &1u64).await.unwrap();
    store.put("manual.plan", &2u64).await.unwrap();
    let alice = store.as_writer(Writer::label("alice"));
    let held = based(&alice, "manual.plan", 10, 1).await.unwrap_err();
    let StoreError::Held { conflict } = held else {
        panic!("{held:?}")
    };
    let bob = store.as_writer(Writer::label("bob"));
    let also = based(&bob, "manual.plan", 20, 1).await.unwrap_err();
    assert!(matches!(also, StoreError::Held { conflict: same } if same == conflict));
    // Nothing was written: the current version stays.
    assert_eq!(store.get::<u64>("manual.plan").unwrap().unwrap().value, 2);
    let open = store.conflicts("manual").await.unwrap();
    assert_eq!(open.len(), 1);
    let writers: Vec<_> = open[0]
        .candidates
        .iter()
        .map(|c| c.meta.writer.name().to_owned())
        .collect();
    assert_eq!(
        (open[0].current, writers),
        (2, vec!["alice".into(), "bob".into()])
    );
    assert_eq!(store.stats().conflicts_open(), 1);
    // Bob's candidate wins.
    assert_eq!(
        store
            .resolve("manual.plan", conflict, Resolution::Take(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.get::<u64>("manual.plan").unwrap().unwrap().value, 20);
    assert!(store.conflicts("").await.unwrap().is_empty());
    assert!(matches!(
        store
            .resolve("manual.plan", conflict, Resolution::KeepCurrent)
            .await,
        Err(StoreError::NoSuchConflict(_))
    ));
    let mut seen = Vec::new();
    for _ in 0..4 {
        let change = next(&mut changes).await;
        seen.push((change.kind, change.number()));
    }
    assert_eq!(
        seen,
        [
            (ChangeKind::Written, 1),
            (ChangeKind::Written, 2),
            (ChangeKind::ConflictOpened(conflict), 2),
            (ChangeKind::ConflictResolved(conflict), 3),
        ]
    );
    assert_eq!(store.stats().conflicts_open(), 0);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_conflict_resolves_to_a_supplied_value_or_to_the_current_one() {
    let (swarm, store) = open().await;
    store.put("manual.a", &1u64).await.unwrap();
    store.put("manual.a", &2u64).await.unwrap();
    let StoreError::Held { conflict } = based(&store, "manual.a", 3, 1).await.unwrap_err() else {
        panic!()
    };
    let merged = Encoded::new(&99u64).unwrap();
    assert_eq!(
        store
            .resolve("manual.a", conflict, Resolution::Value(merged))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.get::<u64>("manual.a").unwrap().unwrap().value, 99);
    let StoreError::Held { conflict } = based(&store, "manual.a", 4, 1).await.unwrap_err() else {
        panic!()
    };
    assert_eq!(
        store
            .resolve("manual.a", conflict, Resolution::KeepCurrent)
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.get::<u64>("manual.a").unwrap().unwrap().value, 99);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn compare_and_set_ignores_the_policy() {
    let (swarm, store) = open().await;
    store.put("manual.c", &1u64).await.unwrap();
    let refused = store
        .compare_and_set("manual.c", 0, &2u64)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::VersionMismatch { .. }),
        "not held: {refused:?}"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn watch_delivers_every_accepted_change_in_version_order() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, StoreConfig::memory().shards(2))
        .await
        .unwrap();
    let (tx, mut changes) = mpsc::unbounded_channel();
    let watcher = swarm
        .spawn("watcher", move || Watcher {
            changes: tx.clone(),
        })
        .await
        .unwrap();
    let watch = store.watch("w", &watcher).await.unwrap();
    store.put("unwatched", &0u64).await.unwrap();
    let writers = (0..4u64).map(|w| {
        let store = store.clone();
        async move {
            for n in 0..50u64 {
                let key = format!("w.k{}", n % 3);
                store.put(&key, &(w * 1000 + n)).await.unwrap();
            }
        }
    });
    futures_util::future::join_all(writers).await;
    store.delete("w.k0").await.unwrap();
    let mut last = std::collections::HashMap::new();
    for _ in 0..201 {
        let change = next(&mut changes).await;
        assert!(change.key.as_str().starts_with("w."), "{:?}", change.key);
        let before = last
            .insert(change.key.to_string(), change.number())
            .unwrap_or(0);
        assert_eq!(change.number(), before + 1, "{:?} out of order", change.key);
    }
    assert_eq!(last["w.k0"], store.get_version("w.k0").unwrap());
    assert!(store.unwatch(watch.clone()).await.unwrap());
    assert!(!store.unwatch(watch).await.unwrap(), "ended already");
    store.put("w.k1", &1u64).await.unwrap();
    assert!(changes.try_recv().is_err(), "no change after unwatch");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_write_that_does_not_conflict_leaves_an_open_conflict_open() {
    let (swarm, store) = open().await;
    store.put("manual.k", &1u64).await.unwrap();
    store.put("manual.k", &2u64).await.unwrap();
    let StoreError::Held { conflict } = based(&store, "manual.k", 5, 1).await.unwrap_err() else {
        panic!()
    };
    // A blind put, a write based on the current version, a compare-and-set.
    assert_eq!(store.put("manual.k", &3u64).await.unwrap(), 3);
    assert_eq!(based(&store, "manual.k", 4, 3).await.unwrap(), 4);
    assert_eq!(
        store.compare_and_set("manual.k", 4, &6u64).await.unwrap(),
        5
    );
    let open = store.conflicts("manual.k").await.unwrap();
    assert_eq!(open.len(), 1, "the held write still waits for a caller");
    assert_eq!(store.stats().conflicts_open(), 1);
    assert_eq!(
        store
            .resolve("manual.k", conflict, Resolution::Take(0))
            .await
            .unwrap(),
        6
    );
    assert_eq!(store.get::<u64>("manual.k").unwrap().unwrap().value, 5);
    assert_eq!(store.stats().conflicts_open(), 0);
    swarm.shutdown().await.unwrap();
}
