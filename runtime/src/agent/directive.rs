//! What a supervisor tells one of its children, kept in the child's
//! control block as one atomic word.

use std::time::Duration;

/// What a supervisor tells one of its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Directive {
    /// End the current incarnation (if it runs) and wait, address intact.
    Park,
    /// Start a new incarnation after `delay` (ending the current one first).
    Restart { delay: Duration },
}

/// No directive pending, in `AgentShared::directive`.
pub(super) const NO_DIRECTIVE: u64 = 0;
const PARK: u64 = 1;

impl Directive {
    /// One word: 0 none, 1 park, `2 + ns` a restart after `ns` nanoseconds
    /// (delays saturate at `MAX_DURATION`, far below `u64::MAX` ns).
    pub(super) fn encode(self) -> u64 {
        match self {
            Self::Park => PARK,
            Self::Restart { delay } => u64::try_from(delay.as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_add(2),
        }
    }

    pub(super) fn decode(word: u64) -> Option<Self> {
        match word {
            NO_DIRECTIVE => None,
            PARK => Some(Self::Park),
            ns => Some(Self::Restart {
                delay: Duration::from_nanos(ns - 2),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_survives_its_one_word_encoding() {
        let delays = [Duration::ZERO, Duration::from_nanos(1), crate::MAX_DURATION];
        for delay in delays {
            let directive = Directive::Restart { delay };
            assert_eq!(Directive::decode(directive.encode()), Some(directive));
        }
        assert_eq!(
            Directive::decode(Directive::Park.encode()),
            Some(Directive::Park)
        );
        assert_eq!(Directive::decode(NO_DIRECTIVE), None);
    }
}
