//! Keys of the state store: dot-separated tokens, as topics are.

use std::{borrow::Borrow, fmt};

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

use crate::router::{
    TopicProblem,
    topic::{Kind, find_problem},
};

/// The longest key accepted, in bytes: a key's watch topic
/// (`state.<key>`) must fit a topic.
pub const MAX_KEY_LEN: usize = 192;

/// The most tokens a key may have.
pub const MAX_KEY_TOKENS: usize = 24;

/// The key of a document: tokens of ASCII letters, digits, `-` and `_`,
/// joined by dots (`docs.plan.v2`), at most [`MAX_KEY_LEN`] bytes and
/// [`MAX_KEY_TOKENS`] tokens. Anything else is a [`KeyError`].
///
/// ```
/// use agentix_actors::state::Key;
///
/// let key = Key::new("docs.plan").unwrap();
/// assert!(key.starts_with(&Key::new("docs").unwrap()));
/// assert!(!key.starts_with(&Key::new("do").unwrap()), "whole tokens only");
/// assert!(Key::new("docs..plan").is_err());
/// assert!(Key::new("docs.*").is_err(), "no wildcards in keys");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
// Up to 23 bytes inline: an index lookup compares the key where its entry
// is, without another cache miss, and a clone is a copy, not a shared
// count written by every reader. Longer keys share one allocation.
pub struct Key(SmolStr);

impl Key {
    /// Checks `key` and keeps it.
    pub fn new(key: &str) -> Result<Self, KeyError> {
        check(key)?;
        Ok(Self(SmolStr::new(key)))
    }

    /// Checks `key` without keeping it: what [`Key::new`] refuses.
    pub fn check(key: &str) -> Result<(), KeyError> {
        check(key)
    }

    /// The key as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this key is `prefix` or below it, token-wise: `docs.plan`
    /// starts with `docs` and with itself, not with `do`.
    pub fn starts_with(&self, prefix: &Key) -> bool {
        under(&self.0, &prefix.0)
    }

    /// The key and each key above it, from the whole key to the first
    /// token: `a.b.c`, `a.b`, `a`.
    pub(crate) fn ancestors(&self) -> impl Iterator<Item = &str> {
        let key: &str = &self.0;
        std::iter::once(key).chain(key.rmatch_indices('.').map(move |(at, _)| &key[..at]))
    }
}

/// Whether `key` is `prefix` or below it, token-wise.
pub(crate) fn under(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", &*self.0)
    }
}

impl TryFrom<&str> for Key {
    type Error = KeyError;

    fn try_from(key: &str) -> Result<Self, KeyError> {
        Self::new(key)
    }
}

impl TryFrom<String> for Key {
    type Error = KeyError;

    fn try_from(key: String) -> Result<Self, KeyError> {
        Self::new(&key)
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0.to_string()
    }
}

/// A key that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    input: String,
    problem: KeyProblem,
}

impl KeyError {
    /// The rejected input (cut to [`MAX_KEY_LEN`] bytes when longer).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &KeyProblem {
        &self.problem
    }
}

/// What is wrong with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyProblem {
    /// Longer than [`MAX_KEY_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// More than [`MAX_KEY_TOKENS`] tokens.
    TooManyTokens {
        /// How many it has.
        count: usize,
    },
    /// What a topic could not have either: empty, an empty token, a
    /// character outside the token alphabet, a wildcard.
    Token(TopicProblem),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid key `{}`: ", self.input)?;
        match &self.problem {
            KeyProblem::TooLong { len } => {
                write!(f, "{len} bytes long, at most {MAX_KEY_LEN} allowed")
            }
            KeyProblem::TooManyTokens { count } => {
                write!(f, "{count} tokens, at most {MAX_KEY_TOKENS} allowed")
            }
            KeyProblem::Token(TopicProblem::WildcardInTopic { position }) => write!(
                f,
                "token {position} is a wildcard; keys are concrete, prefixes are whole tokens"
            ),
            KeyProblem::Token(problem) => write!(f, "{problem}"),
        }
    }
}

impl std::error::Error for KeyError {}

fn check(input: &str) -> Result<(), KeyError> {
    let problem = if input.len() > MAX_KEY_LEN {
        Some(KeyProblem::TooLong { len: input.len() })
    } else if input.split('.').count() > MAX_KEY_TOKENS {
        let count = input.split('.').count();
        Some(KeyProblem::TooManyTokens { count })
    } else {
        find_problem(input, Kind::Topic).map(KeyProblem::Token)
    };
    match problem {
        None => Ok(()),
        Some(problem) => {
            let mut end = input.len().min(MAX_KEY_LEN);
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            Err(KeyError {
                input: input[..end].to_owned(),
                problem,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_go_from_the_key_up() {
        let key = Key::new("a.b.c").unwrap();
        assert_eq!(key.ancestors().collect::<Vec<_>>(), ["a.b.c", "a.b", "a"]);
    }

    #[test]
    fn limits_are_typed() {
        let long = "a".repeat(MAX_KEY_LEN + 1);
        let error = Key::new(&long).unwrap_err();
        assert_eq!(
            error.problem(),
            &KeyProblem::TooLong {
                len: MAX_KEY_LEN + 1
            }
        );
        let many = vec!["a"; MAX_KEY_TOKENS + 1].join(".");
        assert!(matches!(
            Key::new(&many).unwrap_err().problem(),
            KeyProblem::TooManyTokens { .. }
        ));
        assert!(Key::new(&vec!["a"; MAX_KEY_TOKENS].join(".")).is_ok());
        assert!(matches!(
            Key::new("").unwrap_err().problem(),
            KeyProblem::Token(TopicProblem::Empty)
        ));
        let error = Key::new("é").unwrap_err();
        assert!(error.to_string().contains("invalid key"), "{error}");
    }
}
