//! The monitor: what is happening inside a swarm, cheaply.
//!
//! A [`MonitorRef`] is a running monitor agent. It counts lifecycle events
//! per agent kind (started, failed, restarted, escalated, stopped) as the
//! swarm publishes them, health changes of the registries it
//! [watches](MonitorRef::watch_registry), and the traffic of the routers
//! it [watches](MonitorRef::watch_router); it samples the runtime's own
//! counters (agents by status, messages handled, handling times) whenever
//! asked for a snapshot. Nothing is sent to
//! it per handled message: agents count in their own control blocks and
//! time one handling in 64
//! into their kind's histogram, which the monitor turns on.
//!
//! Users subscribe handlers to event types ([`MonitorRef::on`]): event
//! driven, no polling. [`MonitorRef::snapshot`] answers a serde
//! [`Snapshot`]; [`MonitorRef::prometheus`] renders the Prometheus text
//! exposition format; with the feature `http`, `MonitorRef::serve`
//! serves both over HTTP.

mod actor;
mod handle;
#[cfg(feature = "http")]
mod http;
mod prometheus;
mod snapshot;
mod store_metrics;

use agentix_runtime::{Event, LifecycleEvent};

pub use actor::Monitor;
pub use handle::MonitorRef;
#[cfg(feature = "http")]
pub use http::MetricsServer;
pub use prometheus::render;
pub use snapshot::{
    KindSnapshot, Latency, RegistrySnapshot, RouterSnapshot, Snapshot, StoreSnapshot, TopicLatency,
};

use crate::registry::{Health, HealthEvent};

/// How the monitor runs. It has no settings yet: it samples when asked
/// (a snapshot, a scrape), so there is no interval to choose.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct MonitorConfig {}

/// The types of events handlers subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// Every event.
    Any,
    /// An incarnation started.
    Started,
    /// An incarnation failed.
    Failed,
    /// An agent is being restarted.
    Restarted,
    /// A supervisor escalated.
    Escalated,
    /// An agent ended for good.
    Stopped,
    /// A root supervisor gave up.
    GaveUp,
    /// A registered agent became unhealthy.
    Unhealthy,
    /// A registered agent recovered.
    Recovered,
    /// A lifecycle event of a kind this monitor does not name (one added to
    /// the runtime later): never counted as one of the kinds above.
    Other,
}

/// An event a handler receives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MonitorEvent {
    /// From the swarm's lifecycle events.
    Lifecycle(LifecycleEvent),
    /// From a watched registry.
    Health(HealthEvent),
}

impl MonitorEvent {
    /// Its type.
    pub fn event_type(&self) -> EventType {
        match self {
            Self::Lifecycle(event) => match event.event() {
                Event::Started => EventType::Started,
                Event::Failed { .. } => EventType::Failed,
                Event::Restarted { .. } => EventType::Restarted,
                Event::Escalated { .. } => EventType::Escalated,
                Event::Stopped { .. } => EventType::Stopped,
                Event::GaveUp { .. } => EventType::GaveUp,
                _ => EventType::Other,
            },
            Self::Health(event) if event.health == Health::Unhealthy => EventType::Unhealthy,
            Self::Health(_) => EventType::Recovered,
        }
    }
}
