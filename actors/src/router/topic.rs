//! Topics and subscription patterns, in NATS syntax.
//!
//! A topic is a dot-separated list of tokens: `market.eu.btc`. A pattern may
//! also use `*` for exactly one token and, as its last token, `>` for one or
//! more tokens: `market.*.btc`, `market.>`. Tokens are non-empty and made of
//! ASCII letters, digits, `-` and `_`; a topic is at most [`MAX_TOPIC_LEN`]
//! bytes and [`MAX_TOKENS`] tokens. Anything else is a [`TopicError`] that
//! says what is wrong and where, never a panic.

use std::{fmt, sync::Arc};

/// The longest topic or pattern accepted, in bytes.
pub const MAX_TOPIC_LEN: usize = 256;

/// The most tokens a topic or pattern may have.
pub const MAX_TOKENS: usize = 32;

/// A topic to publish on: tokens only, no wildcards.
///
/// ```
/// use agentix_actors::router::Topic;
///
/// let topic = Topic::new("market.eu.btc").unwrap();
/// assert_eq!(topic.as_str(), "market.eu.btc");
/// assert_eq!(topic.tokens().collect::<Vec<_>>(), ["market", "eu", "btc"]);
/// assert!(Topic::new("market.*.btc").is_err(), "wildcards only in patterns");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(Arc<str>);

impl Topic {
    /// Checks `topic` and keeps it.
    pub fn new(topic: &str) -> Result<Self, TopicError> {
        check(topic, Kind::Topic)?;
        Ok(Self(Arc::from(topic)))
    }

    /// The topic as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its tokens, in order.
    pub fn tokens(&self) -> std::str::Split<'_, char> {
        self.0.split('.')
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic({:?})", &*self.0)
    }
}

impl TryFrom<&str> for Topic {
    type Error = TopicError;

    fn try_from(topic: &str) -> Result<Self, TopicError> {
        Self::new(topic)
    }
}

/// One token of a [`TopicPattern`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternToken<'a> {
    /// Matches this token only.
    Literal(&'a str),
    /// `*`: matches any one token.
    One,
    /// `>`: matches one or more tokens; always last.
    Rest,
}

/// What a subscription listens to: a topic whose tokens may be `*` (any one
/// token) or, last, `>` (one or more tokens).
///
/// ```
/// use agentix_actors::router::{Topic, TopicPattern};
///
/// let pattern = TopicPattern::new("market.*.>").unwrap();
/// assert!(pattern.matches(&Topic::new("market.eu.btc").unwrap()));
/// assert!(pattern.matches(&Topic::new("market.us.eth.spot").unwrap()));
/// assert!(!pattern.matches(&Topic::new("market.eu").unwrap()), "`>` needs a token");
/// assert!(TopicPattern::new("market.>.btc").is_err(), "`>` must be last");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPattern(Arc<str>);

impl TopicPattern {
    /// Checks `pattern` and keeps it.
    pub fn new(pattern: &str) -> Result<Self, TopicError> {
        check(pattern, Kind::Pattern)?;
        Ok(Self(Arc::from(pattern)))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its tokens, in order.
    pub fn tokens(&self) -> impl Iterator<Item = PatternToken<'_>> {
        self.0.split('.').map(|token| match token {
            "*" => PatternToken::One,
            ">" => PatternToken::Rest,
            literal => PatternToken::Literal(literal),
        })
    }

    /// Whether `topic` matches, token by token. The router matches through
    /// its index instead; this is the definition the index must agree with.
    pub fn matches(&self, topic: &Topic) -> bool {
        let mut topic = topic.tokens();
        for token in self.tokens() {
            match (token, topic.next()) {
                (PatternToken::Rest, Some(_)) => return true,
                (PatternToken::One, Some(_)) => {}
                (PatternToken::Literal(want), Some(got)) if want == got => {}
                _ => return false,
            }
        }
        topic.next().is_none()
    }
}

impl fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TopicPattern({:?})", &*self.0)
    }
}

impl TryFrom<&str> for TopicPattern {
    type Error = TopicError;

    fn try_from(pattern: &str) -> Result<Self, TopicError> {
        Self::new(pattern)
    }
}

