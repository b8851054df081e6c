//! Opening a store: the backend, its documents loaded into the index and
//! the shards, the shards started.

use std::{
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::AtomicU64},
};

use agentix_runtime::{AgentRef, ConfigError, SpawnError, Swarm};
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use tokio::sync::OnceCell;

use super::policy::panic_text;
use super::{
    Backend, Key, KeyError, RedbBackend, StorageError, StoreConfig, StoreStats, config::Storage,
    locks::LockTable, policy::Policies, shard::StoreShard, shared::Shared, slot::Slot,
};
use super::{committed::Committed, inbox::Inbox};
use crate::stable_hash::fnv1a;

/// Why a store did not open.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// A setting is out of range.
    Config(ConfigError),
    /// A policy's prefix is not a valid key.
    Key(KeyError),
    /// The file could not be opened, is not a store, or is damaged.
    Storage(StorageError),
    /// A shard's agent did not start.
    Spawn(SpawnError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => write!(f, "{error}"),
            Self::Key(error) => write!(f, "{error}"),
            Self::Storage(error) => write!(f, "{error}"),
            Self::Spawn(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<ConfigError> for OpenError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl From<KeyError> for OpenError {
    fn from(error: KeyError) -> Self {
        Self::Key(error)
    }
}

impl From<StorageError> for OpenError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

impl From<SpawnError> for OpenError {
    fn from(error: SpawnError) -> Self {
        Self::Spawn(error)
    }
}

/// Retired index entries reclaimed at once (see `load`).
const RECLAIM_BATCH: usize = 512;

/// Which shard keeps `key`.
pub(crate) fn shard_of(key: &str, shards: usize) -> usize {
    (fnv1a(key.as_bytes()) % shards.max(1) as u64) as usize
}

/// What loading found.
struct Loaded {
    shared: Arc<Shared>,
    shards: Vec<Committed>,
    fence: u64,
}

/// Opens the backend and loads it, off the caller's thread (a file of a
/// million keys takes a while).
pub(crate) async fn open(
    swarm: &Swarm,
    config: &StoreConfig,
) -> Result<(Arc<Shared>, Vec<AgentRef<StoreShard>>), OpenError> {
    config.validate()?;
    let mut policies = Policies::default();
    for (prefix, policy) in &config.policies {
        policies.set(Key::new(prefix)?, policy.clone());
    }
    let storage = config.storage.clone();
    let (history, shards, mailbox) = (config.history, config.shards, config.mailbox);
    let loading = tokio::task::spawn_blocking(move || {
        let (backend, location): (Arc<dyn Backend>, String) = match storage {
            Storage::Redb(path) => {
                let location = path.display().to_string();
                (Arc::new(RedbBackend::open(&path)?), location)
            }
            Storage::Backend(backend) => {
                let location = format!("the {} backend", backend.kind());
                (backend, location)
            }
        };
        // The database checks what it reads, but a page damaged in a way
        // it did not foresee can make it panic: that is a damaged file.
        let place = location.clone();
        catch_unwind(AssertUnwindSafe(|| {
            load(backend, location, (history, shards, mailbox), policies)
        }))
        .unwrap_or_else(|panic| {
            Err(OpenError::Storage(StorageError::Damaged {
                path: place.into(),
                reason: format!("reading it panicked: {}", panic_text(&*panic)),
            }))
        })
    });
    let loaded = loading.await.map_err(|error| {
        OpenError::Storage(StorageError::Damaged {
            path: "the store's loading task".into(),
            reason: error.to_string(),
        })
    })??;
    let Loaded {
        shared,
        shards: mut states,
        fence,
    } = loaded;
    let mut agents = Vec::with_capacity(states.len());
    for (shard, slots) in states.drain(..).enumerate() {
        let shared_for = shared.clone();
        let events = (shard == 0).then(|| swarm.events());
        let lock_swarm = (shard == 0).then(|| swarm.clone());
        // Made once: the shard keeps its state across restarts.
        let first = Mutex::new(Some((slots, events, lock_swarm)));
        let factory = move || {
            let (slots, events, swarm) = first.lock().take().unwrap_or_default();
            let mut agent = StoreShard::new(shared_for.clone(), shard, slots, events, swarm);
            if shard == 0 {
                agent.locks = LockTable::starting_at(fence);
            }
            agent
        };
        let arbiter = shard % swarm.arbiters().max(1);
        let spawn = swarm
            .agent(factory)
            .mailbox(config.mailbox)
            .ask_timeout(config.timeout)
            .on_arbiter(arbiter);
        agents.push(spawn.spawn().await?);
    }
    shared.stats.set_name(agents[0].name().as_str());
    Ok((shared, agents))
}

fn load(
    backend: Arc<dyn Backend>,
    location: String,
    (history, shards, mailbox): (usize, usize, usize),
    policies: Policies,
) -> Result<Loaded, OpenError> {
    let mut loaded: Vec<Vec<(Key, Arc<Slot>)>> = vec![Vec::new(); shards];
    let mut conflicts = 0u64;
    let mut open_conflicts = 0u64;
    let counters = backend.load(&mut |key, bytes| {
        let parsed = Key::new(key).map_err(|error| StorageError::Damaged {
            path: location.clone().into(),
            reason: error.to_string(),
        })?;
        let slot = Slot::decode(key, bytes, &location)?;
        if let Some(conflict) = &slot.conflict {
            conflicts = conflicts.max(conflict.id.0 + 1);
            open_conflicts += 1;
        }
        loaded[shard_of(key, shards)].push((parsed, Arc::new(slot)));
        Ok(())
    })?;
    // Sized once, since the count is known now: a million keys would
    // otherwise grow each map some twenty times.
    let total = loaded.iter().map(Vec::len).sum();
    // Each write retires the version it replaces; reclaiming costs a
    // barrier across every core, so it is done in batches of 512. A
    // resize is finished by the write that starts it: an incremental one
    // is carried on only by later writes, and until it ends every read of
    // a key not yet moved searches both tables.
    let index = papaya::HashMap::builder()
        .hasher(foldhash::fast::RandomState::default())
        .capacity(total)
        .resize_mode(papaya::ResizeMode::Blocking)
        .collector(seize::Collector::new().batch_size(RECLAIM_BATCH))
        .build();
    {
        let pinned = index.pin();
        for (key, slot) in loaded.iter().flatten() {
            pinned.insert(key.clone(), (*slot.current).clone());
        }
    }
    let states: Vec<Committed> = loaded.into_iter().map(Committed::from_states).collect();
    let stats = Arc::new(StoreStats::new(backend.kind()));
    stats.set_keys(index.len());
    for _ in 0..open_conflicts {
        stats.conflict(true);
    }
    let shared = Shared {
        index,
        fences: papaya::HashMap::new(),
        fence_floor: counters.fence,
        watched: ArcSwap::default(),
        router: OnceCell::new(),
        backend,
        stats,
        history,
        policies,
        conflicts: AtomicU64::new(conflicts.max(counters.conflicts).max(1)),
        inboxes: (0..shards).map(|_| Inbox::new(mailbox)).collect(),
    };
    Ok(Loaded {
        shared: Arc::new(shared),
        shards: states,
        fence: counters.fence,
    })
}
