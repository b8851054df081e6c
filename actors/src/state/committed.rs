//! A shard's committed key states: a hash map for the writes, which mostly
//! touch keys that exist, and the keys in order beside it, touched only
//! when a key is new, for prefix scans.

use std::{
    collections::{BTreeSet, HashMap},
    ops::Bound,
    sync::Arc,
};

use super::{Key, key::under, slot::Slot};

type Fast = foldhash::fast::RandomState;

#[derive(Debug, Default)]
pub(crate) struct Committed {
    slots: HashMap<Key, Arc<Slot>, Fast>,
    order: BTreeSet<Key>,
}

impl Committed {
    pub(crate) fn get(&self, key: &Key) -> Option<&Arc<Slot>> {
        self.slots.get(key)
    }

    /// Sets `key`'s state; whether the key is new.
    pub(crate) fn insert(&mut self, key: Key, slot: Arc<Slot>) -> bool {
        match self.slots.insert(key.clone(), slot) {
            Some(_) => false,
            None => self.order.insert(key),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every state under `prefix` (every one for `None`), in key order.
    pub(crate) fn under<'a>(
        &'a self,
        prefix: Option<&'a Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Slot>)> + 'a {
        let start = prefix.map_or("", |prefix| prefix.as_str());
        self.order
            .range::<str, _>((Bound::Included(start), Bound::Unbounded))
            .take_while(move |key| key.as_str().starts_with(start))
            .filter(move |key| prefix.is_none_or(|prefix| under(key.as_str(), prefix.as_str())))
            .filter_map(|key| Some((key, self.slots.get(key)?)))
    }
}

impl Committed {
    /// The states loaded from a backend, sized at once (the order is
    /// built in one go from the keys, which come sorted from redb).
    pub(crate) fn from_states(states: Vec<(Key, Arc<Slot>)>) -> Self {
        let order = states.iter().map(|(key, _)| key.clone()).collect();
        let mut slots = HashMap::with_capacity_and_hasher(states.len(), Fast::default());
        slots.extend(states);
        Self { slots, order }
    }
}
