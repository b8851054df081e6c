//! Every public duration setter, over durations from zero to
//! `Duration::MAX` (the edges always, then random ones): no panic, no
//! hang, and the documented result: zero timeouts and intensity windows
//! are typed errors, anything longer than `MAX_DURATION` is taken as
//! `MAX_DURATION`.

use std::time::Duration;

use agentix::{
    MAX_DURATION,
    actix::System,
    prelude::*,
    testkit::{
        FaultTest,
        proptest::{
            self, arbitrary::any, prop_oneof, sample::select, strategy::Strategy as Generate,
            test_runner::TestRunner,
        },
    },
};

use super::{Fail, Worker, restarted};

/// How long one case in a running swarm may take before it counts as a hang.
const CASE_BOUND: Duration = Duration::from_secs(30);

/// Below this, a start or an ask may legitimately run out of time.
const SHORT: Duration = Duration::from_secs(1);

const EDGES: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_millis(1),
    Duration::from_secs(1),
    MAX_DURATION.saturating_sub(Duration::from_nanos(1)),
    MAX_DURATION,
    MAX_DURATION.saturating_add(Duration::from_nanos(1)),
    Duration::MAX,
];

fn durations() -> impl Generate<Value = Duration> {
    prop_oneof![
        select(EDGES.to_vec()),
        (0..10_000u64).prop_map(Duration::from_millis),
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(secs, nanos)| Duration::new(secs, nanos)),
    ]
}

fn saturated(d: Duration) -> Duration {
    d.min(MAX_DURATION)
}

/// The setters that only record a value: checked with `validate` and the
/// values they report.
fn check_recorded(d: Duration, other: Duration, attempt: u32, seed: u64) {
    for (setting, config) in [
        ("ask_timeout", SwarmConfig::default().ask_timeout(d)),
        ("start_timeout", SwarmConfig::default().start_timeout(d)),
        (
            "shutdown_timeout",
            SwarmConfig::default().shutdown_timeout(d),
        ),
    ] {
        let expected = match d.is_zero() {
            true => Err(ConfigError::ZeroTimeout { setting }),
            false => Ok(()),
        };
        assert_eq!(config.validate(), expected, "{setting}({d:?})");
    }
    let intensity = Intensity::new(3, d);
    assert_eq!(intensity.within(), saturated(d));
    let expected = match d.is_zero() {
        true => Err(ConfigError::ZeroIntensityWindow),
        false => Ok(()),
    };
    assert_eq!(
        SwarmConfig::default().intensity(intensity).validate(),
        expected
    );

    let backoff = Backoff::exponential(d, other);
    let delay = backoff.delay(attempt, seed);
    assert!(
        delay <= saturated(d.max(other)),
        "{d:?} {other:?}: {delay:?}"
    );
    if d.is_zero() {
        assert_eq!(delay, Duration::ZERO);
    }

    let _ = FaultTest::new("bounds").bounds(d, other);
    let _ = ChildSpec::new("child", Worker::default).shutdown_timeout(d);
    let _ = SupervisorSpec::new("sup").shutdown_timeout(d);
}

#[test]
fn every_duration_setter_takes_any_duration_with_its_documented_result() {
    for d in EDGES {
        for other in EDGES {
            check_recorded(d, other, 1, 0);
            check_recorded(d, other, u32::MAX, u64::MAX);
        }
    }
    let mut runner = TestRunner::default();
    let cases = (durations(), durations(), any::<u32>(), any::<u64>());
    runner
        .run(&cases, |(d, other, attempt, seed)| {
            check_recorded(d, other, attempt, seed);
            Ok(())
        })
        .unwrap();
}

/// One swarm with every duration of it set to `d`: a spawn and a tree
/// start, asks, a failure and its restart under a backoff of `d`, a
/// shutdown. Everything either works or fails as documented, in time.
async fn run_with(d: Duration) {
    let config = SwarmConfig::default()
        .arbiters(1)
        .ask_timeout(d)
        .start_timeout(d)
        .shutdown_timeout(d)
        .intensity(Intensity::new(3, d));
    let swarm = match Swarm::start(config) {
        Ok(swarm) => swarm,
        Err(err) => {
            assert!(d.is_zero(), "{d:?}: {err}");
            assert_eq!(
                err,
                ConfigError::ZeroTimeout {
                    setting: "ask_timeout"
                }
            );
            return;
        }
    };
    let spawned = swarm
        .agent(Worker::default)
        .name("worker")
        .ask_timeout(d)
        .intensity(Intensity::new(3, d))
        .spawn()
        .await;
    match spawned {
        Ok(worker) => match worker.ping().timeout(d).await {
            Ok(n) => assert_eq!(n, 7),
            Err(err) => assert!(d < SHORT && err.is_timeout(), "{d:?}: {err}"),
        },
        Err(err) => assert!(
            d < SHORT && matches!(err, SpawnError::StartTimeout { .. }),
            "{d:?}: {err}"
        ),
    }
    let mut events = swarm.events();
    let started = swarm
        .supervisor("root")
        .intensity(Intensity::new(3, d))
        .backoff(Backoff::exponential(d, d))
        .child(
            ChildSpec::new("child", Worker::default)
                .restart(Restart::Permanent)
                .shutdown_timeout(d),
        )
        .supervisor(SupervisorSpec::new("inner").shutdown_timeout(d))
        .start()
        .await;
    match started {
        Ok(root) => {
            let child = root.child::<Worker>("child").unwrap();
            // An ask with this deadline may time out (a short one fires
            // before the reply); the failure goes by tell, so that a
            // deadline passed while it queued cannot skip it.
            let _ = child.ping().timeout(d).await;
            child.tell(Fail).expect("room for the failure");
            let (attempt, delay) = restarted(&mut events, "child").await;
            assert_eq!(attempt, 1);
            assert!(delay <= saturated(d), "{d:?}: {delay:?}");
        }
        Err(err) => assert!(d < SHORT, "{d:?}: {err}"),
    }
    match swarm.shutdown().await {
        Ok(_) | Err(agentix::ShutdownError::GaveUp { .. }) => {}
        Err(err) => panic!("{d:?}: {err}"),
    }
}

fn run_bounded(d: Duration) {
    System::new().block_on(async move {
        if tokio::time::timeout(CASE_BOUND, run_with(d)).await.is_err() {
            panic!("a swarm with every duration {d:?} hung");
        }
    });
}

#[test]
fn every_duration_reaches_a_running_swarm_without_panic_or_hang() {
    agentix::testkit::quiet_injected_panics();
    for d in EDGES {
        run_bounded(d);
    }
    let config = proptest::test_runner::Config::with_cases(8);
    let mut runner = TestRunner::new(config);
    runner
        .run(&durations(), |d| {
            run_bounded(d);
            Ok(())
        })
        .unwrap();
}
