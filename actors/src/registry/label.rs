//! Capability and tag labels: short validated strings, cheap to clone and
//! compare.

use std::{fmt, sync::Arc};

/// The longest label, in bytes.
pub const MAX_LABEL_LEN: usize = 64;

/// A capability or tag: 1 to [`MAX_LABEL_LEN`] bytes of `A-Z a-z 0-9 - _ . :`.
///
/// ```
/// use agentix_actors::registry::{Label, LabelProblem};
///
/// let label = Label::new("summarize.en")?;
/// assert_eq!(label.as_str(), "summarize.en");
/// let err = Label::new("web search").unwrap_err();
/// assert_eq!(err.problem(), LabelProblem::BadChar { at: 3 });
/// # Ok::<(), agentix_actors::registry::LabelError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(Arc<str>);

impl Label {
    /// Validates `label`.
    pub fn new(label: &str) -> Result<Self, LabelError> {
        match problem(label) {
            None => Ok(Self(Arc::from(label))),
            Some(problem) => Err(LabelError {
                label: label.chars().take(MAX_LABEL_LEN + 16).collect(),
                problem,
            }),
        }
    }

    /// The label as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What breaks the label rules in `text`, if anything: shared with the
/// router's queue-group names, which follow the same rules.
pub(crate) fn problem(text: &str) -> Option<LabelProblem> {
    if text.is_empty() {
        Some(LabelProblem::Empty)
    } else if text.len() > MAX_LABEL_LEN {
        Some(LabelProblem::TooLong { len: text.len() })
    } else {
        text.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
            .map(|(at, _)| LabelProblem::BadChar { at })
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl TryFrom<&str> for Label {
    type Error = LabelError;

    fn try_from(label: &str) -> Result<Self, LabelError> {
        Self::new(label)
    }
}

/// What is wrong with a rejected label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelProblem {
    /// The label is empty.
    Empty,
    /// Longer than [`MAX_LABEL_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A character outside `A-Z a-z 0-9 - _ . :` at this byte offset.
    BadChar {
        /// Byte offset of the character.
        at: usize,
    },
}

/// A capability or tag that [`Label::new`] rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    label: String,
    problem: LabelProblem,
}

impl LabelError {
    /// The rejected label (truncated if it was very long).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What is wrong with it.
    pub fn problem(&self) -> LabelProblem {
        self.problem
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "labels use A-Z a-z 0-9 - _ . :";
        match self.problem {
            LabelProblem::Empty => write!(f, "invalid label: it is empty ({rule})"),
            LabelProblem::TooLong { len } => write!(
                f,
                "invalid label `{}…`: {len} bytes, at most {MAX_LABEL_LEN} allowed",
                self.label.chars().take(24).collect::<String>()
            ),
            LabelProblem::BadChar { at } => {
                let ch = self.label[at..].chars().next().unwrap_or('?');
                write!(
                    f,
                    "invalid label `{}`: {ch:?} at byte {at} ({rule})",
                    self.label
                )
            }
        }
    }
}

impl std::error::Error for LabelError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_each_problem_and_says_where() {
        assert_eq!(Label::new("").unwrap_err().problem(), LabelProblem::Empty);
        let long = "a".repeat(MAX_LABEL_LEN + 1);
        assert_eq!(
            Label::new(&long).unwrap_err().problem(),
            LabelProblem::TooLong {
                len: MAX_LABEL_LEN + 1
            }
        );
        let err = Label::new("gpu/large").unwrap_err();
        assert_eq!(err.problem(), LabelProblem::BadChar { at: 3 });
        assert!(err.to_string().contains("'/' at byte 3"), "{err}");
        assert!(Label::new("région").is_err(), "ASCII only");
        assert!(Label::new(&"a".repeat(MAX_LABEL_LEN)).is_ok());
        assert!(Label::new("lang:en-GB_v1.2").is_ok());
    }
}
