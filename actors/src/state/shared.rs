//! What every shard and every reference share: the published index of
//! current versions (read from any thread, with no lock and no message),
//! the newest fencing token per locked key, the watched prefixes, the
//! backend and the counters.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use arc_swap::ArcSwap;
use tokio::sync::OnceCell;

use super::{Backend, Change, Key, StoreStats, key::under, policy::Policies, slot::Current};
use crate::router::RouterRef;

pub(crate) struct Shared {
    /// Each key's current version, committed. A deleted key's is its
    /// tombstone.
    pub(crate) index: papaya::HashMap<Key, Current, foldhash::fast::RandomState>,
    /// The newest fencing token granted per locked key or prefix.
    pub(crate) fences: papaya::HashMap<Key, u64>,
    /// The newest token granted before the store opened: locks do not
    /// outlive the process, so every token up to it is stale.
    pub(crate) fence_floor: u64,
    /// Prefixes someone watches: changes elsewhere are not published.
    pub(crate) watched: ArcSwap<Vec<(Key, usize)>>,
    /// The router changes are published through, started by the first
    /// watch.
    pub(crate) router: OnceCell<RouterRef<Change>>,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) stats: Arc<StoreStats>,
    pub(crate) history: usize,
    pub(crate) policies: Policies,
    /// The next conflict id.
    pub(crate) conflicts: AtomicU64,
    /// Each shard's inbox of requests.
    pub(crate) inboxes: Box<[super::inbox::Inbox]>,
}

impl Shared {
    /// Whether a write carrying `token` is fenced off `key`: a newer grant
    /// on the key or above it, or a token from before the store opened;
    /// the newest grant that fences it.
    pub(crate) fn fenced(&self, key: &Key, token: u64) -> Option<u64> {
        let newest = self.newest_fence(key);
        (token < newest || token <= self.fence_floor).then(|| newest.max(self.fence_floor))
    }

    /// The newest token granted on `key` or any key above it (0: none).
    fn newest_fence(&self, key: &Key) -> u64 {
        let fences = self.fences.pin();
        key.ancestors()
            .filter_map(|path| fences.get(path).copied())
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn is_watched(&self, key: &Key) -> bool {
        let watched = self.watched.load();
        !watched.is_empty()
            && watched
                .iter()
                .any(|(prefix, _)| under(key.as_str(), prefix.as_str()))
    }

    /// Counts one more watch of `prefix`.
    pub(crate) fn watch(&self, prefix: &Key) {
        self.watched.rcu(|watched| {
            let mut watched = Vec::clone(watched);
            match watched.iter_mut().find(|(kept, _)| kept == prefix) {
                Some((_, count)) => *count += 1,
                None => watched.push((prefix.clone(), 1)),
            }
            watched
        });
    }

    /// Counts one watch of `prefix` less.
    pub(crate) fn unwatch(&self, prefix: &Key) {
        self.watched.rcu(|watched| {
            let mut watched = Vec::clone(watched);
            if let Some((_, count)) = watched.iter_mut().find(|(kept, _)| kept == prefix) {
                *count -= 1;
            }
            watched.retain(|(_, count)| *count > 0);
            watched
        });
    }

    pub(crate) fn next_conflict(&self) -> u64 {
        self.conflicts.fetch_add(1, Ordering::Relaxed)
    }

    /// The id the next conflict will get, to be committed.
    pub(crate) fn next_conflict_peek(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("backend", &self.backend.kind())
            .field("keys", &self.index.len())
            .finish_non_exhaustive()
    }
}
