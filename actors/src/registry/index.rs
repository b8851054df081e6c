//! The registry's indices: the registry actor's own copy, changed in place,
//! and the published copy every thread reads without a lock or a message.
//!
//! Names are split into shards and each label (capability or tag) has its
//! own candidate list. The actor's copy and the published one share them
//! (`Arc`) until the next change, which copies only what it touches: one
//! registration copies ~1/64 of the names and the lists of its labels,
//! not the whole registry, and a batch copies each at most once.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::AtomicUsize},
};

use agentix_runtime::AgentName;
use arc_swap::ArcSwap;

use tokio::sync::broadcast;

use super::{Entry, HealthEvent, Label};
use crate::stable_hash::fnv1a;

/// Name shards: enough that one registration copies little; 64 so that
/// the dirty ones fit a `u64`.
const NAME_SHARDS: usize = 64;

type Names = HashMap<AgentName, Arc<Entry>>;

/// Health changes kept for a subscriber that falls behind.
const HEALTH_EVENTS: usize = 1024;

/// A capability or a tag: the two are indexed apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Capability(Label),
    Tag(Label),
}

/// The agents carrying one label, and the round-robin cursor over them.
#[derive(Debug)]
pub(crate) struct Candidates {
    pub(crate) entries: Arc<Vec<Arc<Entry>>>,
    pub(crate) cursor: Arc<AtomicUsize>,
}

/// What readers see.
pub(crate) struct Published {
    names: Box<[ArcSwap<Names>]>,
    lists: ArcSwap<HashMap<Key, Arc<Candidates>>>,
    /// Health changes, for whoever subscribes.
    pub(crate) health: broadcast::Sender<HealthEvent>,
}

impl Published {
    pub(crate) fn new() -> Self {
        Self {
            names: (0..NAME_SHARDS).map(|_| ArcSwap::default()).collect(),
            lists: ArcSwap::default(),
            health: broadcast::Sender::new(HEALTH_EVENTS),
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

    /// Calls `each` with every registered entry (a sample, not a hot path).
    pub(crate) fn for_each(&self, mut each: impl FnMut(&Arc<Entry>)) {
        for shard in self.names.iter() {
            shard.load().values().for_each(&mut each);
        }
    }

    /// How many names are registered.
    pub(crate) fn len(&self) -> usize {
        self.names.iter().map(|shard| shard.load().len()).sum()
    }
}

fn shard(name: &str) -> usize {
    (fnv1a(name.as_bytes()) % NAME_SHARDS as u64) as usize
}

fn keys(entry: &Entry) -> impl Iterator<Item = Key> + '_ {
    let capabilities = entry.capabilities().iter().cloned().map(Key::Capability);
    capabilities.chain(entry.tags().iter().cloned().map(Key::Tag))
}

/// One label's list in the actor's copy.
#[derive(Default)]
struct List {
    entries: Arc<Vec<Arc<Entry>>>,
    cursor: Arc<AtomicUsize>,
    dirty: bool,
}

/// The registry actor's copy.
pub(crate) struct Master {
    names: Vec<Arc<Names>>,
    lists: HashMap<Key, List>,
    /// Bit `i`: shard `i` changed since the last publish.
    dirty_shards: u64,
    dirty_keys: Vec<Key>,
}

impl Master {
    pub(crate) fn new() -> Self {
        Self {
            names: (0..NAME_SHARDS).map(|_| Arc::default()).collect(),
            lists: HashMap::new(),
            dirty_shards: 0,
            dirty_keys: Vec::new(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Entry>> {
        self.names[shard(name)].get(name)
    }

    /// Every entry.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.names.iter().flat_map(|shard| shard.values())
    }

    /// Makes room for `more` names (a batch), so the shards grow once.
    pub(crate) fn reserve(&mut self, more: usize) {
        for names in &mut self.names {
            Arc::make_mut(names).reserve(more / NAME_SHARDS + 1);
        }
    }

    /// Adds `entry`; the entry it replaced under the same name, if any,
    /// leaves its lists and is returned.
    pub(crate) fn insert(&mut self, entry: Arc<Entry>) -> Option<Arc<Entry>> {
        let at = shard(entry.name.as_str());
        let names = Arc::make_mut(&mut self.names[at]);
        let old = names.insert(entry.name.clone(), entry.clone());
        self.dirty_shards |= 1 << at;
        if let Some(old) = &old {
            self.unlist(old);
        }
        for key in keys(&entry) {
            // One lookup per label: marked dirty on the way.
            let list = self.lists.entry(key.clone()).or_default();
            Arc::make_mut(&mut list.entries).push(entry.clone());
            if !list.dirty {
                list.dirty = true;
                self.dirty_keys.push(key);
            }
        }
        old
    }

    pub(crate) fn remove(&mut self, name: &AgentName) -> Option<Arc<Entry>> {
        let at = shard(name.as_str());
        if !self.names[at].contains_key(name) {
            return None;
        }
        let entry = Arc::make_mut(&mut self.names[at]).remove(name)?;
        self.dirty_shards |= 1 << at;
        self.unlist(&entry);
        Some(entry)
    }

    fn unlist(&mut self, entry: &Arc<Entry>) {
        for key in keys(entry) {
            if let Some(list) = self.lists.get_mut(&key) {
                Arc::make_mut(&mut list.entries).retain(|other| !Arc::ptr_eq(other, entry));
            }
        }
        self.mark_lists(entry);
    }

    /// Notes the lists of `entry` as changed, once each per publish.
    fn mark_lists(&mut self, entry: &Entry) {
        for key in keys(entry) {
            if let Some(list) = self.lists.get_mut(&key)
                && !list.dirty
            {
                list.dirty = true;
                self.dirty_keys.push(key);
            }
        }
    }

    /// Every entry that `keep` refuses leaves; how many.
    pub(crate) fn remove_unless(&mut self, keep: impl Fn(&Entry) -> bool) -> usize {
        let gone: Vec<AgentName> = (self.entries())
            .filter(|entry| !keep(entry))
            .map(|entry| entry.name.clone())
            .collect();
        for name in &gone {
            self.remove(name);
        }
        gone.len()
    }

    /// Makes the changes visible to readers.
    pub(crate) fn publish(&mut self, published: &Published) {
        while self.dirty_shards != 0 {
            let at = self.dirty_shards.trailing_zeros() as usize;
            self.dirty_shards &= !(1 << at);
            published.names[at].store(self.names[at].clone());
        }
        if self.dirty_keys.is_empty() {
            return;
        }
        let mut lists = HashMap::clone(&published.lists.load());
        for key in self.dirty_keys.drain(..) {
            let Some(list) = self.lists.get_mut(&key) else {
                continue;
            };
            list.dirty = false;
            if list.entries.is_empty() {
                self.lists.remove(&key);
                lists.remove(&key);
            } else {
                let candidates = Candidates {
                    entries: list.entries.clone(),
                    cursor: list.cursor.clone(),
                };
                lists.insert(key, Arc::new(candidates));
            }
        }
        published.lists.store(Arc::new(lists));
    }
}
