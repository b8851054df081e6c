//! Health: which registered agents are stuck, checked by the registry every
//! heartbeat interval without a message to any agent.
//!
//! By default the runtime beats for the agent: the check reads the agent's
//! [`Activity`], and an agent found inside the same poll (one handler that
//! blocks or loops) at two checks in a row, two intervals, is unhealthy.
//! An agent registered with
//! [`reports_heartbeat`](super::Registration::reports_heartbeat) beats
//! itself ([`RegistryRef::heartbeat`](super::RegistryRef::heartbeat)) and
//! is unhealthy after two intervals without one. Either way it recovers at
//! the next sign of life, and each change is published as a
//! [`HealthEvent`].

use std::{
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    time::Duration,
};

use agentix_runtime::{Activity, AgentName};
use tokio::sync::broadcast;

use super::{Health, Registry};

/// Intervals without a sign of life that make an agent unhealthy.
pub const MISSED_BEATS: u32 = 2;

/// Where the registry runs and how often it checks health.
#[derive(Debug, Clone, Copy)]
pub struct RegistryConfig {
    pub(crate) heartbeat: Duration,
    pub(crate) arbiter: Option<usize>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(1),
            arbiter: None,
        }
    }
}

impl RegistryConfig {
    /// Runs the registry agent on this arbiter of the swarm (by default the
    /// next in turn). Health checks run there: an arbiter blocked by a
    /// stuck handler cannot check anyone.
    pub fn on_arbiter(mut self, index: usize) -> Self {
        self.arbiter = Some(index);
        self
    }

    /// How often health is checked, and how often an agent that reports
    /// heartbeats must beat (default 1 s). Below 1 ms is taken as 1 ms;
    /// above [`MAX_DURATION`](agentix_runtime::MAX_DURATION) (about 30
    /// years, up to `Duration::MAX`) as that: never, in practice.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.clamp(Duration::from_millis(1), agentix_runtime::MAX_DURATION);
        self
    }
}

/// The health bookkeeping of one entry. The checker (the registry agent)
/// is its only writer apart from beats and marks.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    reports: bool,
    beats: AtomicU64,
    /// What the last check read: the activity, or the beat count.
    seen: AtomicU64,
    misses: AtomicU32,
    stale: AtomicBool,
    marked: AtomicBool,
}

impl Liveness {
    pub(crate) fn new(reports: bool) -> Self {
        Self {
            reports,
            ..Self::default()
        }
    }

    pub(crate) fn unhealthy(&self) -> bool {
        self.stale.load(Ordering::Relaxed) || self.marked.load(Ordering::Relaxed)
    }

    pub(crate) fn mark(&self, unhealthy: bool) {
        self.marked.store(unhealthy, Ordering::Relaxed);
    }

    pub(crate) fn beat(&self) {
        self.beats.fetch_add(1, Ordering::Relaxed);
    }

    /// One check. `Some(true)`: it just became unhealthy; `Some(false)`:
    /// it just recovered.
    fn check(&self, activity: Activity) -> Option<bool> {
        let (now, alive) = if self.reports {
            let beats = self.beats.load(Ordering::Relaxed);
            (beats, beats != self.seen.load(Ordering::Relaxed))
        } else {
            let stamp = activity.stamp();
            let stuck = activity.handling() && stamp == self.seen.load(Ordering::Relaxed);
            (stamp, !stuck)
        };
        self.seen.store(now, Ordering::Relaxed);
        let misses = if alive {
            0
        } else {
            self.misses.load(Ordering::Relaxed).saturating_add(1)
        };
        self.misses.store(misses, Ordering::Relaxed);
        let stale = misses >= MISSED_BEATS;
        (stale != self.stale.swap(stale, Ordering::Relaxed)).then_some(stale)
    }
}

/// A registered agent whose health changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthEvent {
    /// The name it is registered under.
    pub agent: AgentName,
    /// [`Health::Unhealthy`], or the state it recovered to.
    pub health: Health,
}

/// A subscription to a registry's health changes, from
/// [`RegistryRef::health_events`](super::RegistryRef::health_events).
#[derive(Debug)]
pub struct HealthEvents(pub(crate) broadcast::Receiver<HealthEvent>);

impl HealthEvents {
    /// The next change; `None` once the registry is gone. A subscriber
    /// that fell behind skips to the oldest change still kept.
    pub async fn recv(&mut self) -> Option<HealthEvent> {
        loop {
            match self.0.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Registry {
    /// Checks every entry once.
    pub(crate) fn check_health(&mut self) {
        for entry in self.master.entries() {
            let Some(unhealthy) = entry.liveness.check(entry.activity()) else {
                continue;
            };
            let health = if unhealthy {
                tracing::warn!(agent = %entry.name, "registered agent is unhealthy");
                Health::Unhealthy
            } else {
                entry.health()
            };
            let agent = entry.name.clone();
            // Nobody listening is fine: the state is on the entry.
            let _ = self.published.health.send(HealthEvent { agent, health });
        }
    }
}
