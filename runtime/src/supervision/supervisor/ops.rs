//! The supervisor's operations over several children: start in dependency
//! layers, park in reverse start order, restart by layers, stop in order.
//! They take snapshots of the child table and never hold its lock across an
//! await.

use std::{any::Any, sync::Arc, time::Duration};

use super::{SupervisorRef, handle::StopReport, start_batch::start_children};
use crate::{
    AgentName, AgentStatus, ExitReason, SpawnError, Swarm, TreeError,
    agent::shared::{AgentShared, Directive},
    supervision::{ErasedChild, children::ChildEntry, control::SupervisorCore, layers::layers},
};

/// How long a stop waits for a killed child to end before going on.
const KILL_SETTLES: Duration = Duration::from_millis(100);

/// A child as an operation sees it, cloned out of the table.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub(crate) key: u64,
    pub(crate) id: AgentName,
    pub(crate) shared: Arc<AgentShared>,
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
    pub(crate) layer: usize,
    pub(crate) shutdown_timeout: Duration,
}

impl Snapshot {
    pub(crate) fn of(entry: &ChildEntry) -> Self {
        Self {
            key: entry.key,
            id: entry.id().clone(),
            shared: entry.shared.clone(),
            handle: entry.handle.clone(),
            layer: entry.layer,
            shutdown_timeout: entry.spec.shutdown_timeout(),
        }
    }
}

/// Starts `specs` layer by layer (each layer concurrently) and adds them to
/// the table after the layers already there. On a failure, stops the ones
/// this call started, newest first, and names the child that failed.
pub(crate) async fn start_layers(
    core: &Arc<SupervisorCore>,
    swarm: &Swarm,
    specs: &[Arc<dyn ErasedChild>],
) -> Result<(), SpawnError> {
    // Idempotent: a supervisor that panicked half-way through its start-up
    // and was restarted must not start the same children twice.
    let specs: Vec<_> = {
        let state = core.state.lock();
        specs
            .iter()
            .filter(|spec| state.children.by_id(spec.id().as_str()).is_none())
            .cloned()
            .collect()
    };
    let pending: std::collections::HashSet<&str> = specs.iter().map(|s| s.id().as_str()).collect();
    let ids: Vec<_> = specs
        .iter()
        .map(|spec| {
            // Dependencies already running count as met.
            let on = spec
                .depends_on()
                .iter()
                .filter(|d| pending.contains(d.as_str()));
            (spec.id().clone(), on.cloned().collect())
        })
        .collect();
    let plan = layers(&core.name, &ids).map_err(SpawnError::Tree)?;
    drop(ids);
    let base = {
        let mut state = core.state.lock();
        state.children.reserve(specs.len());
        state.children.next_layer()
    };
    let mut started = Vec::new();
    for (depth, layer) in plan.into_iter().enumerate() {
        let batch: Vec<_> = layer.iter().map(|&i| specs[i].clone()).collect();
        let outcomes = start_children(core, swarm, &batch).await;
        let mut failure = None;
        {
            let mut state = core.state.lock();
            for (spec, (key, result)) in batch.into_iter().zip(outcomes) {
                match result {
                    Ok(launched) => {
                        let layer = base + depth;
                        let entry =
                            ChildEntry::new(key, spec, launched.shared, launched.handle, layer);
                        state.children.push(entry);
                        started.push(key);
                    }
                    Err(cause) => {
                        failure.get_or_insert((spec.id().clone(), cause));
                    }
                }
            }
        }
        if let Some((child, cause)) = failure {
            let started: Vec<_> = {
                let state = core.state.lock();
                let entries = started.iter().filter_map(|&key| state.children.entry(key));
                entries.map(Snapshot::of).collect()
            };
            stop_in_order(core, &started).await;
            let mut state = core.state.lock();
            for child in &started {
                state.children.remove(child.key);
            }
            return Err(SpawnError::Child {
                supervisor: core.name.clone(),
                child,
                cause: Box::new(cause),
            });
        }
    }
    Ok(())
}

/// Ends the incarnations of `children` newest first, keeping their
/// addresses; each gets its shutdown timeout to get there.
pub(crate) async fn park(children: &[Snapshot]) {
    for child in children.iter().rev() {
        if child.shared.status().is_terminal() {
            continue;
        }
        child.shared.direct(Directive::Park);
        // A parked child stays waiting until its supervisor (this one, and
        // serially) says otherwise, so the status cannot be missed here.
        let parked = child.shared.until(|agent| {
            let status = agent.status();
            status == AgentStatus::Waiting || status.is_terminal()
        });
        if tokio::time::timeout(child.shutdown_timeout, parked)
            .await
            .is_err()
        {
            tracing::warn!(
                agent = %child.id,
                timeout = ?child.shutdown_timeout,
                "child did not stop within its shutdown timeout; continuing without it"
            );
        }
    }
}

