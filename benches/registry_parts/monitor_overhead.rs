//! The core tell workload with the monitor's per-message work on (handler
//! timing) and off, alternating rounds on one arbiter. A directory module, so that cargo
//! does not take it for a bench of its own.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use agentix::{
    actors::monitor::{MonitorConfig, MonitorRef},
    prelude::*,
};

const TELLS: u64 = 2_000_000;
const ROUNDS: usize = 5;

#[derive(Agent, Default)]
struct Sink {
    count: u64,
}

#[handlers]
impl Sink {
    #[handle]
    fn hit(&mut self) {
        self.count += 1;
    }

    #[handle]
    fn total(&mut self) -> u64 {
        self.count
    }
}

#[derive(Agent, Default)]
#[agent(ask_timeout_ms = 600_000)]
struct Teller;

#[handlers]
impl Teller {
    /// Time to tell `n` hits to `sink` on this arbiter and see them done.
    #[handle]
    fn tells(&mut self, sink: SinkRef, n: u64) -> impl Future<Output = Duration> + 'static {
        async move {
            let start = Instant::now();
            for _ in 0..n {
                if let Err(err) = sink.tell(Hit) {
                    sink.tell_wait(err.into_inner()).await.expect("room");
                }
            }
            sink.total().await.expect("flush");
            start.elapsed()
        }
    }
}

/// Median tells per second with the monitor's hot-path work on, and off.
/// One swarm, one arbiter, the same two agents: the rounds alternate
/// handler timing on and off, so the thread, the agents and the machine's
/// noise are shared. The monitor agent runs throughout (it samples only
/// when asked, and nobody asks here).
pub(crate) async fn tell_with_and_without_monitor() -> agentix::Result<(f64, f64)> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    let _monitor = MonitorRef::start(&swarm, MonitorConfig::default()).await?;
    let teller = swarm.agent(Teller::default).spawn().await?;
    let sink = swarm.agent(Sink::default).spawn().await?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        swarm.observe(false);
        let took = teller.tells(sink.clone(), TELLS).await?;
        off.push(TELLS as f64 / took.as_secs_f64());
        swarm.observe(true);
        let took = teller.tells(sink.clone(), TELLS).await?;
        on.push(TELLS as f64 / took.as_secs_f64());
    }
    swarm.shutdown().await?;
    Ok((super::median(&mut on), super::median(&mut off)))
}
