//! The agents of a swarm that have not ended, for its shutdown and count.

use std::{collections::BTreeMap, sync::Arc};

use parking_lot::Mutex;

use crate::{metrics::Kinds, shared::AgentShared};

/// Shards of the roster: agents are spawned from every arbiter at once (a
/// supervisor starting its children in batches), and one lock for them all
/// would make those threads queue behind each other.
const SHARDS: usize = 16;

/// The agents of a swarm that have not ended, by spawn id.
pub(crate) struct Roster {
    shards: [Mutex<BTreeMap<u64, Arc<AgentShared>>>; SHARDS],
    /// Per-kind metrics, ended agents' counts included.
    pub(crate) kinds: Kinds,
    /// The fault plan installed in this swarm, if any.
    #[cfg(feature = "testkit")]
    pub(crate) faults: parking_lot::RwLock<Option<Arc<crate::fault::Active>>>,
}

impl Default for Roster {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            kinds: Kinds::default(),
            #[cfg(feature = "testkit")]
            faults: parking_lot::RwLock::new(None),
        }
    }
}

impl Roster {
    fn shard(&self, id: u64) -> &Mutex<BTreeMap<u64, Arc<AgentShared>>> {
        // Ids are handed out in sequence, so consecutive spawns spread.
        &self.shards[(id % SHARDS as u64) as usize]
    }

    /// Adds an agent; it leaves by [`AgentShared::leave_roster`] when it
    /// ends.
    pub(crate) fn enlist(&self, agent: Arc<AgentShared>) {
        let id = agent.identity.id;
        self.shard(id).lock().insert(id, agent);
    }

    /// The agents that have not ended, in spawn order.
    pub(crate) fn snapshot(&self) -> Vec<Arc<AgentShared>> {
        let mut agents: Vec<_> = self
            .shards
            .iter()
            .flat_map(|shard| {
                let shard = shard.lock();
                let alive = shard.values().filter(|agent| !agent.status().is_terminal());
                alive.cloned().collect::<Vec<_>>()
            })
            .collect();
        agents.sort_unstable_by_key(|agent| agent.identity.id);
        agents
    }

    pub(crate) fn remove(&self, id: u64) {
        self.shard(id).lock().remove(&id);
    }

    /// How many agents have not ended for good.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: u64, roster: &Arc<Roster>) -> Arc<AgentShared> {
        AgentShared::detached(id, &format!("a{id}"), Arc::downgrade(roster))
    }

    #[test]
    fn lists_agents_in_spawn_order_across_shards_until_they_leave() {
        let roster = Arc::new(Roster::default());
        let agents: Vec<_> = (0..40).map(|id| agent(id, &roster)).collect();
        for agent in &agents {
            roster.enlist(agent.clone());
        }
        let ids: Vec<_> = roster.snapshot().iter().map(|a| a.identity.id).collect();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
        for agent in agents.iter().step_by(3) {
            agent.leave_roster();
        }
        let ids: Vec<_> = roster.snapshot().iter().map(|a| a.identity.id).collect();
        let expected: Vec<_> = (0..40).filter(|id| id % 3 != 0).collect();
        assert_eq!(ids, expected);
        assert_eq!(roster.len(), expected.len());
    }
}
