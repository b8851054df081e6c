//! The monitor agent: counts lifecycle and health events as they come,
//! samples the runtime's counters when asked or on its interval, and calls
//! the handlers users subscribed to event types.

use std::{
    collections::HashMap,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Instant,
};

use actix::{AsyncContext, Handler, StreamHandler};
use agentix_runtime::{
    AgentContext, Event, EventError, Events, Lifecycle, LifecycleEvent, SwarmMetrics,
};
use futures_util::stream;

use super::{
    EventType, MonitorEvent,
    snapshot::{
        KindSnapshot, Latency, RegistrySnapshot, RouterSnapshot, Snapshot, StoreSnapshot,
        TopicLatency,
    },
};
use crate::{
    registry::{Health, HealthEvent, HealthEvents, RegistryRef},
    router::RouterStats,
    state::StoreStats,
};

/// Lifecycle counts of one kind.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    started: u64,
    failed: u64,
    restarted: u64,
    escalated: u64,
    stopped: u64,
}

/// A registry the monitor watches.
struct Watched {
    registry: RegistryRef,
    unhealthy_events: u64,
}

/// A handler a user subscribed.
pub(crate) type EventHandler = Box<dyn FnMut(&MonitorEvent) + Send>;

/// The monitor of one swarm; see the [module docs](super). Started and
/// used through [`MonitorRef`](super::MonitorRef).
// Permanent, and a restart keeps the counts and the subscribed handlers.
#[derive(agentix_macros::Agent)]
#[agent(
    crate = ::agentix_runtime,
    kind = "monitor",
    restart = "permanent",
    keep_state,
    lifecycle,
    reference = agentix_runtime::AgentRef<Self>
)]
pub struct Monitor {
    metrics: SwarmMetrics,
    started_at: Instant,
    counts: HashMap<&'static str, Counts>,
    watched: Vec<Watched>,
    routers: Vec<Arc<RouterStats>>,
    stores: Vec<Arc<StoreStats>>,
    handlers: Vec<(EventType, EventHandler)>,
    events_missed: u64,
    /// Each incarnation subscribes anew from this one.
    events: Events,
}

impl Monitor {
    pub(crate) fn new(metrics: SwarmMetrics, events: Events) -> Self {
        Self {
            metrics,
            started_at: Instant::now(),
            counts: HashMap::new(),
            watched: Vec::new(),
            routers: Vec::new(),
            stores: Vec::new(),
            handlers: Vec::new(),
            events_missed: 0,
            events,
        }
    }

    fn listen_health(&self, index: usize, ctx: &mut AgentContext<Self>) {
        let events = self.watched[index].registry.health_events();
        let changes = stream::unfold(events, move |mut events: HealthEvents| async move {
            let event = events.recv().await?;
            Some((HealthItem(index, event), events))
        });
        ctx.add_stream(changes);
    }

    fn dispatch(&mut self, event: MonitorEvent) {
        let kind = event.event_type();
        for (wanted, handler) in &mut self.handlers {
            if *wanted == kind || *wanted == EventType::Any {
                // A user's handler must not take the monitor down with it.
                if catch_unwind(AssertUnwindSafe(|| handler(&event))).is_err() {
                    tracing::warn!(?kind, "a monitor event handler panicked");
                }
            }
        }
    }

    /// The watched registries, read now.
    fn registries(&self) -> Vec<RegistrySnapshot> {
        (self.watched.iter())
            .map(|watched| {
                let health = watched.registry.count_by_health();
                RegistrySnapshot {
                    name: watched.registry.agent().name().to_string(),
                    agents: health.iter().map(|(_, n)| n).sum(),
                    health: (health.into_iter())
                        .map(|(health, n)| (health_label(health).to_owned(), n))
                        .collect(),
                    unhealthy_events: watched.unhealthy_events,
                }
            })
            .collect()
    }

    fn snapshot(&mut self) -> Snapshot {
        let registries = self.registries();
        let mut kinds: Vec<KindSnapshot> = (self.metrics.census().iter())
            .map(|census| {
                let counts = self.counts.get(census.kind).copied().unwrap_or_default();
                KindSnapshot {
                    kind: census.kind.to_owned(),
                    agents: (census.agents.iter())
                        .map(|(status, n)| (format!("{status:?}").to_lowercase(), *n))
                        .collect(),
                    handled: census.handled,
                    started: counts.started,
                    failed: counts.failed,
                    restarted: counts.restarted,
                    escalated: counts.escalated,
                    stopped: counts.stopped,
                    queued: census.queued,
                    max_queued: census.max_queued,
                    handling: Latency::from(&census.handling),
                }
            })
            .collect();
        kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
        let routers = (self.routers.iter())
            .map(|stats| {
                let counts = stats.counts();
                RouterSnapshot {
                    name: counts.name,
                    published: counts.published,
                    delivered: counts.delivered,
                    queued: counts.queued,
                    held_for_ack: counts.held_for_ack,
                    undelivered: (counts.undelivered.into_iter())
                        .map(|(reason, n)| (reason.label().to_owned(), n))
                        .collect(),
                    topics: (stats.latency().into_iter())
                        .map(|(topic, histogram)| TopicLatency {
                            topic,
                            latency: Latency::from(&histogram),
                        })
                        .collect(),
                }
            })
            .collect();
        Snapshot {
            uptime_s: self.started_at.elapsed().as_secs_f64(),
            kinds,
            registries,
            routers,
            stores: self
                .stores
                .iter()
                .map(|stats| StoreSnapshot::from(&**stats))
                .collect(),
            events_missed: self.events_missed,
        }
    }
}

