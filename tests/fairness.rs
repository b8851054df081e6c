//! Fairness on an arbiter: an agent whose mailbox never empties hands the
//! thread back after its per-turn budget, so its neighbours answer and its
//! own timers run while it is flooded.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use agentix::{ConfigError, SpawnError, actix, prelude::*};
use support::{PROMPTLY, within};

/// Work that takes a few microseconds per message, so a producer on another
/// thread keeps the mailbox full.
#[derive(Agent)]
#[agent(mailbox = 256, lifecycle)]
struct Busy {
    handled: Arc<AtomicU64>,
    /// `handled` at each tick of its own 1 ms timer.
    ticks: Arc<parking_lot::Mutex<Vec<u64>>>,
}

impl Lifecycle for Busy {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.run_interval(Duration::from_millis(1), |busy, _| {
            let handled = busy.handled.load(Ordering::Relaxed);
            busy.ticks.lock().push(handled);
        });
    }
}

#[handlers]
impl Busy {
    #[handle]
    fn work(&mut self, rounds: u64) {
        std::hint::black_box((0..rounds).fold(0_u64, |acc, n| acc.wrapping_mul(31) ^ n));
        self.handled.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Agent, Default)]
struct Quiet;

#[handlers]
impl Quiet {
    #[handle]
    fn ping(&mut self) -> u32 {
        7
    }
}

struct Flood {
    busy: BusyRef,
    handled: Arc<AtomicU64>,
    ticks: Arc<parking_lot::Mutex<Vec<u64>>>,
    stop: Arc<AtomicBool>,
}

/// A busy agent on the swarm's only arbiter, flooded from this thread with
/// `tell_wait` until `stop` is set (or `limit` tells are sent).
async fn flood(swarm: &Swarm, budget: Option<usize>, limit: u64) -> Flood {
    let handled = Arc::new(AtomicU64::new(0));
    let ticks = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (h, t) = (handled.clone(), ticks.clone());
    let mut spawn = swarm.agent(move || Busy {
        handled: h.clone(),
        ticks: t.clone(),
    });
    if let Some(budget) = budget {
        spawn = spawn.budget(budget);
    }
    let busy = spawn.name("busy").spawn().await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (producer, stopped) = (busy.clone(), stop.clone());
    actix::spawn(async move {
        for _ in 0..limit {
            if stopped.load(Ordering::Relaxed) {
                break;
            }
            let sent = producer.tell_wait(Work { rounds: 2_000 });
            if sent.timeout(PROMPTLY).await.is_err() {
                break;
            }
        }
    });
    Flood {
        busy,
        handled,
        ticks,
        stop,
    }
}

#[agentix::test]
async fn a_flooded_agent_lets_its_neighbour_on_the_same_arbiter_answer() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let quiet = swarm.spawn("quiet", Quiet::default).await.unwrap();
    let flood = flood(&swarm, None, u64::MAX).await;
    // The flood is on: the busy agent has handled some and has more queued.
    within(PROMPTLY, "the flood to start", async {
        while flood.handled.load(Ordering::Relaxed) < 1_000 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let handled_before = flood.handled.load(Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for _ in 0..200 {
        let asked = Instant::now();
        let answer = quiet.ping().timeout(Duration::from_millis(500)).await;
        assert_eq!(
            answer.unwrap(),
            7,
            "the neighbour must answer during the flood"
        );
        slowest = slowest.max(asked.elapsed());
    }
    let handled_during = flood.handled.load(Ordering::Relaxed) - handled_before;
    flood.stop.store(true, Ordering::Relaxed);
    // Turns alternate: at least a message of the flood per answer.
    assert!(
        handled_during >= 200,
        "the busy agent kept working meanwhile ({handled_during} handled)"
    );
    eprintln!(
        "slowest of 200 neighbour asks during the flood: {slowest:?}, {handled_during} handled meanwhile"
    );
    drop(flood.busy);
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_flooded_agent_still_runs_its_own_timers() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    const TELLS: u64 = 20_000;
    let flood = flood(&swarm, Some(32), TELLS).await;
    within(PROMPTLY, "the flood to be handled", async {
        while flood.handled.load(Ordering::Relaxed) < TELLS {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let ticks = flood.ticks.lock().clone();
    let during = ticks.iter().filter(|h| **h > 0 && **h < TELLS).count();
    assert!(
        during >= 20,
        "its 1 ms timer ticked {during} times while {TELLS} messages were handled: {ticks:?}"
    );
    swarm.shutdown().await.unwrap();
}

/// Counts what it is told; mailbox large enough for a whole burst.
#[derive(Agent)]
#[agent(mailbox = 4096, budget = 4)]
struct Tally {
    handled: Arc<AtomicU64>,
}

#[handlers]
impl Tally {
    #[handle]
    fn count(&mut self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }
}

#[agentix::test]
async fn an_agent_nobody_holds_handles_its_queued_mail_in_many_turns_before_it_stops() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let tally = swarm
        .spawn("tally", move || Tally { handled: h.clone() })
        .await
        .unwrap();
    for _ in 0..2_000 {
        tally.tell(Count).unwrap();
    }
    // Its last address goes while hundreds of turns of mail are queued.
    drop(tally);
    within(PROMPTLY, "the agent to end", async {
        while swarm.agents() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(handled.load(Ordering::Relaxed), 2_000);
    swarm.shutdown().await.unwrap();
}

/// Idle but for a timer that never fires within the test.
#[derive(Agent, Default)]
#[agent(budget = 1, lifecycle)]
struct Sleeper;

impl Lifecycle for Sleeper {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        ctx.run_interval(Duration::from_secs(3600), |_, _| {});
    }
}

#[agentix::test]
async fn an_idle_agent_with_a_timer_is_not_polled_whatever_its_budget() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let sleeper = swarm.spawn("sleeper", Sleeper::default).await.unwrap();
    let quiet = swarm.spawn("quiet", Quiet::default).await.unwrap();
    // Its timer counts for nothing: only messages spend a turn's budget.
    let before = sleeper.activity().stamp();
    for _ in 0..200 {
        // Each answer is a pass of the arbiter's scheduler.
        assert_eq!(quiet.ping().await.unwrap(), 7);
    }
    assert_eq!(sleeper.activity().stamp(), before, "polled while idle");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_budget_of_zero_is_a_typed_error_and_usize_max_means_no_limit() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let refused = swarm.agent(Quiet::default).budget(0).spawn().await;
    assert!(
        matches!(refused, Err(SpawnError::Config(ConfigError::ZeroBudget))),
        "{refused:?}"
    );
    let unlimited = swarm.agent(Quiet::default).budget(usize::MAX).spawn().await;
    assert_eq!(unlimited.unwrap().ping().await.unwrap(), 7);
    assert_eq!(
        Swarm::start(SwarmConfig::default().budget(0)).unwrap_err(),
        ConfigError::ZeroBudget
    );
    swarm.shutdown().await.unwrap();
}
