//! The state stores' families in the Prometheus text: reads, writes by
//! outcome, commit batch sizes and latency, keys, bytes, conflicts.

use std::fmt;

use prometheus_client::encoding::DescriptorEncoder;

use super::{
    StoreSnapshot,
    prometheus::{Labels, counters, gauge_value, gauges, histograms},
};

/// A counter per store: name, help, and how to read it off a store.
type StoreCounter = (&'static str, &'static str, fn(&StoreSnapshot) -> u64);

pub(super) fn encode(encoder: &mut DescriptorEncoder<'_>, stores: &[StoreSnapshot]) -> fmt::Result {
    fn by_store(s: &StoreSnapshot) -> Labels<'_> {
        vec![("store", s.name.as_str()), ("backend", s.backend.as_str())]
    }
    let all = || stores.iter();
    let plain: [StoreCounter; 4] = [
        (
            "agentix_state_reads",
            "Current-value reads, by store.",
            |s| s.reads,
        ),
        (
            "agentix_state_bytes_written",
            "Bytes of key state handed to the backend, by store.",
            |s| s.bytes_written,
        ),
        (
            "agentix_state_conflicts_opened",
            "Conflicts opened by the manual policy, by store.",
            |s| s.conflicts_opened,
        ),
        (
            "agentix_state_conflicts_resolved",
            "Conflicts resolved, by store.",
            |s| s.conflicts_resolved,
        ),
    ];
    for (name, help, value) in plain {
        counters(encoder, name, help, all().map(|s| (by_store(s), value(s))))?;
    }
    counters(
        encoder,
        "agentix_state_writes",
        "Writes by store and outcome.",
        all().flat_map(|s| {
            (s.writes.iter()).map(|(outcome, n)| {
                let mut labels = by_store(s);
                labels.push(("outcome", outcome.as_str()));
                (labels, *n)
            })
        }),
    )?;
    let sizes: Vec<Vec<(String, u64)>> = all()
        .map(|s| {
            (s.commit_batches.iter())
                .map(|(largest, commits)| (largest.to_string(), *commits))
                .collect()
        })
        .collect();
    counters(
        encoder,
        "agentix_state_commits",
        "Commits by store and batch size (writes per commit, up to `size`).",
        all().zip(&sizes).flat_map(|(s, sizes)| {
            sizes.iter().map(move |(size, commits)| {
                let mut labels = by_store(s);
                labels.push(("size", size.as_str()));
                (labels, *commits)
            })
        }),
    )?;
    histograms(
        encoder,
        "agentix_state_commit_seconds",
        "How long commits took (encoding, the backend's write and sync), by store.",
        all().map(|s| (by_store(s), &s.commit_latency)),
    )?;
    gauges(
        encoder,
        "agentix_state_keys",
        "Keys held (deleted ones keep a tombstone), by store.",
        all().map(|s| (by_store(s), gauge_value(s.keys))),
    )?;
    gauges(
        encoder,
        "agentix_state_conflicts_open",
        "Conflicts open now, by store.",
        all().map(|s| (by_store(s), gauge_value(s.conflicts_open))),
    )
}
