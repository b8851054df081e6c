//! Consistent hashing: a message key picks the same member for as long as
//! the member stays, and a member leaving moves only its own keys.

use crate::stable_hash::fnv1a;

/// Points per member on the ring: enough to spread keys evenly over a few
/// members without making membership changes expensive.
const POINTS_PER_MEMBER: u32 = 64;

/// A ring of members (by id) on which keys are placed by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct HashRing {
    /// (point, member id), sorted by point.
    points: Vec<(u64, u64)>,
}

impl HashRing {
    pub(crate) fn add(&mut self, member: u64) {
        for replica in 0..POINTS_PER_MEMBER {
            let mut bytes = [0u8; 12];
            bytes[..8].copy_from_slice(&member.to_le_bytes());
            bytes[8..].copy_from_slice(&replica.to_le_bytes());
            self.points.push((fnv1a(&bytes), member));
        }
        self.points.sort_unstable();
    }

    pub(crate) fn remove(&mut self, member: u64) {
        self.points.retain(|&(_, owner)| owner != member);
    }

    /// The member owning `key`: the first point at or after its hash,
    /// wrapping around.
    pub(crate) fn owner(&self, key: &[u8]) -> Option<u64> {
        let hash = fnv1a(key);
        let at = self.points.partition_point(|&(point, _)| point < hash);
        self.points
            .get(at)
            .or_else(|| self.points.first())
            .map(|&(_, member)| member)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn keys() -> impl Iterator<Item = String> {
        (0..4000).map(|i| format!("order-{i}"))
    }

    #[test]
    fn an_empty_ring_has_no_owner() {
        assert_eq!(HashRing::default().owner(b"k"), None);
    }

    #[test]
    fn keys_spread_over_members_and_stay_put() {
        let mut ring = HashRing::default();
        for member in 1..=4 {
            ring.add(member);
        }
        let mut per_member: HashMap<u64, usize> = HashMap::new();
        for key in keys() {
            let owner = ring.owner(key.as_bytes()).unwrap();
            assert_eq!(ring.owner(key.as_bytes()), Some(owner), "stable");
            *per_member.entry(owner).or_default() += 1;
        }
        assert_eq!(per_member.len(), 4);
        for (member, count) in per_member {
            assert!(
                (500..=1500).contains(&count),
                "member {member} got {count} of 4000"
            );
        }
    }

    #[test]
    fn a_member_leaving_moves_only_its_own_keys() {
        let mut ring = HashRing::default();
        for member in 1..=4 {
            ring.add(member);
        }
        let before: Vec<_> = keys().map(|k| ring.owner(k.as_bytes()).unwrap()).collect();
        ring.remove(3);
        for (key, owner) in keys().zip(before) {
            let now = ring.owner(key.as_bytes()).unwrap();
            if owner == 3 {
                assert_ne!(now, 3);
            } else {
                assert_eq!(now, owner, "{key} moved although its member stayed");
            }
        }
    }
}
