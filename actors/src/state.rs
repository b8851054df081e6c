//! The state store: versioned documents shared by the agents of a swarm,
//! durable on an embedded database.
//!
//! A document lives under a [`Key`] (dot-separated tokens, as topics),
//! holds a typed value (serde, encoded with bincode), a version (1 for the
//! first write, one more per accepted write) and [`Meta`]data: who wrote
//! it, when, with what tag.
//!
//! - **Reads** of the current value ([`StoreRef::get`]) come from a
//!   published lock-free index, on the caller's thread: no message, and
//!   they scale with threads. Listings, history and conflicts ask the
//!   shards.
//! - **Writes** ([`StoreRef::put`], [`compare_and_set`](StoreRef::compare_and_set),
//!   [`update`](StoreRef::update), [`delete`](StoreRef::delete),
//!   [`write`](StoreRef::write)) go to the shard that keeps the key. A
//!   shard decides each write against the newest accepted state, and
//!   commits what one drain of its mailbox brought as one batch (one redb
//!   transaction): a write is answered, and readers see it, only once it is
//!   durable.
//! - **Conflicts**: a write based on an older version than the current one
//!   meets its key's [`ConflictPolicy`]: last-writer-wins,
//!   first-writer-wins, merge, or manual (held as an open [`Conflict`]
//!   until [`resolve`](StoreRef::resolve)d). Every refused or held write
//!   is answered with its reason.
//! - **History and snapshots**: each key keeps its last
//!   [`history`](StoreConfig::history) versions; a [`Snapshot`] of a
//!   prefix is consistent across shards, goes to a file and back, and
//!   [`restore`](StoreRef::restore)s as new versions in one commit.
//! - **Locks** ([`StoreRef::lock`]) with leases and fencing tokens: a write
//!   carrying an older token than the key's newest grant is refused. An
//!   agent's locks go when it stops for good, not when it restarts.
//! - **Watches** ([`StoreRef::watch`]): every accepted change under a
//!   prefix is published through a router on `state.<key>`.
//! - **Backends** behind [`Backend`]: [`MemoryBackend`] and
//!   [`RedbBackend`] (one file, ACID, crash-safe; the default for durable
//!   stores). A damaged or foreign file is a typed [`StorageError`]
//!   naming its path.
//!
//! ```
//! use agentix::prelude::*;
//! use agentix::actors::state::{StoreConfig, StoreRef, Writer};
//!
//! # #[agentix::main] async fn main() -> agentix::Result<()> {
//! let swarm = Swarm::start(SwarmConfig::default())?;
//! let dir = std::env::temp_dir().join(format!("agentix-state-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).expect("a temporary directory");
//! let store = StoreRef::open(&swarm, StoreConfig::redb(dir.join("state.redb"))).await?;
//! let planner = store.as_writer(Writer::label("planner"));
//! planner.put("plan.steps", &vec!["research", "write"]).await?;
//! planner.update("plan.steps", |steps: Option<&Vec<String>>| {
//!     let mut steps = steps.cloned().unwrap_or_default();
//!     steps.push("edit".into());
//!     steps
//! }).await?;
//! let doc = store.get::<Vec<String>>("plan.steps")?.unwrap();
//! assert_eq!(doc.version, 2);
//! assert_eq!(doc.meta.writer.name(), "planner");
//! assert_eq!(store.history("plan.steps").await?.len(), 2);
//! # swarm.shutdown().await?;
//! # std::fs::remove_dir_all(&dir).expect("removed");
//! # Ok(()) }
//! ```

mod backend;
mod commit;
mod committed;
mod committer;
mod config;
mod coordination;
mod document;
mod error;
mod freeze;
mod handle;
mod inbox;
mod key;
mod locks;
mod open;
mod policy;
mod redb_file;
mod requests;
mod shard;
mod shared;
mod slot;
mod snapshot;
mod stats;
mod value_bytes;
mod watch;
mod write;

pub use backend::{Backend, CommitBatch, Counters, MemoryBackend, Visit};
pub use config::{MAX_HISTORY, MAX_STORE_SHARDS, StoreConfig};
pub use coordination::Watch;
pub use document::{Document, Encoded, Meta, Version, Writer};
pub use error::{DecodeError, StorageError, StoreError};
pub use handle::StoreRef;
pub use key::{Key, KeyError, KeyProblem, MAX_KEY_LEN, MAX_KEY_TOKENS};
pub use locks::{Lock, LockMode};
pub use open::OpenError;
pub use policy::{ConflictPolicy, Merger};
pub use redb_file::RedbBackend;
pub use shard::StoreShard;
pub use slot::{Candidate, Conflict, ConflictId, Resolution};
pub use snapshot::{Snapshot, SnapshotError};
pub use stats::{BATCH_BUCKETS, StoreStats, WriteOutcome};
pub use watch::{Change, ChangeKind, WATCH_ROOT};
pub use write::Write;
