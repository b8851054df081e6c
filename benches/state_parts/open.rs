//! Opening a store of a million keys: the file is built by restoring a
//! snapshot made in memory (one commit, through the public API: a
//! million durable writes through the shards would take the bench's whole
//! budget), the swarm that wrote it shut down so that the file is closed,
//! then `StoreRef::open` is timed on it, each time in a fresh swarm. A
//! directory module, so that cargo does not take it for a bench of its
//! own.

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use agentix::{
    actors::state::{
        Encoded, Key, Meta, Snapshot, StoreConfig, StoreError, StoreRef, Version, Writer,
    },
    prelude::*,
};

use crate::support::median;

pub(crate) const OPEN_KEYS: usize = 1_000_000;
const ROUNDS: usize = 3;

fn swarm() -> agentix::Result<Swarm> {
    let config = SwarmConfig::default()
        .arbiters(2)
        .start_timeout(Duration::from_secs(60));
    Ok(Swarm::start(config)?)
}

/// A snapshot of `OPEN_KEYS` keys, each at version 1 with a `u64` value.
fn snapshot() -> Result<Snapshot, StoreError> {
    let at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |now| now.as_millis() as u64);
    let meta = Meta {
        writer: Writer::label("bench"),
        at_ms,
        tag: None,
    };
    let entries = (0..OPEN_KEYS)
        .map(|i| {
            let version = Version {
                version: 1,
                meta: meta.clone(),
                value: Some(Encoded::new(&(i as u64))?),
            };
            Ok((Key::new(&format!("open.k{i:07}"))?, version))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Snapshot {
        prefix: None,
        entries,
    })
}

/// Builds the file at `path`, then opens it `ROUNDS` times; the median
/// open in ms.
pub(crate) async fn open_1m(path: &Path) -> agentix::Result<f64> {
    let writing = swarm()?;
    let store = StoreRef::open(&writing, StoreConfig::redb(path)).await?;
    let written = store.restore(&snapshot()?).await?;
    assert_eq!(written, OPEN_KEYS);
    drop(store);
    writing.shutdown().await?;

    let mut took_ms = Vec::new();
    for _ in 0..ROUNDS {
        let reading = swarm()?;
        let start = Instant::now();
        let store = StoreRef::open(&reading, StoreConfig::redb(path)).await?;
        took_ms.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(store.stats().keys(), OPEN_KEYS);
        let last = format!("open.k{:07}", OPEN_KEYS - 1);
        let document = store.get::<u64>(&last)?.expect("loaded");
        assert_eq!(document.value, OPEN_KEYS as u64 - 1);
        drop(store);
        reading.shutdown().await?;
    }
    Ok(median(&mut took_ms))
}
