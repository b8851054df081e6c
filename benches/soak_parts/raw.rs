//! The raw actix baseline of the soak bench: a quiet actor asked every
//! 2 ms on an arbiter whose other actor is kept flooded by a producer on
//! a second arbiter (a window of `send`s always in flight, so its mailbox
//! is never empty). actix drains a mailbox until it is empty before the
//! arbiter runs anything else, so it starves the neighbour the same way.
//! A directory module, so that cargo does not take it for a bench of its own.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use agentix::actix::{self, Actor, Arbiter};
use futures_util::{StreamExt as _, stream::FuturesUnordered};
use tokio::sync::oneshot;

use crate::measure::{Probed, probe};

/// Sends in flight at once, as many as the flooded actor's mailbox holds.
const WINDOW: usize = 1024;

struct RawBusy {
    acc: u64,
}

impl Actor for RawBusy {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(WINDOW);
    }
}

struct RawChurn;

impl actix::Message for RawChurn {
    type Result = ();
}

impl actix::Handler<RawChurn> for RawBusy {
    type Result = ();

    fn handle(&mut self, _: RawChurn, _: &mut Self::Context) {
        self.acc = crate::agents::spin(self.acc, crate::agents::BUSY_WORK);
    }
}

struct RawQuiet;

impl Actor for RawQuiet {
    type Context = actix::Context<Self>;
}

struct RawPing;

impl actix::Message for RawPing {
    type Result = u64;
}

impl actix::Handler<RawPing> for RawQuiet {
    type Result = u64;

    fn handle(&mut self, _: RawPing, _: &mut Self::Context) -> u64 {
        1
    }
}

/// Probes the quiet raw actor for `probe_for` while its neighbour is
/// flooded; the flood starts `warm_up` before.
pub(crate) async fn neighbour_under_flood(
    warm_up: Duration,
    probe_for: Duration,
    deadline: Duration,
) -> Probed {
    let (home, other) = (Arbiter::new(), Arbiter::new());
    let busy = RawBusy::start_in_arbiter(&home.handle(), |_| RawBusy { acc: 0 });
    let quiet = RawQuiet::start_in_arbiter(&home.handle(), |_| RawQuiet);
    let stop = Arc::new(AtomicBool::new(false));
    let (done, flood_ended) = oneshot::channel::<u64>();
    let flooding = stop.clone();
    other.spawn_fn(move || {
        actix::spawn(async move {
            let (mut in_flight, mut sent) = (FuturesUnordered::new(), 0u64);
            while !flooding.load(Relaxed) {
                while in_flight.len() < WINDOW {
                    in_flight.push(busy.send(RawChurn));
                    sent += 1;
                }
                let _ = in_flight.next().await;
            }
            let _ = done.send(sent);
        });
    });
    tokio::time::sleep(warm_up).await;
    let until = Instant::now() + probe_for;
    let probed = probe(crate::PROBE_EVERY, until, deadline, || {
        let ask = quiet.send(RawPing);
        async move { matches!(tokio::time::timeout(deadline, ask).await, Ok(Ok(_))) }
    })
    .await;
    stop.store(true, Relaxed);
    // The producer ends at its next answer; an arbiter stuck for longer is
    // stopped all the same.
    let _ = tokio::time::timeout(Duration::from_secs(2), flood_ended).await;
    home.stop();
    other.stop();
    probed
}
