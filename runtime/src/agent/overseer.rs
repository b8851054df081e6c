//! An agent's tie to its supervisor, as the agent's task sees it: after an
//! incarnation ends, the task asks the supervisor's decision and, when
//! told to, reports and waits. A trait, which the supervision layer above
//! implements, so that this layer knows nothing of supervisors.

use std::{sync::Arc, time::Duration};

use crate::{AgentName, ExitReason, Restart};

/// What a supervised agent's task needs of its supervisor.
pub(crate) trait Overseer: Send + Sync {
    /// The supervisor's name (the child's `supervisor` in its identity).
    fn name(&self) -> &AgentName;

    /// The child's own decision after an incarnation of child `key` ended
    /// for `reason`: taken on the child's thread when the supervisor's
    /// policy allows, without a round trip to the supervisor.
    fn decide(&self, key: u64, restart: Restart, reason: &ExitReason) -> Decision;

    /// Reports an ended incarnation that waits for the supervisor; `false`
    /// if the supervisor is gone (nobody would ever decide).
    fn report(&self, exit: ChildExit) -> bool;
}

/// A child's tie to its supervisor.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) overseer: Arc<dyn Overseer>,
    /// The child's key in the supervisor's table.
    pub(crate) key: u64,
}

/// A child's incarnation ended and the child waits for the supervisor.
#[derive(Debug)]
pub(crate) struct ChildExit {
    pub(crate) key: u64,
    /// The child's restart count when it ended: tells stale reports apart.
    pub(crate) incarnation: u32,
    pub(crate) reason: ExitReason,
}

/// What a child's task does after an incarnation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Restart in place after `delay`.
    Restart { delay: Duration },
    /// End for good: its restart type says so.
    End,
    /// Report to the supervisor and wait for its directive.
    Defer,
}