pub(crate) fn health_label(health: Health) -> &'static str {
    match health {
        Health::Idle => "idle",
        Health::Busy => "busy",
        Health::Unhealthy => "unhealthy",
        Health::Stopped => "stopped",
    }
}

impl Lifecycle for Monitor {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        let events = self.events.resubscribe();
        let lifecycle = stream::unfold(events, |mut events: Events| async move {
            match events.recv().await {
                Err(EventError::Closed) => None,
                item => Some((LifecycleItem(item), events)),
            }
        });
        ctx.add_stream(lifecycle);
        for index in 0..self.watched.len() {
            self.listen_health(index, ctx);
        }
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("kinds", &self.counts.len())
            .field("registries", &self.watched.len())
            .field("handlers", &self.handlers.len())
            .finish_non_exhaustive()
    }
}

struct LifecycleItem(Result<LifecycleEvent, EventError>);

impl StreamHandler<LifecycleItem> for Monitor {
    fn handle(&mut self, LifecycleItem(item): LifecycleItem, _: &mut AgentContext<Self>) {
        let event = match item {
            Ok(event) => event,
            Err(EventError::Missed(missed)) => {
                self.events_missed += missed;
                return;
            }
            Err(_) => return,
        };
        let counts = self.counts.entry(event.kind()).or_default();
        match event.event() {
            Event::Started => counts.started += 1,
            Event::Failed { .. } => counts.failed += 1,
            Event::Restarted { .. } => counts.restarted += 1,
            Event::Escalated { .. } => counts.escalated += 1,
            Event::Stopped { .. } => counts.stopped += 1,
            _ => {}
        }
        if !self.handlers.is_empty() {
            self.dispatch(MonitorEvent::Lifecycle(event));
        }
    }

    // The stream ends with the swarm; the monitor is stopped with it.
    fn finished(&mut self, _: &mut AgentContext<Self>) {}
}

struct HealthItem(usize, HealthEvent);

impl StreamHandler<HealthItem> for Monitor {
    fn handle(&mut self, HealthItem(index, event): HealthItem, _: &mut AgentContext<Self>) {
        if event.health == Health::Unhealthy {
            self.watched[index].unhealthy_events += 1;
        }
        if !self.handlers.is_empty() {
            self.dispatch(MonitorEvent::Health(event));
        }
    }

    fn finished(&mut self, _: &mut AgentContext<Self>) {}
}

/// Takes a snapshot (sampling first).
pub(crate) struct TakeSnapshot;

impl actix::Message for TakeSnapshot {
    type Result = Snapshot;
}

impl Handler<TakeSnapshot> for Monitor {
    type Result = actix::MessageResult<TakeSnapshot>;

    fn handle(&mut self, _: TakeSnapshot, _: &mut AgentContext<Self>) -> Self::Result {
        actix::MessageResult(self.snapshot())
    }
}

/// Watches a registry's health.
pub(crate) struct Watch(pub(crate) RegistryRef);

impl actix::Message for Watch {
    type Result = ();
}

impl Handler<Watch> for Monitor {
    type Result = ();

    fn handle(&mut self, Watch(registry): Watch, ctx: &mut AgentContext<Self>) {
        self.watched.push(Watched {
            registry,
            unhealthy_events: 0,
        });
        self.listen_health(self.watched.len() - 1, ctx);
    }
}

/// Watches a router's counters.
pub(crate) struct WatchRouter(pub(crate) Arc<RouterStats>);

impl actix::Message for WatchRouter {
    type Result = ();
}

impl Handler<WatchRouter> for Monitor {
    type Result = ();

    fn handle(&mut self, WatchRouter(stats): WatchRouter, _: &mut AgentContext<Self>) {
        self.routers.push(stats);
    }
}

/// Subscribes a handler to an event type.
pub(crate) struct Subscribe(pub(crate) EventType, pub(crate) EventHandler);

impl actix::Message for Subscribe {
    type Result = ();
}

impl Handler<Subscribe> for Monitor {
    type Result = ();

    fn handle(&mut self, Subscribe(kind, handler): Subscribe, _: &mut AgentContext<Self>) {
        self.handlers.push((kind, handler));
    }
}

/// Watches a state store's counters.
pub(crate) struct WatchStore(pub(crate) Arc<StoreStats>);

impl actix::Message for WatchStore {
    type Result = ();
}

impl Handler<WatchStore> for Monitor {
    type Result = ();

    fn handle(&mut self, WatchStore(stats): WatchStore, _: &mut AgentContext<Self>) {
        self.stores.push(stats);
    }
}
