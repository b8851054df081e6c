//! Supervision trees with Erlang/OTP semantics.
//!
//! | OTP | agentix |
//! |---|---|
//! | `supervisor` behaviour | [`Supervisor`], an agent built with [`SupervisorSpec`] |
//! | child spec `#{id, start, restart, shutdown}` | [`ChildSpec`]: id, factory, [`Restart`](crate::Restart), shutdown timeout, plus `depends_on` |
//! | `one_for_one` / `one_for_all` / `rest_for_one` | [`Strategy`] |
//! | `permanent` / `transient` / `temporary` | [`Restart`](crate::Restart) |
//! | `intensity` / `period` | [`Intensity`](crate::Intensity) (default 3 in 5 s) |
//! | escalation to the parent supervisor | [`ExitReason::Escalated`](crate::ExitReason::Escalated) |
//! | `start_child` / `terminate_child` + `delete_child` / `which_children` | [`SupervisorRef::add`], [`SupervisorRef::remove`], [`SupervisorRef::children`] |
//! | (none) | [`Backoff`] between restarts of a child; dependency layers at start-up |
//!
//! Where agentix differs from OTP, on purpose:
//!
//! - A restarted child keeps its address and the messages queued for it,
//!   also while it waits out a backoff delay or a group restart.
//! - A restarted supervisor restarts its subtree in place too: every
//!   address in the tree stays valid.
//! - Children start in dependency layers: the children of one layer start
//!   concurrently (across arbiters), a layer only after the previous one runs.
//! - A root supervisor that gives up is reported as
//!   [`Event::GaveUp`], by [`SupervisorRef::stopped`] and by
//!   [`Swarm::shutdown`](crate::Swarm::shutdown), never silently.

mod backoff;
mod child_spec;
mod children;
mod control;
mod layers;
mod root;
mod strategy;
mod supervisor;

pub(crate) use crate::agent::overseer::{ChildExit, Link};
pub use backoff::Backoff;
pub(crate) use child_spec::ErasedChild;
pub use child_spec::{ChildSpec, DEFAULT_SHUTDOWN_TIMEOUT};
pub use strategy::Strategy;
pub use supervisor::{
    ChildInfo, StopReport, Supervisor, SupervisorBuilder, SupervisorRef, SupervisorSpec,
};
