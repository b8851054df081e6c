//! The agents of a swarm that have not ended, for its shutdown and count.

use std::{
    collections::{HashMap, hash_map::Entry},
    hash::{BuildHasher, RandomState},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use parking_lot::Mutex;

use crate::{AgentName, agent::shared::AgentShared, metrics::Kinds};

/// Shards of the roster: agents are spawned from every arbiter at once (a
/// supervisor starting its children in batches), and one lock for them all
/// would make those threads queue behind each other.
const SHARDS: usize = 16;

/// The agents of a swarm that have not ended, by name (events, fault plans
/// and the registry know agents by name, so two live agents must not share
/// one), sharded by the name's hash. One map, not one by name and one by
/// spawn id: an entry is the agent's largest share of the roster, and the
/// rare readers that want spawn order (shutdown, censuses) sort.
pub(crate) struct Roster {
    shards: [Mutex<HashMap<AgentName, Member>>; SHARDS],
    hasher: RandomState,
    /// Members enlisted and not yet removed: `len` without a walk.
    enlisted: AtomicUsize,
    /// Per-kind metrics, ended agents' counts included.
    pub(crate) kinds: Kinds,
    /// The fault plan installed in this swarm, if any.
    #[cfg(feature = "testkit")]
    pub(crate) faults: parking_lot::RwLock<Option<Arc<dyn super::fault::Plan>>>,
}

/// The holder of a name: its spawn id from the claim, its control block
/// once it is enlisted.
struct Member {
    id: u64,
    agent: Option<Arc<AgentShared>>,
}

impl Default for Roster {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            hasher: RandomState::new(),
            enlisted: AtomicUsize::new(0),
            kinds: Kinds::default(),
            #[cfg(feature = "testkit")]
            faults: parking_lot::RwLock::new(None),
        }
    }
}

impl Roster {
    fn shard(&self, name: &AgentName) -> &Mutex<HashMap<AgentName, Member>> {
        let hash = self.hasher.hash_one(name.as_str());
        &self.shards[(hash % SHARDS as u64) as usize]
    }

    /// Reserves `name` for the agent to be spawned as `id`; `false` if a
    /// live agent holds it. Released when that agent leaves the roster.
    pub(crate) fn claim(&self, name: &AgentName, id: u64) -> bool {
        match self.shard(name).lock().entry(name.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(Member { id, agent: None });
                true
            }
        }
    }

    /// Adds an agent whose name it has [`claim`](Self::claim)ed; it leaves
    /// by [`AgentShared::leave_roster`] when it ends.
    pub(crate) fn enlist(&self, agent: Arc<AgentShared>) {
        let (name, id) = (agent.identity.name.clone(), agent.identity.id);
        let mut shard = self.shard(&name).lock();
        if let Some(member) = shard.get_mut(&name)
            && member.id == id
            && member.agent.replace(agent).is_none()
        {
            self.enlisted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The agents that have not ended, in spawn order.
    pub(crate) fn snapshot(&self) -> Vec<Arc<AgentShared>> {
        let mut agents: Vec<_> = self
            .shards
            .iter()
            .flat_map(|shard| {
                let shard = shard.lock();
                let enlisted = shard.values().filter_map(|member| member.agent.as_ref());
                let alive = enlisted.filter(|agent| !agent.status().is_terminal());
                alive.cloned().collect::<Vec<_>>()
            })
            .collect();
        agents.sort_unstable_by_key(|agent| agent.identity.id);
        agents
    }

    /// Takes agent `id` off the roster and frees its name. Leaving twice
    /// must not free the name of a later agent that took it since.
    pub(crate) fn remove(&self, id: u64, name: &AgentName) {
        let mut shard = self.shard(name).lock();
        if shard.get(name).is_some_and(|member| member.id == id)
            && let Some(Member { agent: Some(_), .. }) = shard.remove(name)
        {
            self.enlisted.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether a live agent holds `name`: enlisted and not ended for good
    /// (one restarting holds its name).
    pub(crate) fn holds(&self, name: &AgentName) -> bool {
        let shard = self.shard(name).lock();
        shard
            .get(name)
            .and_then(|member| member.agent.as_ref())
            .is_some_and(|agent| !agent.status().is_terminal())
    }

    /// How many agents have not ended for good.
    pub(crate) fn len(&self) -> usize {
        self.enlisted.load(Ordering::Relaxed)
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
