//! Deadlines as users meet them: they fire in every actix system a thread
//! runs, never early, and late only by what holds the asker's thread.

mod support;

use std::{
    future::Future,
    task::Poll,
    time::{Duration, Instant},
};

use agentix::prelude::*;

#[derive(Agent, Default)]
struct Sleepy;

#[handlers]
impl Sleepy {
    /// Never answers within any test's deadline.
    #[handle]
    fn nap(&mut self) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(Duration::from_secs(3600))
    }
}

#[test]
fn deadlines_fire_in_every_actix_system_run_one_after_another_on_a_thread() {
    for round in 0..30 {
        agentix::actix::System::new().block_on(async {
            let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
            let sleepy = swarm.spawn("sleepy", Sleepy::default).await.unwrap();
            let asked = sleepy.nap().timeout(Duration::from_millis(20));
            let answer = tokio::time::timeout(Duration::from_secs(2), asked)
                .await
                .unwrap_or_else(|_| panic!("system {round}: the 20 ms deadline never fired"));
            assert!(answer.unwrap_err().is_timeout(), "system {round}");
            // The system ends right after an ask joined its thread's wheel,
            // before the wheel could stamp it.
            let late = sleepy.nap().timeout(Duration::from_secs(60));
            let mut late = std::pin::pin!(late);
            std::future::poll_fn(|cx| {
                assert!(late.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        });
    }
}

/// Holds its arbiter thread for a while per message, as a handler doing
/// blocking work would.
#[derive(Agent, Default)]
#[agent(budget = 1)]
struct Blocker;

#[handlers]
impl Blocker {
    #[handle]
    fn block(&mut self, millis: u64) {
        std::thread::sleep(Duration::from_millis(millis));
    }
}

/// Asks from its own arbiter thread: the deadline lives in that thread's
/// wheel.
#[derive(Agent)]
struct Asker {
    sleepy: SleepyRef,
}

#[handlers]
impl Asker {
    /// How long a `deadline_ms` ask to a silent agent took to time out.
    #[handle]
    fn time_out(&mut self, deadline_ms: u64) -> impl Future<Output = Duration> + 'static {
        let sleepy = self.sleepy.clone();
        async move {
            let asked = Instant::now();
            let deadline = Duration::from_millis(deadline_ms);
            let answer = sleepy.nap().timeout(deadline).await;
            assert!(answer.unwrap_err().is_timeout());
            asked.elapsed()
        }
    }
}

#[agentix::test]
async fn a_deadline_is_late_only_by_the_turns_that_block_its_thread() {
    // Sleepy's naps never end: the shutdown abandons them after this.
    let config = SwarmConfig::default()
        .arbiters(2)
        .shutdown_timeout(Duration::from_millis(10));
    let swarm = Swarm::start(config).unwrap();
    let sleepy = swarm
        .agent(Sleepy::default)
        .on_arbiter(1)
        .spawn()
        .await
        .unwrap();
    let asker = swarm.agent(move || Asker {
        sleepy: sleepy.clone(),
    });
    let asker = asker.on_arbiter(0).spawn().await.unwrap();
    let blocker = swarm
        .agent(Blocker::default)
        .on_arbiter(0)
        .spawn()
        .await
        .unwrap();
    const BLOCK_MS: u64 = 3;
    const DEADLINE_MS: u64 = 5;
    for _ in 0..10 {
        // The asker's thread is held 3 ms at a time, one message per turn.
        for _ in 0..12 {
            blocker.tell(Block { millis: BLOCK_MS }).unwrap();
        }
        let took = asker.time_out(DEADLINE_MS).await.unwrap();
        assert!(
            took >= Duration::from_millis(DEADLINE_MS),
            "early: {took:?}"
        );
        // Stamped after a turn at most, fired after a turn at most, plus
        // two ticks; the rest is slack for a loaded machine.
        let bound = Duration::from_millis(DEADLINE_MS + 2 * BLOCK_MS + 2 + 25);
        assert!(took <= bound, "{took:?} is later than {bound:?}");
    }
    swarm.shutdown().await.unwrap();
}
