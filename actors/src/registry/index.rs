//! The registry's indices: the registry actor's own copy, changed in place,
//! and the published copy every thread reads without a lock or a message.
//!
//! Names are split into shards and each label (capability or tag) has its
//! own candidate list, so a change republishes only the shard and the lists
//! it touched: registering one agent copies ~1/64 of the names and the
//! lists of its labels, not the whole registry; a batch republishes each
//! once.

use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher},
    sync::{Arc, atomic::AtomicUsize},
};

use agentix_runtime::AgentName;
use arc_swap::ArcSwap;

use super::{Entry, Label};

/// Name shards: enough that one registration copies little.
const NAME_SHARDS: usize = 64;

type Names = HashMap<AgentName, Arc<Entry>>;

/// A capability or a tag: the two are indexed apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Capability(Label),
    Tag(Label),
}

/// The agents carrying one label, and the round-robin cursor over them.
#[derive(Debug)]
pub(crate) struct Candidates {
    pub(crate) entries: Box<[Arc<Entry>]>,
    pub(crate) cursor: AtomicUsize,
}

/// What readers see.
pub(crate) struct Published {
    names: Box<[ArcSwap<Names>]>,
    lists: ArcSwap<HashMap<Key, Arc<Candidates>>>,
}

impl Published {
    pub(crate) fn new() -> Self {
        Self {
            names: (0..NAME_SHARDS).map(|_| ArcSwap::default()).collect(),
            lists: ArcSwap::default(),
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<Arc<Entry>> {
        self.names[shard(name)].load().get(name).cloned()
    }

    /// The shortest of the lists for `keys`: every agent carrying all of
    /// `keys` is in it. `None` when a key has no agent.
    pub(crate) fn narrowest(&self, keys: &[Key]) -> Option<Arc<Candidates>> {
        let lists = self.lists.load();
        let mut best: Option<&Arc<Candidates>> = None;
        for key in keys {
            let list = lists.get(key)?;
            if best.is_none_or(|best| list.entries.len() < best.entries.len()) {
                best = Some(list);
            }
        }
        best.cloned()
    }

    /// Every registered entry (for sweeps and counts; not a hot path).
    pub(crate) fn len(&self) -> usize {
        self.names.iter().map(|shard| shard.load().len()).sum()
    }
}

fn shard(name: &str) -> usize {
    // A fixed hasher: the shard of a name must not change between calls.
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(name);
    (hash % NAME_SHARDS as u64) as usize
}

fn keys(entry: &Entry) -> impl Iterator<Item = Key> + '_ {
    let capabilities = entry.capabilities.iter().cloned().map(Key::Capability);
    capabilities.chain(entry.tags.iter().cloned().map(Key::Tag))
}

/// The registry actor's copy.
#[derive(Default)]
pub(crate) struct Master {
    names: Vec<Names>,
    lists: HashMap<Key, Vec<Arc<Entry>>>,
    dirty_shards: HashSet<usize>,
    dirty_keys: HashSet<Key>,
}

impl Master {
    pub(crate) fn new() -> Self {
        Self {
            names: (0..NAME_SHARDS).map(|_| Names::new()).collect(),
            ..Self::default()
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Entry>> {
        self.names[shard(name)].get(name)
    }

    /// Adds `entry`, replacing one of the same name (which is returned).
    pub(crate) fn insert(&mut self, entry: Arc<Entry>) -> Option<Arc<Entry>> {
        let old = self.remove(&entry.name.clone());
        for key in keys(&entry) {
            self.lists
                .entry(key.clone())
                .or_default()
                .push(entry.clone());
            self.dirty_keys.insert(key);
        }
        let at = shard(entry.name.as_str());
        self.names[at].insert(entry.name.clone(), entry);
        self.dirty_shards.insert(at);
        old
    }

    pub(crate) fn remove(&mut self, name: &AgentName) -> Option<Arc<Entry>> {
        let at = shard(name.as_str());
        let entry = self.names[at].remove(name)?;
        self.dirty_shards.insert(at);
        for key in keys(&entry) {
            if let Some(list) = self.lists.get_mut(&key) {
                list.retain(|other| !Arc::ptr_eq(other, &entry));
                if list.is_empty() {
                    self.lists.remove(&key);
                }
            }
            self.dirty_keys.insert(key);
        }
        Some(entry)
    }

    /// Removes every entry whose agent has ended for good; how many.
    pub(crate) fn sweep(&mut self) -> usize {
        let gone: Vec<AgentName> = (self.names.iter())
            .flat_map(|shard| shard.values())
            .filter(|entry| entry.is_gone())
            .map(|entry| entry.name.clone())
            .collect();
        for name in &gone {
            self.remove(name);
        }
        gone.len()
    }

    /// Makes the changes visible to readers.
    pub(crate) fn publish(&mut self, published: &Published) {
        for at in self.dirty_shards.drain() {
            published.names[at].store(Arc::new(self.names[at].clone()));
        }
        if self.dirty_keys.is_empty() {
            return;
        }
        let mut lists = HashMap::clone(&published.lists.load());
        for key in self.dirty_keys.drain() {
            match self.lists.get(&key) {
                Some(entries) => {
                    // Round-robin carries on where it was.
                    let cursor = (lists.get(&key))
                        .map(|old| old.cursor.load(std::sync::atomic::Ordering::Relaxed))
                        .unwrap_or(0);
                    let candidates = Candidates {
                        entries: entries.as_slice().into(),
                        cursor: AtomicUsize::new(cursor),
                    };
                    lists.insert(key, Arc::new(candidates));
                }
                None => {
                    lists.remove(&key);
                }
            }
        }
        published.lists.store(Arc::new(lists));
    }
}
