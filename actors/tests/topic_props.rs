//! The subscription index agrees with a naive matcher: for generated
//! patterns (inserted, some removed again) and generated topics, the index
//! finds exactly the subscriptions a token-by-token comparison finds.

use agentix_actors::router::{Topic, TopicIndex, TopicPattern};
use proptest::prelude::*;

/// The reference: NATS semantics written out directly on token lists.
fn naive_matches(pattern: &[String], topic: &[String]) -> bool {
    match (pattern.split_first(), topic.split_first()) {
        (None, None) => true,
        (Some((p, _)), Some(_)) if p == ">" => true,
        (Some((p, pattern)), Some((t, topic))) if p == "*" || p == t => {
            naive_matches(pattern, topic)
        }
        _ => false,
    }
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(String::from)
}

fn pattern_token() -> impl Strategy<Value = String> {
    prop_oneof![3 => token(), 1 => Just("*".to_owned())]
}

/// 1–4 tokens, sometimes ending in `>`.
fn pattern() -> impl Strategy<Value = Vec<String>> {
    (prop::collection::vec(pattern_token(), 0..4), any::<bool>()).prop_filter_map(
        "a pattern has a token",
        |(mut tokens, rest)| {
            if rest || tokens.is_empty() {
                tokens.push(">".to_owned());
            }
            Some(tokens)
        },
    )
}

fn topic() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(token(), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_index_finds_exactly_what_a_naive_matcher_finds(
        subscriptions in prop::collection::vec((pattern(), any::<bool>()), 0..24),
        topics in prop::collection::vec(topic(), 1..16),
    ) {
        let mut index = TopicIndex::new();
        for (id, (tokens, _)) in subscriptions.iter().enumerate() {
            index.insert(&TopicPattern::new(&tokens.join(".")).unwrap(), id);
        }
        // Remove the ones marked, so that pruning is exercised too.
        let mut kept = Vec::new();
        for (id, (tokens, remove)) in subscriptions.iter().enumerate() {
            if *remove {
                prop_assert!(index.remove(&TopicPattern::new(&tokens.join(".")).unwrap(), &id));
            } else {
                kept.push((id, tokens));
            }
        }
        prop_assert_eq!(index.len(), kept.len());
        for topic_tokens in &topics {
            let topic = Topic::new(&topic_tokens.join(".")).unwrap();
            let mut found: Vec<usize> = index.matching(&topic).into_iter().copied().collect();
            found.sort_unstable();
            let expected: Vec<usize> = kept
                .iter()
                .filter(|(_, tokens)| naive_matches(tokens, topic_tokens))
                .map(|(id, _)| *id)
                .collect();
            prop_assert_eq!(&found, &expected, "topic {}", topic);
            for (id, tokens) in &kept {
                let pattern = TopicPattern::new(&tokens.join(".")).unwrap();
                prop_assert_eq!(pattern.matches(&topic), expected.contains(id));
            }
        }
    }
}
