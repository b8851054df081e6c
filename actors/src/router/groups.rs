//! Queue groups inside the router: subscriptions with the same pattern and
//! group name share the messages, one member per message.

use std::{collections::HashMap, sync::Arc};

use super::{GroupStrategy, Outcome, QueueGroup, TopicPattern};

/// What the subscription index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Entry {
    /// A broadcast subscription: every message it matches.
    Sub(u64),
    /// A queue group: one member per message.
    Group(u64),
}

/// What a topic reaches.
#[derive(Debug, Default)]
pub(crate) struct Matched {
    /// Broadcast subscriptions, sorted: the same `Arc` for the same set.
    pub(crate) subs: Arc<[u64]>,
    /// Queue groups.
    pub(crate) groups: Box<[u64]>,
}

impl Matched {
    pub(crate) fn from_entries(entries: impl Iterator<Item = Entry>) -> Self {
        let (mut subs, mut groups) = (Vec::new(), Vec::new());
        for entry in entries {
            match entry {
                Entry::Sub(id) => subs.push(id),
                Entry::Group(id) => groups.push(id),
            }
        }
        subs.sort_unstable();
        groups.sort_unstable();
        groups.dedup();
        Self {
            subs: subs.into(),
            groups: groups.into(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.subs.is_empty() && self.groups.is_empty()
    }
}

/// The queue groups of one router.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    by_name: HashMap<(TopicPattern, Arc<str>), u64>,
    groups: HashMap<u64, QueueGroup>,
    next: u64,
}

impl Groups {
    /// Adds subscription `member` to the group `name` on `pattern`, made
    /// with `strategy` if it is new. Returns the group and whether it is
    /// new (then it goes into the index).
    pub(crate) fn join(
        &mut self,
        pattern: &TopicPattern,
        name: &Arc<str>,
        strategy: GroupStrategy,
        member: u64,
    ) -> (u64, bool) {
        let key = (pattern.clone(), name.clone());
        let (id, new) = match self.by_name.get(&key) {
            Some(id) => (*id, false),
            None => {
                self.next += 1;
                let id = self.next;
                self.by_name.insert(key, id);
                self.groups.insert(id, QueueGroup::new(strategy, id));
                (id, true)
            }
        };
        if let Some(group) = self.groups.get_mut(&id) {
            group.add(member);
        }
        (id, new)
    }

    /// Takes `member` out of group `id`; `true` if the group is now empty
    /// and gone (then it leaves the index).
    pub(crate) fn leave(&mut self, id: u64, member: u64) -> bool {
        let Some(group) = self.groups.get_mut(&id) else {
            return false;
        };
        group.remove(member);
        if !group.is_empty() {
            return false;
        }
        self.groups.remove(&id);
        self.by_name.retain(|_, group| *group != id);
        true
    }

    /// Group `id`'s strategy and members.
    pub(crate) fn members(&self, id: u64) -> Option<(GroupStrategy, impl Iterator<Item = u64>)> {
        let group = self.groups.get(&id)?;
        Some((group.strategy(), group.members()))
    }

    /// The member of group `id` that gets the next message.
    pub(crate) fn pick(&mut self, id: u64, key: Option<&[u8]>) -> Option<u64> {
        self.groups.get_mut(&id)?.pick(key)
    }

    /// `count` deliveries to `member` of group `id` ended with `outcome`.
    pub(crate) fn finished(&mut self, id: u64, member: u64, outcome: Outcome, count: usize) {
        if count > 0
            && let Some(group) = self.groups.get_mut(&id)
        {
            group.finished_many(member, outcome, count);
        }
    }
}
