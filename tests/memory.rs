//! Memory that must not accumulate: what an actix system leaves on its
//! thread once it has ended, and what completed asks leave in the deadline
//! wheel. Counted with a counting allocator, so this binary holds one test
//! (tests of one binary run in parallel and would count each other).

use std::{future::Future, time::Duration};

use agentix::{actix, prelude::*};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed, process-wide.
fn live() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

#[derive(Agent, Default)]
struct Echo;

#[handlers]
impl Echo {
    #[handle]
    fn back(&mut self, n: u64) -> u64 {
        n
    }

    #[handle]
    fn nap(&mut self) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(Duration::from_secs(3600))
    }
}

/// One actix system with a swarm: an agent, asks, a timed-out ask, an ask
/// left pending, shutdown.
fn one_system() {
    actix::System::new().block_on(async {
        // The nap outlives its ask: the shutdown waits this long for it,
        // then abandons it.
        let config = SwarmConfig::default()
            .arbiters(1)
            .shutdown_timeout(Duration::from_millis(5));
        let swarm = Swarm::start(config).unwrap();
        let echo = swarm.spawn("echo", Echo::default).await.unwrap();
        for n in 0..100 {
            assert_eq!(echo.back(n).await.unwrap(), n);
        }
        let napped = echo.nap().timeout(Duration::from_millis(2)).await;
        assert!(napped.unwrap_err().is_timeout());
        swarm.shutdown().await.unwrap();
    });
}

/// Asks with `count` different deadlines of about 600 s, all answered.
fn asks_with_distinct_deadlines(count: u64) {
    actix::System::new().block_on(async {
        let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
        let echo = swarm.spawn("echo", Echo::default).await.unwrap();
        let before = live();
        for n in 0..count {
            let deadline = Duration::from_secs(600) + Duration::from_micros(n);
            assert_eq!(echo.back(n).timeout(deadline).await.unwrap(), n);
        }
        // The wheel's young entries go at its next stamp (within 1 ms).
        let released = agentix::testkit::eventually(Duration::from_secs(2), async || {
            live() - before < 64 * 1024
        })
        .await;
        let held = live() - before;
        eprintln!("{count} answered asks with distinct deadlines hold {held} bytes");
        assert!(
            released,
            "{count} answered asks with distinct deadlines still hold {held} bytes"
        );
        swarm.shutdown().await.unwrap();
    });
}

#[test]
fn systems_and_completed_asks_leave_nothing_behind() {
    // Warm up: thread-locals, lazily built statics, the allocator's own.
    for _ in 0..5 {
        one_system();
    }
    let before = live();
    const SYSTEMS: i64 = 40;
    for _ in 0..SYSTEMS {
        one_system();
    }
    let per_system = (live() - before) / SYSTEMS;
    eprintln!("each actix system with a swarm left {per_system} bytes behind");
    assert!(
        per_system < 512,
        "each actix system with a swarm left {per_system} bytes behind"
    );

    asks_with_distinct_deadlines(100_000);
}
