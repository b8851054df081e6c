//! A supervisor's table of children, in start order.
//!
//! Start order is key order (keys are handed out as children start), so a
//! child is found by binary search and the table needs no index of its own.
//! A removed child leaves a hole, reclaimed once holes are half the table:
//! removing children one by one costs O(1) amortised, not a shift of 100k
//! entries each.

use std::{any::Any, collections::HashMap, sync::Arc};

use super::ErasedChild;
use crate::{AgentName, agent::shared::AgentShared, restart::RestartWindow};

/// The children of a supervisor in start order.
#[derive(Default)]
pub(crate) struct Children {
    /// Slots sorted by key; `None` is a removed child.
    slots: Vec<(u64, Option<ChildEntry>)>,
    holes: usize,
    /// Child ids to keys: a supervisor may have 100k children.
    by_id: HashMap<AgentName, u64>,
}

pub(crate) struct ChildEntry {
    pub(crate) key: u64,
    pub(crate) spec: Arc<dyn ErasedChild>,
    pub(crate) shared: Arc<AgentShared>,
    /// The typed reference (`AgentRef<A>` or `SupervisorRef`), for lookups.
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
    /// Start layer; a later layer depends on an earlier one.
    pub(crate) layer: usize,
    /// Its restarts in the intensity window: the backoff's attempt.
    pub(crate) recent: RestartWindow,
}

impl ChildEntry {
    pub(crate) fn new(
        key: u64,
        spec: Arc<dyn ErasedChild>,
        shared: Arc<AgentShared>,
        handle: Arc<dyn Any + Send + Sync>,
        layer: usize,
    ) -> Self {
        Self {
            key,
            spec,
            shared,
            handle,
            layer,
            recent: RestartWindow::default(),
        }
    }

    pub(crate) fn id(&self) -> &AgentName {
        self.spec.id()
    }
}

impl Children {
    /// Makes room for `more` children at once, instead of growing by
    /// doubling (and copying) while 100k children start.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.slots.reserve(more);
        self.by_id.reserve(more);
    }

    /// Adds a child after those with smaller keys (normally: at the end).
    pub(crate) fn push(&mut self, entry: ChildEntry) {
        self.by_id.insert(entry.id().clone(), entry.key);
        let key = entry.key;
        if self.slots.last().is_none_or(|(last, _)| *last < key) {
            self.slots.push((key, Some(entry)));
        } else {
            let at = self.slots.partition_point(|(k, _)| *k < key);
            self.slots.insert(at, (key, Some(entry)));
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<ChildEntry> {
        let at = self.position(key)?;
        let entry = self.slots[at].1.take()?;
        self.by_id.remove(entry.id());
        self.holes += 1;
        if self.holes * 2 > self.slots.len() {
            self.slots.retain(|(_, entry)| entry.is_some());
            self.holes = 0;
        }
        Some(entry)
    }

    /// The slot of child `key`; slots are the positions
    /// [`Strategy::affected`](super::Strategy) counts in.
    pub(crate) fn position(&self, key: u64) -> Option<usize> {
        let at = self.slots.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        self.slots[at].1.as_ref().map(|_| at)
    }

    pub(crate) fn entry(&self, key: u64) -> Option<&ChildEntry> {
        self.get(self.position(key)?)
    }

    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut ChildEntry> {
        let at = self.position(key)?;
        self.slots[at].1.as_mut()
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<&ChildEntry> {
        self.entry(*self.by_id.get(id)?)
    }

    /// The children in start order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ChildEntry> {
        self.slots.iter().filter_map(|(_, entry)| entry.as_ref())
    }

    /// The number of slots, holes included.
    pub(crate) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// The child in slot `at`, if it holds one.
    pub(crate) fn get(&self, at: usize) -> Option<&ChildEntry> {
        self.slots.get(at)?.1.as_ref()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.holes
    }

    /// The children that have not ended for good, in start order.
    pub(crate) fn alive(&self) -> Vec<Arc<AgentShared>> {
        self.iter()
            .filter(|child| !child.shared.status().is_terminal())
            .map(|child| child.shared.clone())
            .collect()
    }

    pub(crate) fn next_layer(&self) -> usize {
        self.iter().map(|c| c.layer + 1).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        SpawnError, Swarm,
        supervision::{Link, child_spec::Start},
    };

    struct Dummy(AgentName);

    impl ErasedChild for Dummy {
        fn id(&self) -> &AgentName {
            &self.0
        }
        fn depends_on(&self) -> &[String] {
            &[]
        }
        fn shutdown_timeout(&self) -> Duration {
            Duration::ZERO
        }
        fn start(self: Arc<Self>, _: &Swarm, _: Link) -> Start {
            Start::Future(Box::pin(async { Err(SpawnError::SwarmStopped) }))
        }
    }

    fn entry(key: u64) -> ChildEntry {
        let shared = AgentShared::detached(key, &format!("c{key}"), std::sync::Weak::new());
        let name = shared.name().clone();
        ChildEntry::new(key, Arc::new(Dummy(name)), shared, Arc::new(()), 0)
    }

    fn keys(children: &Children) -> Vec<u64> {
        children.iter().map(|c| c.key).collect()
    }

    #[test]
    fn keeps_start_order_through_removals_and_late_pushes() {
        let mut children = Children::default();
        for key in [1, 2, 3, 5, 6] {
            children.push(entry(key));
        }
        children.push(entry(4));
        assert_eq!(keys(&children), [1, 2, 3, 4, 5, 6]);
        assert!(children.remove(2).is_some());
        assert!(children.remove(2).is_none(), "removed once");
        assert_eq!(keys(&children), [1, 3, 4, 5, 6]);
        assert_eq!(children.by_id("c5").map(|c| c.key), Some(5));
        assert!(children.by_id("c2").is_none());
        // A hole keeps its slot until holes are half the table.
        assert_eq!(children.position(3), Some(2));
        assert!(children.get(1).is_none());
        for key in [1, 3, 4] {
            assert!(children.remove(key).is_some());
        }
        assert_eq!(keys(&children), [5, 6]);
        assert_eq!(children.slots(), 2, "holes reclaimed");
        assert_eq!(children.position(6), Some(1));
        assert_eq!(children.len(), 2);
    }
}
