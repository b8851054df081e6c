//! The state store's operations as a user calls them: get, get_version,
//! put, compare-and-set, update, delete, list, history; invalid keys and
//! wrong types as typed errors; reads answered without the shard; the
//! counters in the monitor.

use agentix::{
    actors::{
        monitor::{MonitorConfig, MonitorRef},
        state::{
            DecodeError, KeyProblem, StoreConfig, StoreError, StoreRef, Write, WriteOutcome, Writer,
        },
    },
    prelude::*,
};

async fn store(config: StoreConfig) -> (Swarm, StoreRef) {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let store = StoreRef::open(&swarm, config).await.unwrap();
    (swarm, store)
}

#[agentix::test]
async fn versions_start_at_one_and_grow_by_one_per_accepted_write() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    assert_eq!(store.get_version("a.b").unwrap(), 0);
    assert!(store.get::<u64>("a.b").unwrap().is_none());
    assert_eq!(store.put("a.b", &10u64).await.unwrap(), 1);
    assert_eq!(store.put("a.b", &11u64).await.unwrap(), 2);
    let doc = store.get::<u64>("a.b").unwrap().unwrap();
    assert_eq!((doc.value, doc.version, doc.key.as_str()), (11, 2, "a.b"));
    assert_eq!(doc.meta.writer, Writer::default());
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn metadata_names_the_writer_the_time_and_the_tag() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let planner = store.as_writer(Writer::label("planner"));
    let write = Write::put(&"draft".to_string()).unwrap().tag("first pass");
    planner.write("plan", write).await.unwrap();
    let doc = store.get::<String>("plan").unwrap().unwrap();
    assert_eq!(doc.meta.writer.name(), "planner");
    assert!(!doc.meta.writer.is_agent());
    assert_eq!(doc.meta.tag.as_deref(), Some("first pass"));
    assert!(doc.meta.at() >= before);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn compare_and_set_writes_only_on_the_expected_version() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    assert_eq!(store.compare_and_set("k", 0, &1u64).await.unwrap(), 1);
    let refused = store.compare_and_set("k", 0, &2u64).await.unwrap_err();
    let StoreError::VersionMismatch { expected, current } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!((*expected, current.as_ref().unwrap().version), (0, 1));
    assert_eq!(refused.current::<u64>().unwrap().unwrap(), 1);
    assert_eq!(store.compare_and_set("k", 1, &3u64).await.unwrap(), 2);
    assert_eq!(store.get::<u64>("k").unwrap().unwrap().value, 3);
    assert_eq!(store.stats().writes(WriteOutcome::CasRefused), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn concurrent_updates_lose_no_increment() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    // Eight updaters read the same version before any of them commits, so
    // most attempts conflict and are retried. An update that gives up
    // (`Contended`, possible on a loaded machine) wrote nothing.
    let updaters = (0..8).map(|_| {
        let store = store.clone();
        async move {
            let mut done = 0u64;
            for _ in 0..25 {
                match store
                    .update("counter", |n: Option<&u64>| n.copied().unwrap_or(0) + 1)
                    .await
                {
                    Ok(_) => done += 1,
                    Err(StoreError::Contended { .. }) => {}
                    Err(other) => panic!("{other}"),
                }
            }
            done
        }
    });
    let done: u64 = futures_util::future::join_all(updaters)
        .await
        .into_iter()
        .sum();
    assert!(done > 100, "{done} of 200 updates went through");
    assert_eq!(store.get::<u64>("counter").unwrap().unwrap().value, done);
    assert!(
        store.stats().writes(WriteOutcome::CasRefused) > 0,
        "no conflict was met"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn update_gives_up_with_contended_after_its_attempts() {
    let (swarm, store) = store(StoreConfig::memory().update_attempts(1)).await;
    let updaters = (0..8).map(|_| {
        let store = store.clone();
        async move {
            store
                .update("counter", |n: Option<&u64>| n.copied().unwrap_or(0) + 1)
                .await
        }
    });
    let outcomes = futures_util::future::join_all(updaters).await;
    let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let contended = (outcomes.iter())
        .filter(|outcome| matches!(outcome, Err(StoreError::Contended { attempts: 1 })))
        .count();
    assert_eq!(won + contended, 8, "{outcomes:?}");
    assert!(contended > 0, "{outcomes:?}");
    assert_eq!(
        store.get::<u64>("counter").unwrap().unwrap().value,
        won as u64
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn delete_leaves_a_tombstone_that_keeps_counting_versions() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    assert_eq!(store.delete("gone").await.unwrap(), 0, "nothing to delete");
    store.put("gone", &1u64).await.unwrap();
    assert_eq!(store.delete("gone").await.unwrap(), 2);
    assert!(store.get::<u64>("gone").unwrap().is_none());
    assert_eq!(store.get_version("gone").unwrap(), 2);
    assert!(store.get_raw("gone").unwrap().unwrap().is_tombstone());
    assert_eq!(store.delete("gone").await.unwrap(), 2, "already deleted");
    assert_eq!(store.put("gone", &3u64).await.unwrap(), 3);
    let history = store.history("gone").await.unwrap();
    let versions: Vec<_> = history
        .iter()
        .map(|v| (v.version, v.is_tombstone()))
        .collect();
    assert_eq!(versions, [(3, false), (2, true), (1, false)]);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn history_keeps_the_last_n_versions_newest_first() {
    let (swarm, store) = store(StoreConfig::memory().history(3)).await;
    for n in 1..=5u64 {
        store.put("h", &n).await.unwrap();
    }
    let values: Vec<u64> = (store.history("h").await.unwrap().iter())
        .map(|v| v.decode::<u64>().unwrap().unwrap())
        .collect();
    assert_eq!(values, [5, 4, 3]);
    swarm.shutdown().await.unwrap();
    let (swarm, store) = store_with_no_history().await;
    store.put("h", &1u64).await.unwrap();
    assert!(store.history("h").await.unwrap().is_empty());
    swarm.shutdown().await.unwrap();
}

async fn store_with_no_history() -> (Swarm, StoreRef) {
    store(StoreConfig::memory().history(0)).await
}

#[agentix::test]
async fn list_returns_live_documents_under_whole_tokens_in_key_order() {
    let (swarm, store) = store(StoreConfig::memory().shards(3)).await;
    for key in ["docs.b", "docs.a", "docs", "docsx", "docs.a.deep", "other"] {
        store.put(key, &key.len()).await.unwrap();
    }
    store.delete("docs.b").await.unwrap();
    let keys: Vec<String> = (store.list::<usize>("docs").await.unwrap().into_iter())
        .map(|doc| doc.key.to_string())
        .collect();
    assert_eq!(keys, ["docs", "docs.a", "docs.a.deep"]);
    assert_eq!(store.list_raw("").await.unwrap().len(), 5);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn invalid_keys_are_typed_errors_that_say_what_is_wrong() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    for bad in ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "é"] {
        let Err(StoreError::Key(error)) = store.put(bad, &1u64).await else {
            panic!("{bad:?} was accepted");
        };
        assert!(error.to_string().contains("invalid key"), "{error}");
        assert!(matches!(store.get::<u64>(bad), Err(StoreError::Key(_))));
    }
    let long = "k".repeat(300);
    let Err(StoreError::Key(error)) = store.get_version(&long) else {
        panic!()
    };
    assert!(matches!(error.problem(), KeyProblem::TooLong { len: 300 }));
    assert!(matches!(
        store.list::<u64>("a..b").await,
        Err(StoreError::Key(_))
    ));
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn reading_with_the_wrong_type_is_a_decode_error() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    store.put("n", &7u32).await.unwrap();
    let error = store.get::<u64>("n").unwrap_err();
    let StoreError::Decode(DecodeError::WrongType { stored, asked }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!((stored.as_str(), asked.as_str()), ("u32", "u64"));
    store.put("s", &"text").await.unwrap();
    assert_eq!(store.get::<String>("s").unwrap().unwrap().value, "text");
    assert!(store.get::<Vec<u8>>("s").is_err());
    assert!(
        store.list::<u64>("").await.is_err(),
        "one document is a String"
    );
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn reads_need_no_message_to_the_shard() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    store.put("r", &1u64).await.unwrap();
    // With its only shard stopped, the store takes no writes, and reads
    // are still answered from the published index.
    let shard = store.shard_agents()[0].clone();
    shard.stop();
    shard.stopped().await;
    assert!(matches!(
        store.put("r", &2u64).await,
        Err(StoreError::Unavailable(_))
    ));
    assert_eq!(store.get::<u64>("r").unwrap().unwrap().value, 1);
    assert_eq!(store.get_version("r").unwrap(), 1);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn the_monitor_counts_reads_writes_commits_and_keys() {
    let (swarm, store) = store(StoreConfig::memory()).await;
    let monitor = MonitorRef::start(&swarm, MonitorConfig::default())
        .await
        .unwrap();
    monitor.watch_store(&store).await.unwrap();
    store.put("m.a", &1u64).await.unwrap();
    store.put("m.b", &1u64).await.unwrap();
    let _ = store.compare_and_set("m.a", 7, &2u64).await;
    let _ = store.get::<u64>("m.a");
    let snapshot = monitor.snapshot().await.unwrap();
    let stats = &snapshot.stores[0];
    assert_eq!(
        (stats.keys, stats.reads, stats.backend.as_str()),
        (2, 1, "memory")
    );
    assert_eq!(stats.writes["accepted"], 2);
    assert_eq!(stats.writes["cas_refused"], 1);
    assert!(stats.commit_batches.iter().map(|(_, n)| n).sum::<u64>() >= 1);
    let text = monitor.prometheus().await.unwrap();
    assert!(text.contains("agentix_state_writes_total{store="), "{text}");
    assert!(text.contains("outcome=\"cas_refused\"} 1"), "{text}");
    assert!(text.contains("agentix_state_keys{"), "{text}");
    assert!(
        text.contains("agentix_state_commit_seconds_bucket"),
        "{text}"
    );
    swarm.shutdown().await.unwrap();
}