impl From<Topic> for TopicPattern {
    /// A topic is a pattern that matches itself only.
    fn from(topic: Topic) -> Self {
        Self(topic.0)
    }
}

/// A topic or pattern that cannot be used, with what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicError {
    input: String,
    problem: TopicProblem,
}

impl TopicError {
    /// The rejected input (cut to [`MAX_TOPIC_LEN`] bytes when longer).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &TopicProblem {
        &self.problem
    }
}

/// What is wrong with a topic or pattern. Token positions count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicProblem {
    /// Nothing at all.
    Empty,
    /// Longer than [`MAX_TOPIC_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// More than [`MAX_TOKENS`] tokens.
    TooManyTokens {
        /// How many it has.
        count: usize,
    },
    /// Two dots in a row, or a dot at either end.
    EmptyToken {
        /// Which token is empty.
        position: usize,
    },
    /// A character outside ASCII letters, digits, `-` and `_`.
    InvalidChar {
        /// Which token has it.
        position: usize,
        /// The character.
        found: char,
    },
    /// `*` or `>` in a topic to publish on; only patterns have wildcards.
    WildcardInTopic {
        /// Which token.
        position: usize,
    },
    /// `*` or `>` as part of a token (`ab*`): a wildcard is a whole token.
    PartialWildcard {
        /// Which token.
        position: usize,
    },
    /// `>` anywhere but last.
    RestNotLast {
        /// Which token.
        position: usize,
    },
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid topic `{}`: {}", self.input, self.problem)
    }
}

impl fmt::Display for TopicProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicProblem::Empty => f.write_str("it is empty"),
            TopicProblem::TooLong { len } => {
                write!(f, "{len} bytes long, at most {MAX_TOPIC_LEN} allowed")
            }
            TopicProblem::TooManyTokens { count } => {
                write!(f, "{count} tokens, at most {MAX_TOKENS} allowed")
            }
            TopicProblem::EmptyToken { position } => write!(
                f,
                "token {position} is empty (two dots in a row, or a dot at an end)"
            ),
            TopicProblem::InvalidChar { position, found } => write!(
                f,
                "token {position} has {found:?}; tokens are ASCII letters, digits, `-` and `_`"
            ),
            TopicProblem::WildcardInTopic { position } => write!(
                f,
                "token {position} is a wildcard; publish on a concrete topic, wildcards are for subscriptions"
            ),
            TopicProblem::PartialWildcard { position } => write!(
                f,
                "token {position} mixes a wildcard with other characters; `*` and `>` are whole tokens"
            ),
            TopicProblem::RestNotLast { position } => {
                write!(
                    f,
                    "token {position} is `>`, which may only be the last token"
                )
            }
        }
    }
}

impl std::error::Error for TopicError {}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Topic,
    Pattern,
}

fn check(input: &str, kind: Kind) -> Result<(), TopicError> {
    let problem = find_problem(input, kind);
    match problem {
        None => Ok(()),
        Some(problem) => {
            let mut end = input.len().min(MAX_TOPIC_LEN);
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            Err(TopicError {
                input: input[..end].to_owned(),
                problem,
            })
        }
    }
}

pub(crate) fn find_problem(input: &str, kind: Kind) -> Option<TopicProblem> {
    if input.is_empty() {
        return Some(TopicProblem::Empty);
    }
    if input.len() > MAX_TOPIC_LEN {
        return Some(TopicProblem::TooLong { len: input.len() });
    }
    let count = input.split('.').count();
    if count > MAX_TOKENS {
        return Some(TopicProblem::TooManyTokens { count });
    }
    for (index, token) in input.split('.').enumerate() {
        let position = index + 1;
        match token {
            "" => return Some(TopicProblem::EmptyToken { position }),
            "*" | ">" if kind == Kind::Topic => {
                return Some(TopicProblem::WildcardInTopic { position });
            }
            "*" => {}
            ">" if position != count => return Some(TopicProblem::RestNotLast { position }),
            ">" => {}
            _ => {
                if let Some(found) = token.chars().find(|c| !is_token_char(*c)) {
                    return Some(if matches!(found, '*' | '>') {
                        TopicProblem::PartialWildcard { position }
                    } else {
                        TopicProblem::InvalidChar { position, found }
                    });
                }
            }
        }
    }
    None
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

#[cfg(test)]
mod tests;
