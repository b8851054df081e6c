//! Every duration the router takes, from zero to `Duration::MAX`: capped at
//! `MAX_DURATION` where it is given, and never a clock overflow where it
//! is used.

use std::{sync::Arc, time::Duration};

use proptest::prelude::*;
use tokio::time::Instant;

use super::*;
use crate::router::{
    Envelope, Publish, Retry, Topic,
    ack::{AckCell, Unacked},
};

/// The edges, always tried: zero, the cap and either side of it, the
/// largest duration.
const EDGES: [Duration; 6] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    MAX_DURATION,
    MAX_DURATION.saturating_add(Duration::from_nanos(1)),
    Duration::from_secs(u64::MAX),
    Duration::MAX,
];

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        proptest::sample::select(EDGES.to_vec()),
        (0u64..10_000).prop_map(Duration::from_millis),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(secs, nanos)| Duration::new(secs, nanos)),
    ]
}

/// What the router does with a ttl: the deadline of the envelope it routes.
fn ttl_is_capped_and_its_deadline_representable(ttl: Duration) {
    let publish = Publish::new(Topic::new("t").unwrap(), 1_u8).ttl(ttl);
    assert_eq!(publish.ttl, Some(ttl.min(MAX_DURATION)));
    let at = Instant::now();
    let deadline = later(at, publish.ttl.unwrap());
    assert_eq!(deadline - at, ttl.min(MAX_DURATION));
    let envelope =
        Envelope::published(1, Topic::new("t").unwrap(), Arc::new(1), at).with_deadline(deadline);
    assert_eq!(envelope.expired_at(at), ttl.is_zero());
}

fn ack_timeout_is_capped(timeout: Duration) {
    let retry = Retry::default().ack_timeout(timeout);
    assert_eq!(retry.ack_timeout, timeout.min(MAX_DURATION));
}

/// What the router does with a backoff: a refused batch, scheduled again.
fn backoff_is_capped_and_a_refusal_schedules_without_overflow(min: Duration, max: Duration) {
    let retry = Retry::default().retries(u32::MAX).backoff(min, max);
    let (min, max) = (min.min(MAX_DURATION), max.max(min).min(MAX_DURATION));
    assert_eq!((retry.backoff_min, retry.backoff_max), (min, max));
    for attempt in [1, 2, 21, u32::MAX] {
        let delay = retry.delay(attempt);
        assert!(delay <= max, "attempt {attempt}: {delay:?} past the cap");
    }
    assert_eq!(retry.delay(1), min);
    let mut unacked = Unacked::new(retry);
    let cell = Arc::new(AckCell::default());
    let topic = Topic::new("t").unwrap();
    let items: Arc<[Envelope<u8>]> = [Envelope::new(1, topic, Arc::new(1))].into();
    let now = Instant::now();
    unacked.sent(cell.clone(), items, now);
    cell.answer(false);
    let checked = unacked.check(now);
    assert!(checked.exhausted.is_empty());
    assert_eq!(
        checked.again.len(),
        usize::from(min.is_zero()),
        "due now only without a backoff"
    );
}

proptest! {
    #[test]
    fn every_router_duration_setter_caps_without_overflow(
        ttl in any_duration(),
        timeout in any_duration(),
        min in any_duration(),
        max in any_duration(),
    ) {
        ttl_is_capped_and_its_deadline_representable(ttl);
        ack_timeout_is_capped(timeout);
        backoff_is_capped_and_a_refusal_schedules_without_overflow(min, max);
    }
}

#[test]
fn every_router_duration_setter_takes_each_edge() {
    for edge in EDGES {
        ttl_is_capped_and_its_deadline_representable(edge);
        ack_timeout_is_capped(edge);
        for other in EDGES {
            backoff_is_capped_and_a_refusal_schedules_without_overflow(edge, other);
        }
    }
}

#[test]
fn later_caps_the_wait_and_never_overflows() {
    let now = Instant::now();
    assert_eq!(later(now, Duration::MAX), now + MAX_DURATION);
    assert_eq!(later(now, Duration::ZERO), now);
}

#[test]
fn sizes_above_their_maximum_are_named_config_errors() {
    let config = RouterConfig::default().dedup_window(MAX_DEDUP_WINDOW + 1);
    let err = config.validate().unwrap_err();
    assert_eq!(
        err,
        ConfigError::TooLarge {
            setting: "dedup_window",
            requested: MAX_DEDUP_WINDOW + 1,
            max: MAX_DEDUP_WINDOW
        }
    );
    assert!(err.to_string().contains("exceeds the maximum"), "{err}");
    assert!(
        RouterConfig::default()
            .dedup_window(MAX_DEDUP_WINDOW)
            .validate()
            .is_ok()
    );
    assert_eq!(
        RouterConfig::default().budget(0).validate(),
        Err(ConfigError::ZeroBudget)
    );
    assert!(check_shards(MAX_SHARDS).is_ok());
    assert!(check_shards(usize::MAX).is_err());
}
