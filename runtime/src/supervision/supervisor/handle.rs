//! [`SupervisorRef`]: the address of a supervisor, its child table, and the
//! operations on its tree.

use std::{fmt, ops::Deref, sync::Arc};

use super::{AddChild, RemoveChild, Supervisor, SupervisorSpec, ops};
use crate::{
    Agent, AgentName, AgentRef, AgentStatus, ChildSpec, ExitReason, SpawnError,
    supervision::{child_spec::IntoChild, control::SupervisorCore},
};

/// The address of a running supervisor: its children, dynamic children,
/// and an ordered shutdown of its tree. Dereferences to
/// [`AgentRef<Supervisor>`](AgentRef).
#[derive(Clone)]
pub struct SupervisorRef {
    agent: AgentRef<Supervisor>,
    core: Arc<SupervisorCore>,
}

/// One child as its supervisor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's id (its agent name).
    pub id: AgentName,
    /// The child's agent kind (`"supervisor"` for a nested supervisor).
    pub kind: &'static str,
    /// Where the child is in its life.
    pub status: AgentStatus,
    /// How many times it has been restarted.
    pub restarts: u32,
    /// Its start layer: it started after every child of a lower layer.
    pub layer: usize,
}

/// Which agents of a tree stopped cleanly within their shutdown timeout, and
/// which had to be stopped by force, in the order they were stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopReport {
    /// Stopped within their shutdown timeout.
    pub stopped: Vec<AgentName>,
    /// Stopped by force after their shutdown timeout.
    pub forced: Vec<AgentName>,
}

impl StopReport {
    pub(crate) fn merge(&mut self, other: Self) {
        self.stopped.extend(other.stopped);
        self.forced.extend(other.forced);
    }
}

impl SupervisorRef {
    pub(crate) fn new(agent: AgentRef<Supervisor>, core: Arc<SupervisorCore>) -> Self {
        Self { agent, core }
    }

    /// The children, in start order.
    pub fn children(&self) -> Vec<ChildInfo> {
        let state = self.core.state.lock();
        state
            .children
            .iter()
            .map(|child| ChildInfo {
                id: child.id().clone(),
                kind: child.shared.identity.kind,
                status: child.shared.status(),
                restarts: child.shared.restarts(),
                layer: child.layer,
            })
            .collect()
    }

    /// The typed reference of child `id`, if it is an `A`.
    pub fn child<A: Agent>(&self, id: &str) -> Option<A::Ref> {
        let state = self.core.state.lock();
        let handle = state.children.by_id(id)?.handle.clone();
        drop(state);
        let agent = handle.downcast_ref::<AgentRef<A>>()?.clone();
        Some(A::Ref::from(agent))
    }

    /// The nested supervisor `id`, if it is one.
    pub fn supervisor(&self, id: &str) -> Option<SupervisorRef> {
        let state = self.core.state.lock();
        state
            .children
            .by_id(id)?
            .handle
            .downcast_ref::<SupervisorRef>()
            .cloned()
    }

    /// Starts a child with the agent's own defaults (restart type, mailbox).
    pub async fn spawn<A: Agent>(
        &self,
        id: &str,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<A::Ref, SpawnError> {
        self.add(ChildSpec::new(id, factory)).await
    }

    /// Starts a child from its spec and adds it to the end of the start
    /// order. Its dependencies must be children already.
    pub async fn add<A: Agent>(&self, spec: ChildSpec<A>) -> Result<A::Ref, SpawnError> {
        let handle = self.add_erased(spec).await?;
        let agent = handle
            .downcast_ref::<AgentRef<A>>()
            .ok_or(SpawnError::SwarmStopped)?
            .clone();
        Ok(A::Ref::from(agent))
    }

    /// Starts a nested supervisor (and its tree) as a child.
    pub async fn add_supervisor(&self, spec: SupervisorSpec) -> Result<SupervisorRef, SpawnError> {
        let handle = self.add_erased(spec).await?;
        handle
            .downcast_ref::<SupervisorRef>()
            .cloned()
            .ok_or(SpawnError::SwarmStopped)
    }

    async fn add_erased(
        &self,
        spec: impl IntoChild,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, SpawnError> {
        let child = spec.into_child().map_err(SpawnError::Tree)?;
        match self.agent.call(AddChild { child }).await {
            Ok(result) => result,
            Err(_) => Err(SpawnError::SwarmStopped),
        }
    }

    /// Stops child `id` for good (within its shutdown timeout, then by
    /// force) and forgets it. `false` if there is no such child.
    pub async fn remove(&self, id: &str) -> bool {
        let Ok(Some(child)) = self.agent.call(RemoveChild { id: id.to_owned() }).await else {
            return false;
        };
        ops::stop_in_order(&self.core, std::slice::from_ref(&child)).await;
        true
    }

    /// Stops every child in reverse start order (nested trees first), each
    /// within its shutdown timeout or by force, then the supervisor itself.
    pub async fn shutdown(&self) -> StopReport {
        let mut report = self.stop_tree().await;
        self.agent.stop();
        self.agent.stopped().await;
        report.stopped.push(self.agent.name().clone());
        report
    }

    /// Stops the children of this supervisor in order, leaving it running.
    pub(crate) async fn stop_tree(&self) -> StopReport {
        let children: Vec<_> = {
            let mut state = self.core.state.lock();
            // Its children end for good now: nothing to restart or escalate.
            state.giving_up = true;
            state.children.iter().map(ops::Snapshot::of).collect()
        };
        ops::stop_in_order(&self.core, &children).await
    }

    /// Waits until the supervisor has ended for good. A supervisor that gave
    /// up ends with [`ExitReason::Escalated`].
    pub async fn stopped(&self) -> ExitReason {
        self.agent.stopped().await
    }
}

impl Deref for SupervisorRef {
    type Target = AgentRef<Supervisor>;

    fn deref(&self) -> &AgentRef<Supervisor> {
        &self.agent
    }
}

impl From<AgentRef<Supervisor>> for SupervisorRef {
    fn from(agent: AgentRef<Supervisor>) -> Self {
        let core = agent
            .shared()
            .extension::<SupervisorCore>()
            .expect("every supervisor agent carries its core");
        Self { agent, core }
    }
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorRef")
            .field("name", self.agent.name())
            .field("status", &self.agent.status())
            .field("children", &self.core.state.lock().children.len())
            .finish()
    }
}

impl PartialEq for SupervisorRef {
    fn eq(&self, other: &Self) -> bool {
        self.agent == other.agent
    }
}

impl Eq for SupervisorRef {}
