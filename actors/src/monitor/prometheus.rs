//! The Prometheus text exposition of a [`Snapshot`], through
//! prometheus-client. Names follow Prometheus conventions (`agentix_`
//! prefix, `_total` on counters, units in names); labels are the agent
//! kind, the status or health, and the registry: all bounded by the code
//! and the swarm's shape, never by traffic.

use std::fmt;

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet, text::encode},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
    registry::Registry,
};

use super::{Latency, Snapshot};

/// Renders `snapshot` in the Prometheus (OpenMetrics) text format.
pub fn render(snapshot: &Snapshot) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector(snapshot.clone())));
    let mut text = String::new();
    if let Err(err) = encode(&mut text, &registry) {
        // Writing to a String cannot fail; an encoder error would be ours.
        tracing::warn!(%err, "the Prometheus text is incomplete");
    }
    text
}

#[derive(Debug)]
struct SnapshotCollector(Snapshot);

pub(super) type Labels<'a> = Vec<(&'static str, &'a str)>;

/// A counter per router: name, help, and how to read it off a router.
type RouterCounter = (
    &'static str,
    &'static str,
    fn(&super::RouterSnapshot) -> u64,
);

/// A counter per kind: name, help, and how to read it off a kind.
type CounterOfKind = (&'static str, &'static str, fn(&super::KindSnapshot) -> u64);

pub(super) fn counters<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (Labels<'a>, u64)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in series {
        ConstCounter::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

pub(super) fn gauges<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (Labels<'a>, i64)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

pub(super) fn histograms<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (Labels<'a>, &'a Latency)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, latency) in series {
        // prometheus-client takes per-bucket counts and sums them up; the
        // last bucket is everything longer.
        let mut below = 0;
        let last = latency.buckets.len().saturating_sub(1);
        let buckets: Vec<(f64, u64)> = (latency.buckets.iter().enumerate())
            .map(|(i, (bound, cumulative))| {
                let count = cumulative - below;
                below = *cumulative;
                let bound = if i == last { f64::MAX } else { *bound };
                (bound, count)
            })
            .collect();
        let mut encoder = metric.encode_family(&labels)?;
        encoder.encode_histogram::<NoLabelSet>(latency.sum_s, latency.count, &buckets, None)?;
    }
    Ok(())
}

pub(super) fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let snapshot = &self.0;
        let kinds = || snapshot.kinds.iter();
        fn by_kind(k: &super::KindSnapshot) -> Labels<'_> {
            vec![("kind", k.kind.as_str())]
        }
        gauges(
            &mut encoder,
            "agentix_agents",
            "Agents that have not ended, by kind and status.",
            kinds().flat_map(|k| {
                (k.agents.iter()).map(|(status, n)| {
                    let labels = vec![("kind", k.kind.as_str()), ("status", status.as_str())];
                    (labels, gauge_value(*n))
                })
            }),
        )?;
        gauges(
            &mut encoder,
            "agentix_mailbox_queued_messages",
            "Messages waiting in the mailboxes of a kind's agents, sampled.",
            kinds().map(|k| (by_kind(k), gauge_value(k.queued))),
        )?;
        gauges(
            &mut encoder,
            "agentix_mailbox_queued_max_messages",
            "The most messages waiting in one mailbox of a kind, sampled.",
            kinds().map(|k| (by_kind(k), gauge_value(k.max_queued))),
        )?;
        let lifecycle: [CounterOfKind; 6] = [
            (
                "agentix_messages_handled",
                "Messages handled, by agent kind.",
                |k| k.handled,
            ),
            (
                "agentix_agent_starts",
                "Incarnations started, by agent kind.",
                |k| k.started,
            ),
            (
                "agentix_agent_failures",
                "Incarnations that failed, by agent kind.",
                |k| k.failed,
            ),
            ("agentix_agent_restarts", "Restarts, by agent kind.", |k| {
                k.restarted
            }),
            (
                "agentix_escalations",
                "Escalations, by supervisor kind.",
                |k| k.escalated,
            ),
            (
                "agentix_agent_stops",
                "Agents ended for good, by kind.",
                |k| k.stopped,
            ),
        ];
        for (name, help, value) in lifecycle {
            counters(
                &mut encoder,
                name,
                help,
                kinds().map(|k| (by_kind(k), value(k))),
            )?;
        }
        histograms(
            &mut encoder,
            "agentix_handling_seconds",
            "Time in a handler, one handling in 64 sampled, by agent kind.",
            kinds().map(|kind| (by_kind(kind), &kind.handling)),
        )?;
        gauges(
            &mut encoder,
            "agentix_registry_agents",
            "Registered agents, by registry and health.",
            (snapshot.registries.iter()).flat_map(|r| {
                (r.health.iter()).map(|(health, n)| {
                    let labels = vec![("registry", r.name.as_str()), ("health", health.as_str())];
                    (labels, gauge_value(*n))
                })
            }),
        )?;
        counters(
            &mut encoder,
            "agentix_registry_unhealthy_events",
            "Times a registered agent was found unhealthy, by registry.",
            (snapshot.registries.iter())
                .map(|r| (vec![("registry", r.name.as_str())], r.unhealthy_events)),
        )?;
        let routers = || snapshot.routers.iter();
        fn by_router(r: &super::RouterSnapshot) -> Labels<'_> {
            vec![("router", r.name.as_str())]
        }
        let traffic: [RouterCounter; 2] = [
            (
                "agentix_router_published",
                "Messages published, by router.",
                |r| r.published,
            ),
            (
                "agentix_router_delivered",
                "Deliveries handed to subscribers.",
                |r| r.delivered,
            ),
        ];
        for (name, help, value) in traffic {
            counters(
                &mut encoder,
                name,
                help,
                routers().map(|r| (by_router(r), value(r))),
            )?;
        }
        counters(
            &mut encoder,
            "agentix_router_undelivered",
            "Messages not delivered, by router and reason.",
            routers().flat_map(|r| {
                (r.undelivered.iter()).map(|(reason, n)| {
                    (
                        vec![("router", r.name.as_str()), ("reason", reason.as_str())],
                        *n,
                    )
                })
            }),
        )?;
        gauges(
            &mut encoder,
            "agentix_router_queued",
            "Deliveries waiting in the router for full mailboxes or full in-flight windows.",
            routers().map(|r| (by_router(r), gauge_value(r.queued))),
        )?;
        gauges(
            &mut encoder,
            "agentix_router_held_for_ack",
            "Deliveries held for acknowledgement by at-least-once subscribers.",
            routers().map(|r| (by_router(r), gauge_value(r.held_for_ack))),
        )?;
        histograms(
            &mut encoder,
            "agentix_router_publish_to_handle_seconds",
            "From publish to a subscriber's handling, one publish in 256 sampled, by router and topic.",
            routers().flat_map(|r| {
                (r.topics.iter()).map(|t| {
                    (
                        vec![("router", r.name.as_str()), ("topic", t.topic.as_str())],
                        &t.latency,
                    )
                })
            }),
        )?;
        super::store_metrics::encode(&mut encoder, &snapshot.stores)?;
        let missed = encoder.encode_descriptor(
            "agentix_monitor_events_missed",
            "Lifecycle events the monitor missed by falling behind.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(snapshot.events_missed).encode(missed)?;
        Ok(())
    }
}
