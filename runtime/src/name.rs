//! Agent names: validated once, shared cheaply.

use std::{fmt, sync::Arc};

/// The longest name an agent may have, in bytes (the rule
/// `agentix-macros` checks kinds by, too).
pub use agentix_rules::MAX_NAME_LEN;

/// The name of one agent instance, validated.
///
/// A name starts with an ASCII letter or digit, continues with ASCII letters,
/// digits, `-`, `_` or `.`, and is at most [`MAX_NAME_LEN`] bytes long. These
/// rules keep names usable as metric labels, registry keys and (later) NATS
/// subject tokens without escaping.
///
/// Cloning is cheap (a reference count).
///
/// ```
/// use agentix::AgentName;
///
/// let name = AgentName::new("pricer-7")?;
/// assert_eq!(name.as_str(), "pricer-7");
/// assert!(AgentName::new("").is_err());
/// assert!(AgentName::new("has space").is_err());
/// # Ok::<(), agentix::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentName(Arc<str>);

impl AgentName {
    /// Validates `name` and makes an agent name of it.
    pub fn new(name: &str) -> Result<Self, NameError> {
        match check(name) {
            None => Ok(Self(Arc::from(name))),
            Some(problem) => Err(NameError {
                name: name.chars().take(MAX_NAME_LEN + 16).collect(),
                problem,
            }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::borrow::Borrow<str> for AgentName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for AgentName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for AgentName {
    type Error = NameError;

    fn try_from(name: &str) -> Result<Self, NameError> {
        Self::new(name)
    }
}

impl TryFrom<String> for AgentName {
    type Error = NameError;

    fn try_from(name: String) -> Result<Self, NameError> {
        Self::new(&name)
    }
}

pub use agentix_rules::NameProblem;

/// A name that [`AgentName::new`] rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    name: String,
    problem: NameProblem,
}

impl NameError {
    /// The rejected name (truncated if it was very long).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it.
    pub fn problem(&self) -> NameProblem {
        self.problem
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = format!("names {}", agentix_rules::NAME_RULE);
        match self.problem {
            NameProblem::Empty => write!(f, "invalid agent name: the name is empty ({rule})"),
            NameProblem::TooLong { len } => write!(
                f,
                "invalid agent name `{}…`: {len} bytes, at most {MAX_NAME_LEN} allowed",
                self.name.chars().take(24).collect::<String>()
            ),
            NameProblem::BadChar { at } => {
                let ch = self.name[at..].chars().next().unwrap_or('?');
                write!(
                    f,
                    "invalid agent name `{}`: character {ch:?} at byte {at} is not allowed ({rule})",
                    self.name
                )
            }
            // `BadStart`, and any problem a later rule adds.
            _ => write!(f, "invalid agent name `{}`: {rule}", self.name),
        }
    }
}

impl std::error::Error for NameError {}

/// The naming rule, shared with `agentix-macros` (which checks
/// `#[agent(kind = ..)]` by it) through `agentix-rules`.
pub(crate) fn check(name: &str) -> Option<NameProblem> {
    agentix_rules::name_problem(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "Z9", "worker-1", "feed_eu.prices", "0start"] {
            assert!(AgentName::new(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn rejects_each_problem_with_its_reason() {
        let problem = |s: &str| AgentName::new(s).unwrap_err().problem();
        assert_eq!(problem(""), NameProblem::Empty);
        assert_eq!(problem("-lead"), NameProblem::BadStart);
        assert_eq!(problem("a b"), NameProblem::BadChar { at: 1 });
        assert_eq!(problem("ok/no"), NameProblem::BadChar { at: 2 });
        assert_eq!(problem("né"), NameProblem::BadChar { at: 1 });
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            problem(&long),
            NameProblem::TooLong {
                len: MAX_NAME_LEN + 1
            }
        );
        assert!(AgentName::new(&"x".repeat(MAX_NAME_LEN)).is_ok());
    }

    #[test]
    fn error_message_names_the_character_and_the_rule() {
        let text = AgentName::new("ab cd").unwrap_err().to_string();
        assert!(
            text.contains("`ab cd`") && text.contains("' '") && text.contains("byte 2"),
            "{text}"
        );
        let text = AgentName::new("é").unwrap_err().to_string();
        assert!(text.contains("start with a letter"), "{text}");
    }
}
