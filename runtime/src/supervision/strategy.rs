//! Which children a failure affects: OTP's restart strategies as a pure
//! function of the failed child's position in start order.

/// How a supervisor responds when one of its children must be restarted.
///
/// | strategy | restarted with the failed child |
/// |---|---|
/// | [`OneForOne`](Strategy::OneForOne) | nobody |
/// | [`OneForAll`](Strategy::OneForAll) | every other child |
/// | [`RestForOne`](Strategy::RestForOne) | the children started after it |
///
/// The others are stopped in reverse start order first, then all are started
/// again in start order (by dependency layers).
///
/// ```
/// use agentix::Strategy;
///
/// assert_eq!(Strategy::default(), Strategy::OneForOne);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only the child that ended.
    #[default]
    OneForOne,
    /// Restart every child.
    OneForAll,
    /// Restart the child that ended and every child started after it.
    RestForOne,
}

impl Strategy {
    /// The positions (in start order) of the children to restart when the
    /// child at `failed` must be, among `count` children. Ascending.
    pub(crate) fn affected(self, failed: usize, count: usize) -> std::ops::Range<usize> {
        match self {
            Self::OneForOne => failed..failed + 1,
            Self::OneForAll => 0..count,
            Self::RestForOne => failed..count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_strategy_picks_its_children() {
        assert_eq!(Strategy::OneForOne.affected(2, 5), 2..3);
        assert_eq!(Strategy::OneForAll.affected(2, 5), 0..5);
        assert_eq!(Strategy::RestForOne.affected(2, 5), 2..5);
        assert_eq!(Strategy::RestForOne.affected(4, 5), 4..5);
        assert_eq!(Strategy::RestForOne.affected(0, 5), 0..5);
    }
}
