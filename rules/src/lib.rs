//! The rules `agentix-runtime` and `agentix-macros` both enforce, kept in
//! one place so that they cannot drift: the naming rule of agents and
//! kinds, the mailbox limit, and the handler names the macros refuse.
//!
//! A proc-macro crate cannot export anything but macros, and the runtime
//! must not depend on the macros: so the rules live here, below both.
//!
//! ```
//! use agentix_rules::{NameProblem, name_problem};
//!
//! assert_eq!(name_problem("worker-1"), None);
//! assert_eq!(name_problem("a b"), Some(NameProblem::BadChar { at: 1 }));
//! ```

/// The longest agent name (and agent kind), in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// The largest mailbox capacity: actix's channel refuses more.
pub const MAX_MAILBOX: usize = 1 << 24;

/// The naming rule, as error messages state it.
pub const NAME_RULE: &str = "use A-Z a-z 0-9 - _ . and start with a letter or digit";

/// Method names of `AgentRef` and of the traits `<Agent>Ref` implements: a
/// `#[handle]` method of one of these names would generate an ask method on
/// the agent's reference that shadows them, so the macros refuse it.
/// `tests/reserved_names.rs` checks that every public method of `AgentRef`
/// is here.
pub const RESERVED_HANDLER_NAMES: &[&str] = &[
    "tell",
    "tell_wait",
    "ask",
    "call",
    "stop",
    "stopped",
    "name",
    "kind",
    "status",
    "restarts",
    "activity",
    "queued",
    "addr",
    "clone",
    "clone_from",
    "fmt",
    "eq",
    "ne",
    "deref",
    "as_ref",
    "from",
    "into",
];

/// What is wrong with a rejected name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The first character is not an ASCII letter or digit.
    BadStart,
    /// A character outside `A-Z a-z 0-9 - _ .` at this byte offset.
    BadChar {
        /// Byte offset of the character.
        at: usize,
    },
}

/// What is wrong with `name` under the naming rule, if anything: ASCII
/// letters, digits, `-`, `_` and `.`, starting with a letter or digit, at
/// most [`MAX_NAME_LEN`] bytes.
pub fn name_problem(name: &str) -> Option<NameProblem> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Some(NameProblem::Empty);
    }
    if bytes.len() > MAX_NAME_LEN {
        return Some(NameProblem::TooLong { len: bytes.len() });
    }
    if !bytes[0].is_ascii_alphanumeric() {
        return Some(NameProblem::BadStart);
    }
    (bytes.iter().enumerate().skip(1))
        .find(|(_, b)| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
        .map(|(at, _)| NameProblem::BadChar { at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_at_its_edges() {
        assert_eq!(name_problem(""), Some(NameProblem::Empty));
        assert_eq!(name_problem("-lead"), Some(NameProblem::BadStart));
        assert_eq!(name_problem("né"), Some(NameProblem::BadChar { at: 1 }));
        assert_eq!(name_problem(&"a".repeat(MAX_NAME_LEN)), None);
        assert_eq!(
            name_problem(&"a".repeat(MAX_NAME_LEN + 1)),
            Some(NameProblem::TooLong {
                len: MAX_NAME_LEN + 1
            })
        );
    }
}
