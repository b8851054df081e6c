//! Queue groups: each message goes to one member, picked by a strategy.

use super::hash_ring::HashRing;

/// How a queue group picks the member that gets a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GroupStrategy {
    /// Members in turn.
    #[default]
    RoundRobin,
    /// The member with the fewest deliveries outstanding (sent, not yet
    /// acknowledged or failed); ties go round-robin.
    LeastBusy,
    /// By the message's key on a consistent-hash ring: one key, one member,
    /// for as long as that member stays. Messages without a key go
    /// round-robin.
    ConsistentHash,
    /// At random, in proportion to weights learned from outcomes: a success
    /// raises a member's weight, a failure or timeout lowers it, within
    /// [`MIN_WEIGHT`]..=[`MAX_WEIGHT`].
    Weighted,
}

/// The lowest weight a member can fall to: it still gets a message now and
/// then, so it can earn its weight back.
pub const MIN_WEIGHT: f64 = 0.1;
/// The highest weight a member can rise to.
pub const MAX_WEIGHT: f64 = 10.0;

/// How a delivery to a member ended, for the weights and the outstanding
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled (acknowledged, under at-least-once).
    Success,
    /// The member failed on it.
    Failure,
    /// No answer in time.
    Timeout,
}

#[derive(Debug, Clone)]
struct Member {
    id: u64,
    outstanding: u32,
    weight: f64,
}

/// The members of one queue group and the state its strategy needs.
///
/// ```
/// use agentix_actors::router::{GroupStrategy, QueueGroup};
///
/// let mut group = QueueGroup::new(GroupStrategy::RoundRobin, 7);
/// group.add(1);
/// group.add(2);
/// let picks: Vec<_> = (0..4).map(|_| group.pick(None).unwrap()).collect();
/// assert_eq!(picks, [1, 2, 1, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct QueueGroup {
    strategy: GroupStrategy,
    members: Vec<Member>,
    next: usize,
    ring: HashRing,
    rng: fastrand::Rng,
}

impl QueueGroup {
    /// An empty group; `seed` makes weighted picks reproducible.
    pub fn new(strategy: GroupStrategy, seed: u64) -> Self {
        Self {
            strategy,
            members: Vec::new(),
            next: 0,
            ring: HashRing::default(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Adds member `id` (once).
    pub fn add(&mut self, id: u64) {
        if self.members.iter().any(|m| m.id == id) {
            return;
        }
        self.members.push(Member {
            id,
            outstanding: 0,
            weight: 1.0,
        });
        self.ring.add(id);
    }

    /// Removes member `id`; `true` if it was there.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.members.len();
        self.members.retain(|m| m.id != id);
        self.ring.remove(id);
        before != self.members.len()
    }

    /// Its strategy.
    pub fn strategy(&self) -> GroupStrategy {
        self.strategy
    }

    /// Its members, in the order they joined.
    pub fn members(&self) -> impl Iterator<Item = u64> + '_ {
        self.members.iter().map(|m| m.id)
    }

    /// How many members it has.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member that gets the next message (with `key`, for consistent
    /// hashing), counted as outstanding until [`finished`](Self::finished).
    pub fn pick(&mut self, key: Option<&[u8]>) -> Option<u64> {
        if self.members.is_empty() {
            return None;
        }
        let at = match (self.strategy, key) {
            (GroupStrategy::RoundRobin, _) | (GroupStrategy::ConsistentHash, None) => {
                self.round_robin()
            }
            (GroupStrategy::LeastBusy, _) => self.least_busy(),
            (GroupStrategy::ConsistentHash, Some(key)) => {
                let owner = self.ring.owner(key)?;
                self.members.iter().position(|m| m.id == owner)?
            }
            (GroupStrategy::Weighted, _) => self.weighted(),
        };
        let member = &mut self.members[at];
        member.outstanding = member.outstanding.saturating_add(1);
        Some(member.id)
    }

    /// A delivery to `id` ended with `outcome`.
    pub fn finished(&mut self, id: u64, outcome: Outcome) {
        self.finished_many(id, outcome, 1);
    }

    /// `count` deliveries to `id` ended with `outcome` (a batch's worth).
    pub(crate) fn finished_many(&mut self, id: u64, outcome: Outcome, count: usize) {
        let Some(member) = self.members.iter_mut().find(|m| m.id == id) else {
            return;
        };
        let done = u32::try_from(count).unwrap_or(u32::MAX);
        member.outstanding = member.outstanding.saturating_sub(done);
        for _ in 0..count {
            member.weight = match outcome {
                Outcome::Success => (member.weight * 1.1).min(MAX_WEIGHT),
                Outcome::Failure | Outcome::Timeout => (member.weight * 0.5).max(MIN_WEIGHT),
            };
        }
    }

    /// Member `id`'s current weight.
    pub fn weight(&self, id: u64) -> Option<f64> {
        self.members.iter().find(|m| m.id == id).map(|m| m.weight)
    }

    /// Member `id`'s deliveries outstanding.
    pub fn outstanding(&self, id: u64) -> Option<u32> {
        self.members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.outstanding)
    }

    fn round_robin(&mut self) -> usize {
        let at = self.next % self.members.len();
        self.next = at + 1;
        at
    }

    fn least_busy(&mut self) -> usize {
        let len = self.members.len();
        let start = self.next % len;
        self.next = start + 1;
        // Scanning from a rotating start spreads ties.
        (0..len)
            .map(|offset| (start + offset) % len)
            .min_by_key(|&at| self.members[at].outstanding)
            .unwrap_or(start)
    }

    fn weighted(&mut self) -> usize {
        let total: f64 = self.members.iter().map(|m| m.weight).sum();
        let mut target = self.rng.f64() * total;
        for (at, member) in self.members.iter().enumerate() {
            if target < member.weight {
                return at;
            }
            target -= member.weight;
        }
        self.members.len() - 1
    }
}

#[cfg(test)]
mod tests;