/// Starts new incarnations of `children` layer by layer, each after `delay`
/// of its own, waiting for each layer to run before the next.
pub(crate) async fn restart_by_layers(children: &[(Snapshot, Duration)], start_timeout: Duration) {
    let mut layers: Vec<usize> = children.iter().map(|(c, _)| c.layer).collect();
    layers.sort_unstable();
    layers.dedup();
    for layer in layers {
        let members: Vec<_> = children
            .iter()
            .filter(|(c, _)| c.layer == layer)
            .map(|(child, delay)| (child, *delay, child.shared.starts()))
            .collect();
        for (child, delay, _) in &members {
            if !child.shared.status().is_terminal() {
                child.shared.direct(Directive::Restart { delay: *delay });
            }
        }
        for (child, delay, before) in members {
            // Started again (even if it has failed since), or gone for good.
            let up = child
                .shared
                .until(|agent| agent.starts() > before || agent.status().is_terminal());
            if tokio::time::timeout(start_timeout.saturating_add(delay), up)
                .await
                .is_err()
            {
                tracing::warn!(agent = %child.id, "child did not restart within the start timeout");
            }
        }
    }
}

/// Stops `children` for good, newest first: a supervisor child by its own
/// ordered shutdown, any other child by a stop request, then by force when
/// its shutdown timeout passes.
pub(crate) async fn stop_in_order(core: &SupervisorCore, children: &[Snapshot]) -> StopReport {
    let mut report = StopReport::default();
    for child in children.iter().rev() {
        if child.shared.status().is_terminal() {
            continue;
        }
        if let Some(nested) = child.handle.downcast_ref::<SupervisorRef>() {
            report.merge(Box::pin(nested.stop_tree()).await);
        }
        child.shared.request_stop();
        let ended = tokio::time::timeout(child.shutdown_timeout, child.shared.ended()).await;
        match ended {
            // Abandoned its handlers at its own timeout, a hair before ours.
            Ok(ExitReason::Killed) => report.forced.push(child.id.clone()),
            Ok(_) => report.stopped.push(child.id.clone()),
            Err(_) => {
                tracing::warn!(
                    supervisor = %core.name,
                    agent = %child.id,
                    timeout = ?child.shutdown_timeout,
                    "child did not stop in time; stopping it by force"
                );
                child.shared.kill();
                // Ends at its task's next poll, which frees its name: wait
                // briefly, so a re-add of the same id right after works.
                // One stuck in a sync handler keeps it until it returns.
                let _ = tokio::time::timeout(KILL_SETTLES, child.shared.ended()).await;
                report.forced.push(child.id.clone());
            }
        }
    }
    report
}

/// Starts one child at run time, after the children already there; its
/// dependencies must be among them.
pub(crate) async fn add_child(
    core: &Arc<SupervisorCore>,
    swarm: &Swarm,
    child: Arc<dyn ErasedChild>,
) -> Result<Arc<dyn Any + Send + Sync>, SpawnError> {
    let layer = {
        let state = core.state.lock();
        if state.children.by_id(child.id().as_str()).is_some() {
            return Err(SpawnError::Tree(TreeError::DuplicateChild {
                supervisor: core.name.clone(),
                child: child.id().clone(),
            }));
        }
        let mut layer = 0;
        for dependency in child.depends_on() {
            let Some(on) = state.children.by_id(dependency) else {
                return Err(SpawnError::Tree(TreeError::UnknownDependency {
                    supervisor: core.name.clone(),
                    child: child.id().clone(),
                    dependency: dependency.clone(),
                }));
            };
            layer = layer.max(on.layer + 1);
        }
        layer
    };
    let id = child.id().clone();
    let started = start_children(core, swarm, std::slice::from_ref(&child)).await;
    let Some((key, result)) = started.into_iter().next() else {
        return Err(SpawnError::SwarmStopped);
    };
    let launched = result.map_err(|cause| SpawnError::Child {
        supervisor: core.name.clone(),
        child: id,
        cause: Box::new(cause),
    })?;
    let handle = launched.handle.clone();
    let entry = ChildEntry::new(key, child, launched.shared, launched.handle, layer);
    core.state.lock().children.push(entry);
    Ok(handle)
}
