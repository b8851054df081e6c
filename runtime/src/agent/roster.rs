//! The agents of a swarm that have not ended, for its shutdown and count.

use std::{
    collections::{BTreeMap, HashMap, hash_map::Entry},
    hash::{BuildHasher, RandomState},
    sync::Arc,
};

use parking_lot::Mutex;

use crate::{AgentName, agent::shared::AgentShared, metrics::Kinds};

/// Shards of the roster: agents are spawned from every arbiter at once (a
/// supervisor starting its children in batches), and one lock for them all
/// would make those threads queue behind each other.
const SHARDS: usize = 16;

/// The agents of a swarm that have not ended, by spawn id, and the names
/// they hold.
pub(crate) struct Roster {
    shards: [Mutex<BTreeMap<u64, Arc<AgentShared>>>; SHARDS],
    /// Name to spawn id, sharded by the name's hash. Events, fault plans
    /// and the registry know agents by name, so two live agents must not
    /// share one.
    names: [Mutex<HashMap<AgentName, u64>>; SHARDS],
    hasher: RandomState,
    /// Per-kind metrics, ended agents' counts included.
    pub(crate) kinds: Kinds,
    /// The fault plan installed in this swarm, if any.
    #[cfg(feature = "testkit")]
    pub(crate) faults: parking_lot::RwLock<Option<Arc<dyn super::fault::Plan>>>,
}

impl Default for Roster {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            names: std::array::from_fn(|_| Mutex::default()),
            hasher: RandomState::new(),
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

    fn names_of(&self, name: &AgentName) -> &Mutex<HashMap<AgentName, u64>> {
        let hash = self.hasher.hash_one(name.as_str());
        &self.names[(hash % SHARDS as u64) as usize]
    }

    /// Reserves `name` for the agent to be spawned as `id`; `false` if a
    /// live agent holds it. Released when that agent leaves the roster.
    pub(crate) fn claim(&self, name: &AgentName, id: u64) -> bool {
        match self.names_of(name).lock().entry(name.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(id);
                true
            }
        }
    }

    /// Adds an agent whose name it has [`claim`](Self::claim)ed; it leaves
    /// by [`AgentShared::leave_roster`] when it ends.
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

    /// Takes agent `id` off the roster and frees its name. Leaving twice
    /// must not free the name of a later agent that took it since.
    pub(crate) fn remove(&self, id: u64, name: &AgentName) {
        self.shard(id).lock().remove(&id);
        let mut names = self.names_of(name).lock();
        if names.get(name) == Some(&id) {
            names.remove(name);
        }
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
            assert!(roster.claim(&agent.identity.name, agent.identity.id));
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

    #[test]
    fn a_name_is_held_until_its_agent_leaves_and_only_by_it() {
        let roster = Arc::new(Roster::default());
        let first = agent(1, &roster);
        let name = first.identity.name.clone();
        assert!(roster.claim(&name, 1));
        roster.enlist(first.clone());
        assert!(!roster.claim(&name, 2), "held by a live agent");
        first.leave_roster();
        assert!(roster.claim(&name, 3), "free once it left");
        first.leave_roster();
        assert!(
            !roster.claim(&name, 4),
            "a second leave frees nobody else's name"
        );
    }
}
