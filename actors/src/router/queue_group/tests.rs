use super::*;

fn group(strategy: GroupStrategy, members: u64) -> QueueGroup {
    let mut group = QueueGroup::new(strategy, 42);
    for id in 1..=members {
        group.add(id);
    }
    group
}

#[test]
fn an_empty_group_picks_nobody() {
    for strategy in [
        GroupStrategy::RoundRobin,
        GroupStrategy::LeastBusy,
        GroupStrategy::ConsistentHash,
        GroupStrategy::Weighted,
    ] {
        assert_eq!(QueueGroup::new(strategy, 1).pick(Some(b"k")), None);
    }
}

#[test]
fn round_robin_takes_members_in_turn_and_skips_the_removed() {
    let mut group = group(GroupStrategy::RoundRobin, 3);
    let picks: Vec<_> = (0..6).map(|_| group.pick(None).unwrap()).collect();
    assert_eq!(picks, [1, 2, 3, 1, 2, 3]);
    assert!(group.remove(2));
    assert!(!group.remove(2));
    let picks: Vec<_> = (0..4).map(|_| group.pick(None).unwrap()).collect();
    assert!(picks.iter().all(|&id| id != 2));
    assert!(picks.contains(&1) && picks.contains(&3));
}

#[test]
fn least_busy_picks_the_member_with_the_fewest_outstanding() {
    let mut group = group(GroupStrategy::LeastBusy, 3);
    // One each, then the one that finished gets the next.
    let first: Vec<_> = (0..3).map(|_| group.pick(None).unwrap()).collect();
    assert_eq!(first.len(), 3);
    group.finished(2, Outcome::Success);
    assert_eq!(group.pick(None), Some(2));
    assert_eq!(group.outstanding(2), Some(1));
    // Member 3 still has one outstanding, the others none: they share the
    // load as long as they finish theirs.
    group.finished(1, Outcome::Success);
    group.finished(2, Outcome::Success);
    for _ in 0..10 {
        let id = group.pick(None).unwrap();
        if id != 3 {
            group.finished(id, Outcome::Success);
        }
    }
    assert_eq!(
        group.outstanding(3),
        Some(1),
        "never picked while the busiest"
    );
}

#[test]
fn consistent_hash_sends_one_key_to_one_member() {
    let mut group = group(GroupStrategy::ConsistentHash, 4);
    for key in ["alice", "bob", "carol"] {
        let first = group.pick(Some(key.as_bytes())).unwrap();
        for _ in 0..20 {
            assert_eq!(group.pick(Some(key.as_bytes())), Some(first), "{key}");
        }
    }
    let unkeyed: Vec<_> = (0..4).map(|_| group.pick(None).unwrap()).collect();
    assert_eq!(unkeyed, [1, 2, 3, 4], "no key: round-robin");
}

#[test]
fn weights_learn_from_outcomes_within_bounds() {
    let mut group = group(GroupStrategy::Weighted, 2);
    let mut picks = [0u32; 2];
    for _ in 0..4000 {
        let id = group.pick(None).unwrap();
        picks[(id - 1) as usize] += 1;
        // Member 1 always succeeds, member 2 always fails.
        let outcome = if id == 1 {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        group.finished(id, outcome);
    }
    assert_eq!(group.weight(1), Some(MAX_WEIGHT));
    assert_eq!(group.weight(2), Some(MIN_WEIGHT));
    assert!(picks[0] > picks[1] * 20, "picks {picks:?}");
    assert!(picks[1] > 0, "the failing member still gets a chance");
    // Recovery: successes raise the weight again.
    for _ in 0..10 {
        group.finished(2, Outcome::Success);
    }
    assert!(group.weight(2).unwrap() > MIN_WEIGHT);
}

#[test]
fn weighted_picks_are_reproducible_from_the_seed() {
    let run = || {
        let mut group = group(GroupStrategy::Weighted, 5);
        (0..50)
            .map(|_| group.pick(None).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
