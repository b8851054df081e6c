//! Queue-group names: checked when a subscription joins, by the rules of
//! registry labels, so that a name is usable as a metric label and a NATS
//! queue-group token without escaping.

use std::fmt;

use crate::registry::{LabelProblem, MAX_LABEL_LEN, label};

/// The longest queue-group name, in bytes: a registry label's.
pub const MAX_GROUP_NAME_LEN: usize = MAX_LABEL_LEN;

/// What is wrong with a rejected queue-group name: the registry label
/// rules, so the same problems.
pub type GroupNameProblem = LabelProblem;

/// A queue-group name ([`SubscribeOptions::group`]) that the router
/// refused, and why. A name is 1 to [`MAX_GROUP_NAME_LEN`] bytes of
/// `A-Z a-z 0-9 - _ . :`.
///
/// [`SubscribeOptions::group`]: super::SubscribeOptions::group
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNameError {
    name: String,
    problem: GroupNameProblem,
}

impl GroupNameError {
    /// The rejected name (truncated if it was very long).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it.
    pub fn problem(&self) -> GroupNameProblem {
        self.problem
    }
}

impl fmt::Display for GroupNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "queue-group names use A-Z a-z 0-9 - _ . :";
        match self.problem {
            GroupNameProblem::Empty => write!(f, "invalid queue-group name: it is empty ({rule})"),
            GroupNameProblem::TooLong { len } => write!(
                f,
                "invalid queue-group name `{}…`: {len} bytes, at most {MAX_GROUP_NAME_LEN} allowed",
                self.name.chars().take(24).collect::<String>()
            ),
            GroupNameProblem::BadChar { at } => {
                let ch = self.name[at..].chars().next().unwrap_or('?');
                write!(
                    f,
                    "invalid queue-group name `{}`: {ch:?} at byte {at} ({rule})",
                    self.name
                )
            }
        }
    }
}

impl std::error::Error for GroupNameError {}

/// Checks a queue-group name.
pub(crate) fn check(name: &str) -> Result<(), GroupNameError> {
    match label::problem(name) {
        None => Ok(()),
        // A 10 kB name is not copied whole into the error.
        Some(problem) => Err(GroupNameError {
            name: name.chars().take(MAX_GROUP_NAME_LEN + 16).collect(),
            problem,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_name_breaking_the_rules_is_refused_with_its_problem() {
        assert_eq!(check("").unwrap_err().problem(), GroupNameProblem::Empty);
        let long = "g".repeat(10_000);
        let err = check(&long).unwrap_err();
        assert_eq!(err.problem(), GroupNameProblem::TooLong { len: 10_000 });
        assert!(err.name().len() <= MAX_GROUP_NAME_LEN + 16);
        let err = check("pay workers").unwrap_err();
        assert_eq!(err.problem(), GroupNameProblem::BadChar { at: 3 });
        assert!(err.to_string().contains("' ' at byte 3"), "{err}");
        assert!(check("région").is_err(), "ASCII only");
        assert!(check(&"g".repeat(MAX_GROUP_NAME_LEN)).is_ok());
        assert!(check("workers:eu-1_v2.0").is_ok());
    }
}
