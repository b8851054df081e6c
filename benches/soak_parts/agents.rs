//! The agents of the soak bench: workers, the busy agent and its quiet
//! neighbour, and the router's subscribers. A directory module, so that
//! cargo does not take it for a bench of its own.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use agentix::{actix, actors::router::Batch, prelude::*};

use crate::SOAK_PANIC;

/// Work per message: a worker's tell, and the busy agent's (about 1 µs).
const WORK: u64 = 64;
pub(crate) const BUSY_WORK: u64 = 1_000;

/// `rounds` steps of arithmetic the optimiser cannot fold away.
pub(crate) fn spin(acc: u64, rounds: u64) -> u64 {
    (0..rounds).fold(acc, |a, i| {
        std::hint::black_box(a.wrapping_mul(31).wrapping_add(i))
    })
}

#[derive(Agent, Default)]
#[agent(restart = "permanent")]
pub(crate) struct Worker {
    acc: u64,
}

#[handlers]
impl Worker {
    #[handle]
    pub(crate) fn work(&mut self, fail: bool) {
        if fail {
            panic!("{SOAK_PANIC}");
        }
        self.acc = spin(self.acc, WORK);
    }

    #[handle]
    pub(crate) fn square(&mut self, n: u64) -> u64 {
        n.wrapping_mul(n)
    }
}

/// The busiest agent: its producer never lets its mailbox empty.
#[derive(Agent, Default)]
pub(crate) struct Busy {
    acc: u64,
}

#[handlers]
impl Busy {
    #[handle]
    pub(crate) fn churn(&mut self) {
        self.acc = spin(self.acc, BUSY_WORK);
    }
}

/// Shares an arbiter with the busy agent and answers at once.
#[derive(Agent, Default)]
#[agent(mailbox = 8192)]
pub(crate) struct Quiet;

#[handlers]
impl Quiet {
    #[handle]
    pub(crate) fn ping(&mut self) -> u64 {
        1
    }
}

/// Counts its deliveries and acknowledges every batch.
#[derive(Agent)]
pub(crate) struct Subscriber {
    pub(crate) deliveries: Arc<AtomicU64>,
}

impl actix::Handler<Batch<u64>> for Subscriber {
    type Result = ();

    fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
        std::hint::black_box(batch.payloads().fold(0u64, |a, p| a.wrapping_add(*p)));
        self.deliveries.fetch_add(batch.len() as u64, Relaxed);
        batch.ack();
    }
}
