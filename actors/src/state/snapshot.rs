//! Snapshots: a consistent copy of every key under a prefix, as a value
//! that goes to a file and back; and restoring one, as new versions,
//! atomically for the prefix.

use std::{
    collections::BTreeMap,
    fmt, fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use agentix_runtime::AskError;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{
    CommitBatch, Encoded, Key, Meta, StorageError, StoreError, StoreRef, Version,
    freeze::{Freeze, Release, States},
    open::shard_of,
    shard::Op,
    slot::Slot,
};

/// What every snapshot file begins with: a file without it is not one.
const MAGIC: &[u8] = b"agentix-snapshot-1\n";

/// A point-in-time copy of the live keys under a prefix, with their
/// versions and metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The prefix it covers (`None`: every key).
    pub prefix: Option<Key>,
    /// The keys, in key order, with the version each was at.
    pub entries: Vec<(Key, Version)>,
}

/// A snapshot file that could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The file could not be written or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The bytes are not a snapshot (another file, or a damaged one).
    Invalid {
        /// What did not read.
        reason: String,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, reason } => write!(f, "snapshot file {}: {reason}", path.display()),
            Self::Invalid { reason } => write!(f, "not a snapshot: {reason}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// The snapshot as bytes (a header, then bincode).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        // Keys, numbers, strings and bytes: bincode encodes them all.
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard());
        bytes.extend(body.unwrap_or_default());
        bytes
    }

    /// Reads a snapshot from bytes made by [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let invalid = |reason: String| SnapshotError::Invalid { reason };
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| invalid("it lacks the snapshot header".into()))?;
        let (snapshot, read) =
            bincode::serde::decode_from_slice::<Self, _>(body, bincode::config::standard())
                .map_err(|error| invalid(error.to_string()))?;
        if read != body.len() {
            return Err(invalid(format!(
                "{} bytes after the end",
                body.len() - read
            )));
        }
        Ok(snapshot)
    }

    /// Writes the snapshot to `path`.
    pub fn write_to(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        let path = path.as_ref();
        fs::write(path, self.to_bytes()).map_err(|error| SnapshotError::Io {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
    }

    /// Reads a snapshot from `path`.
    pub fn read_from(path: impl AsRef<Path>) -> Result<Self, SnapshotError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|error| SnapshotError::Io {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }
}

impl StoreRef {
    /// A consistent copy of every live key under `prefix` (`""`: all):
    /// every shard is frozen at one point (its commits under way finished,
    /// new writes waiting) while it is taken.
    pub async fn snapshot(&self, prefix: &str) -> Result<Snapshot, StoreError> {
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(Key::new(prefix)?)
        };
        let (states, releases) = self.freeze_all(prefix.clone()).await?;
        drop(releases);
        let entries = states
            .into_iter()
            .flatten()
            .filter(|(_, slot)| !slot.current.is_tombstone())
            .map(|(key, slot)| (key, Version::clone(&slot.current)))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        Ok(Snapshot { prefix, entries })
    }

    /// Brings the keys under the snapshot's prefix back to it, as new
    /// versions (history is kept): keys whose value differs are written,
    /// keys live now but not in the snapshot are deleted. All of it is one
    /// commit, and no write to the store comes between; an open conflict
    /// on a restored key stays open. Returns how many keys were written.
    pub async fn restore(&self, snapshot: &Snapshot) -> Result<usize, StoreError> {
        let (states, releases) = self.freeze_all(snapshot.prefix.clone()).await?;
        let current: BTreeMap<Key, Arc<Slot>> = states.into_iter().flatten().collect();
        let wanted: BTreeMap<&Key, &Option<Encoded>> = snapshot
            .entries
            .iter()
            .filter(|(key, _)| {
                snapshot
                    .prefix
                    .as_ref()
                    .is_none_or(|prefix| key.starts_with(prefix))
            })
            .map(|(key, version)| (key, &version.value))
            .collect();
        let mut written: Vec<States> = vec![Vec::new(); self.shards.len()];
        let none = None;
        let keys = current.keys().chain(wanted.keys().copied());
        let keys: std::collections::BTreeSet<&Key> = keys.collect();
        let mut count = 0;
        for key in keys {
            let prior = current.get(key);
            let target = wanted.get(key).copied().unwrap_or(&none);
            let now = prior.and_then(|slot| slot.current.value.as_ref());
            if now == target.as_ref() {
                continue;
            }
            let version = Version {
                version: prior
                    .map_or(0, |slot| slot.current.version)
                    .saturating_add(1),
                meta: Meta::now(self.writer.clone(), Some(Arc::from("restore"))),
                value: target.clone(),
            };
            let slot = Slot::advance(prior.map(|slot| &**slot), version, self.shared.history);
            written[shard_of(key.as_str(), self.shards.len())].push((key.clone(), Arc::new(slot)));
            count += 1;
        }
        // One task from here: a caller that stops waiting must not leave
        // the commit made and the shards released without it.
        let store = self.clone();
        let finish = async move {
            store.commit_all(&written).await?;
            let mut installed = Vec::with_capacity(releases.len());
            for (release, states) in releases.into_iter().zip(written) {
                let (done, seen) = oneshot::channel();
                let _ = release.send((states, done));
                installed.push(seen);
            }
            // Answered once every shard installed its part: a read after
            // the restore sees it.
            let all = futures_util::future::join_all(installed);
            let agent = store.shards[0].name().clone();
            match tokio::time::timeout(store.timeout, all).await {
                Ok(seen) if seen.iter().all(Result::is_ok) => Ok(count),
                Ok(_) => Err(StoreError::Unavailable(AskError::Closed { agent })),
                Err(_) => Err(StoreError::Unavailable(AskError::Timeout {
                    agent,
                    after: store.timeout,
                })),
            }
        };
        tokio::spawn(finish)
            .await
            .map_err(|error| StoreError::Storage(StorageError::Commit(error.to_string())))?
    }

    /// Freezes every shard; their states under `prefix` and the senders
    /// that release them. Dropping a sender releases its shard.
    async fn freeze_all(
        &self,
        prefix: Option<Key>,
    ) -> Result<(Vec<States>, Vec<oneshot::Sender<Release>>), StoreError> {
        let mut answers = Vec::with_capacity(self.shards.len());
        let mut releases = Vec::with_capacity(self.shards.len());
        for shard in 0..self.shards.len() {
            let (reply, answer) = oneshot::channel();
            let (release, released) = oneshot::channel();
            let freeze = Freeze {
                prefix: prefix.clone(),
                reply,
                release: released,
            };
            let answer = self.post(shard, Op::Freeze(freeze), answer);
            answers.push(answer.await?);
            releases.push(release);
        }
        Ok((answers, releases))
    }

    /// Commits restored states as one batch, off this thread.
    async fn commit_all(&self, written: &[States]) -> Result<(), StoreError> {
        let backend = self.shared.backend.clone();
        if !backend.persistent() {
            return Ok(());
        }
        let mut batch = CommitBatch::default();
        for (key, slot) in written.iter().flatten() {
            batch.entries.push((key.clone(), slot.encode()?));
        }
        let stats = self.shared.stats.clone();
        let count = batch.entries.len();
        let bytes = batch.entries.iter().map(|(_, b)| b.len() as u64).sum();
        let commit = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            backend.commit(&batch).map(|()| started.elapsed())
        });
        let took = commit
            .await
            .map_err(|error| StorageError::Commit(error.to_string()))??;
        stats.committed(count, took, bytes);
        Ok(())
    }
}
