//! The router's subscription table: each subscription, the topic index
//! that finds them, the queue groups, and the cache of what a topic
//! reaches. Kept together because every change to one must reach the
//! others: a subscription in the table and not in the index would never
//! get a message, and a cached match would outlive its subscriptions.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use super::{
    DeliveryMode, Envelope, GroupStrategy, Outcome, SubscriberQueue, Topic, TopicIndex,
    TopicPattern,
    ack::Unacked,
    credit::Window,
    groups::{Entry, Groups, Matched},
    messages::Subscribe,
    target::Target,
};

/// One subscription.
pub(crate) struct Sub<M> {
    pub(crate) pattern: TopicPattern,
    pub(crate) target: Box<dyn Target<M>>,
    /// Deliveries waiting while the subscriber's mailbox is full.
    pub(crate) queue: SubscriberQueue<Envelope<M>>,
    /// Under at-least-once: what is in flight and waiting for a retry.
    pub(crate) unacked: Option<Unacked<M>>,
    /// The bound on messages in flight to the subscriber.
    pub(crate) window: Window,
    /// The queue group it is a member of, if any.
    pub(crate) group: Option<u64>,
}

/// Limit of the topic → subscriptions cache: it is rebuilt from the index
/// on a miss, so dropping it only costs lookups.
const MATCH_CACHE: usize = 4096;

/// The subscriptions of one router shard and how topics find them.
pub(crate) struct Subscriptions<M> {
    subs: HashMap<u64, Sub<M>>,
    index: TopicIndex<Entry>,
    groups: Groups,
    /// Topic → matching subscriptions, sorted; emptied whenever the
    /// subscriptions change, so a shared `Arc` means "the same set".
    matches: HashMap<Topic, Arc<Matched>>,
    /// The distinct subscription sets in `matches`.
    sets: HashSet<Arc<[u64]>>,
}

impl<M> Default for Subscriptions<M> {
    fn default() -> Self {
        Self {
            subs: HashMap::new(),
            index: TopicIndex::new(),
            groups: Groups::default(),
            matches: HashMap::new(),
            sets: HashSet::new(),
        }
    }
}

impl<M> Subscriptions<M> {
    /// What `topic` reaches, from the cache or the index.
    pub(crate) fn matching(&mut self, topic: &Topic) -> Arc<Matched> {
        if let Some(found) = self.matches.get(topic) {
            return found.clone();
        }
        let entries = self.index.matching(topic).into_iter().copied();
        let mut found = Matched::from_entries(entries);
        // Topics reaching the same subscriptions share one set, so that
        // their messages share batches.
        match self.sets.get(&*found.subs) {
            Some(set) => found.subs = set.clone(),
            None => {
                self.sets.insert(found.subs.clone());
            }
        }
        if self.matches.len() >= MATCH_CACHE {
            self.clear_matches();
        }
        let found = Arc::new(found);
        self.matches.insert(topic.clone(), found.clone());
        found
    }

    /// Forgets every cached match; the next publish per topic asks the index.
    fn clear_matches(&mut self) {
        self.matches.clear();
        self.sets.clear();
    }

    /// Adds the subscription `subscribe` asks for, to the index directly or
    /// through its queue group.
    pub(crate) fn add(&mut self, subscribe: Subscribe<M>) {
        let id = subscribe.id;
        let options = subscribe.options;
        let group = match &options.group {
            None => {
                self.index.insert(&subscribe.pattern, Entry::Sub(id));
                None
            }
            Some((name, strategy)) => {
                let (group, new) = self.groups.join(&subscribe.pattern, name, *strategy, id);
                if new {
                    self.index.insert(&subscribe.pattern, Entry::Group(group));
                }
                Some(group)
            }
        };
        self.clear_matches();
        self.subs.insert(
            id,
            Sub {
                pattern: subscribe.pattern,
                target: subscribe.target,
                queue: SubscriberQueue::new(options.queue, options.overflow),
                window: Window::new(
                    options.in_flight,
                    options.delivery == DeliveryMode::AtMostOnce,
                ),
                unacked: match options.delivery {
                    DeliveryMode::AtMostOnce => None,
                    DeliveryMode::AtLeastOnce(retry) => Some(Unacked::new(retry)),
                },
                group,
            },
        );
    }

    /// Takes subscription `id` out of the table, the index and its group;
    /// what it still holds is the caller's to give up.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Sub<M>> {
        let sub = self.subs.remove(&id)?;
        match sub.group {
            None => {
                self.index.remove(&sub.pattern, &Entry::Sub(id));
            }
            Some(group) => {
                if self.groups.leave(group, id) {
                    self.index.remove(&sub.pattern, &Entry::Group(group));
                }
            }
        }
        self.clear_matches();
        Some(sub)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Sub<M>> {
        self.subs.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Sub<M>> {
        self.subs.get_mut(&id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &Sub<M>)> {
        self.subs.iter().map(|(id, sub)| (*id, sub))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Sub<M>> {
        self.subs.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.subs.len()
    }

    /// The member of group `group` that gets the next message.
    pub(crate) fn pick(&mut self, group: u64, key: Option<&[u8]>) -> Option<u64> {
        self.groups.pick(group, key)
    }

    /// `count` deliveries to `member` of group `group` ended with `outcome`.
    pub(crate) fn finished(&mut self, group: u64, member: u64, outcome: Outcome, count: usize) {
        self.groups.finished(group, member, outcome, count);
    }

    /// Group `group`'s strategy and members.
    pub(crate) fn members(
        &self,
        group: u64,
    ) -> Option<(GroupStrategy, impl Iterator<Item = u64> + '_)> {
        self.groups.members(group)
    }
}
