//! The subscription index: a trie of pattern tokens, so that publishing
//! costs the depth of the topic and the matches, not the number of
//! subscriptions.

use std::{collections::HashMap, fmt, str::Split};

use super::topic::{PatternToken, Topic, TopicPattern};

/// Subscriptions by pattern; finds every one whose pattern matches a topic.
///
/// A value registered under two patterns that both match is found twice:
/// the index keeps subscriptions, and a subscriber may hold several.
///
/// ```
/// use agentix_actors::router::{Topic, TopicIndex, TopicPattern};
///
/// let mut index = TopicIndex::new();
/// index.insert(&TopicPattern::new("market.*.btc").unwrap(), "btc everywhere");
/// index.insert(&TopicPattern::new("market.eu.>").unwrap(), "all of eu");
/// index.insert(&TopicPattern::new("news.>").unwrap(), "news");
///
/// let topic = Topic::new("market.eu.btc").unwrap();
/// let mut found = index.matching(&topic);
/// found.sort();
/// assert_eq!(found, [&"all of eu", &"btc everywhere"]);
/// ```
pub struct TopicIndex<V> {
    root: Node<V>,
    len: usize,
}

struct Node<V> {
    literal: HashMap<Box<str>, Node<V>>,
    /// The subtree under a `*` token.
    one: Option<Box<Node<V>>>,
    /// Patterns that end at this node.
    here: Vec<V>,
    /// Patterns that end with `>` right after this node.
    rest: Vec<V>,
}

impl<V> Default for Node<V> {
    fn default() -> Self {
        Self {
            literal: HashMap::new(),
            one: None,
            here: Vec::new(),
            rest: Vec::new(),
        }
    }
}

impl<V> Node<V> {
    fn is_empty(&self) -> bool {
        self.literal.is_empty()
            && self.one.is_none()
            && self.here.is_empty()
            && self.rest.is_empty()
    }

    /// Calls `found` for every value whose pattern matches the tokens left.
    fn visit<'a>(&'a self, mut tokens: Split<'_, char>, found: &mut impl FnMut(&'a V)) {
        let Some(token) = tokens.next() else {
            self.here.iter().for_each(&mut *found);
            return;
        };
        // At least one token is left: `>` takes it and all that follow.
        self.rest.iter().for_each(&mut *found);
        if let Some(child) = self.literal.get(token) {
            child.visit(tokens.clone(), found);
        }
        if let Some(child) = &self.one {
            child.visit(tokens, found);
        }
    }

    /// Removes one value equal to `value` under `tokens`; prunes the
    /// branches it leaves empty. `true` if one was there.
    fn remove<'p>(&mut self, mut tokens: impl Iterator<Item = PatternToken<'p>>, value: &V) -> bool
    where
        V: PartialEq,
    {
        let take = |values: &mut Vec<V>| match values.iter().position(|v| v == value) {
            Some(at) => {
                values.swap_remove(at);
                true
            }
            None => false,
        };
        match tokens.next() {
            None => take(&mut self.here),
            Some(PatternToken::Rest) => take(&mut self.rest),
            Some(PatternToken::One) => {
                let Some(child) = self.one.as_mut() else {
                    return false;
                };
                let removed = child.remove(tokens, value);
                if child.is_empty() {
                    self.one = None;
                }
                removed
            }
            Some(PatternToken::Literal(token)) => {
                let Some(child) = self.literal.get_mut(token) else {
                    return false;
                };
                let removed = child.remove(tokens, value);
                if child.is_empty() {
                    self.literal.remove(token);
                }
                removed
            }
        }
    }
}

impl<V> TopicIndex<V> {
    /// An empty index.
    pub fn new() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }

    /// Adds `value` under `pattern`.
    pub fn insert(&mut self, pattern: &TopicPattern, value: V) {
        let mut node = &mut self.root;
        for token in pattern.tokens() {
            node = match token {
                PatternToken::Literal(token) => node.literal.entry(token.into()).or_default(),
                PatternToken::One => node.one.get_or_insert_with(Box::default),
                PatternToken::Rest => {
                    node.rest.push(value);
                    self.len += 1;
                    return;
                }
            };
        }
        node.here.push(value);
        self.len += 1;
    }

    /// Removes one value equal to `value` from under `pattern`; `true` if
    /// there was one.
    pub fn remove(&mut self, pattern: &TopicPattern, value: &V) -> bool
    where
        V: PartialEq,
    {
        let removed = self.root.remove(pattern.tokens(), value);
        if removed {
            self.len -= 1;
        }
        removed
    }

    /// Calls `found` for each value whose pattern matches `topic`, in no
    /// particular order.
    pub fn for_each_match<'a>(&'a self, topic: &Topic, mut found: impl FnMut(&'a V)) {
        self.root.visit(topic.tokens(), &mut found);
    }

    /// The values whose patterns match `topic`, in no particular order.
    pub fn matching(&self, topic: &Topic) -> Vec<&V> {
        let mut found = Vec::new();
        self.for_each_match(topic, |value| found.push(value));
        found
    }

    /// How many (pattern, value) entries the index holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<V> Default for TopicIndex<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> fmt::Debug for TopicIndex<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicIndex")
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(p: &str) -> TopicPattern {
        TopicPattern::new(p).unwrap()
    }

    #[test]
    fn removing_prunes_branches_and_keeps_the_others() {
        let mut index = TopicIndex::new();
        index.insert(&pattern("a.b.c"), 1);
        index.insert(&pattern("a.*.c"), 2);
        index.insert(&pattern("a.>"), 3);
        index.insert(&pattern("a.>"), 3);
        assert_eq!(index.len(), 4);
        assert!(index.remove(&pattern("a.b.c"), &1));
        assert!(!index.remove(&pattern("a.b.c"), &1), "only once");
        assert!(!index.remove(&pattern("a.*.c"), &9), "not that value");
        assert!(index.remove(&pattern("a.>"), &3));
        assert_eq!(index.len(), 2);
        let mut found = index.matching(&Topic::new("a.b.c").unwrap());
        found.sort();
        assert_eq!(found, [&2, &3]);
        assert!(index.remove(&pattern("a.*.c"), &2));
        assert!(index.remove(&pattern("a.>"), &3));
        assert!(index.is_empty());
        assert!(index.root.is_empty(), "every branch pruned");
    }
}
