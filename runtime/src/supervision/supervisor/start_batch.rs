//! Starting many children at once: each arbiter gets its share in batches,
//! prepares and launches them itself and answers once per batch.
//!
//! A cross-thread wake-up is a syscall, and preparing an agent allocates its
//! mailbox and control block: done one by one from the supervisor's thread,
//! starting 100k agents is bound by that one thread and its wake-ups. Here
//! the supervisor only places children and hands them out; the arbiters do
//! the work in parallel, and a batch leaves as soon as it is full so they
//! start while the rest are still being handed out.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    sync::Arc,
    task::Poll,
    time::Duration,
};

use futures_util::future::join_all;
use tokio::{sync::oneshot, time::Instant};

use crate::{
    SpawnError, Swarm,
    agent::start_latch::StartLatch,
    deadline::instant_after,
    supervision::{
        ErasedChild, Link,
        child_spec::{AgentChild, Launched, Start},
        control::SupervisorCore,
    },
};

/// How many children travel to their arbiter in one message.
const BATCH: usize = 512;

/// How long past the start timeout the supervisor waits for a batch's
/// answer. The arbiter judges each start at the timeout itself; an answer
/// later still means the arbiter thread is blocked (a hook that never
/// returns), and the supervisor reports the batch timed out instead of
/// hanging with it.
const ARBITER_GRACE: Duration = Duration::from_secs(1);

/// How one child's start went, with its key in the supervisor's table.
pub(crate) type Outcome = (u64, Result<Launched, SpawnError>);

/// An agent child on its way to its arbiter; `at` is its place in the call.
struct Batched {
    at: usize,
    child: Arc<dyn AgentChild>,
    link: Link,
}

/// Starts `specs` concurrently and returns how each went, in the given
/// order.
pub(crate) async fn start_children(
    core: &Arc<SupervisorCore>,
    swarm: &Swarm,
    specs: &[Arc<dyn ErasedChild>],
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = specs
        .iter()
        .map(|_| (core.next_key(), Err(SpawnError::SwarmStopped)))
        .collect();
    let mut filling: Vec<Vec<Batched>> = Vec::new();
    let mut batches = Vec::new();
    let mut own = Vec::new();
    for (at, spec) in specs.iter().enumerate() {
        let link = Link {
            overseer: core.clone(),
            key: outcomes[at].0,
        };
        match spec.clone().start(swarm, link) {
            Start::Agent {
                arbiter,
                child,
                link,
            } => {
                let arbiter = match swarm.place(arbiter) {
                    Ok(arbiter) => arbiter,
                    Err(err) => {
                        outcomes[at].1 = Err(err);
                        continue;
                    }
                };
                if filling.len() <= arbiter {
                    filling.resize_with(arbiter + 1, Vec::new);
                }
                let batch = &mut filling[arbiter];
                batch.push(Batched { at, child, link });
                if batch.len() == BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                    batches.push(send_batch(swarm, arbiter, full));
                }
            }
            Start::Future(fut) => own.push(async move { (at, fut.await) }),
        }
    }
    for (arbiter, batch) in filling.into_iter().enumerate() {
        if !batch.is_empty() {
            batches.push(send_batch(swarm, arbiter, batch));
        }
    }
    let (batches, own) = futures_util::future::join(join_all(batches), join_all(own)).await;
    for (at, result) in batches.into_iter().flatten().chain(own) {
        outcomes[at].1 = result;
    }
    outcomes
}

/// Sends `children` to `arbiter` in one message, at once; they are launched
/// there, and the returned future gets one reply for the batch, once each
/// has started, failed to, or run out of the swarm's start timeout.
fn send_batch(
    swarm: &Swarm,
    arbiter: usize,
    children: Vec<Batched>,
) -> impl Future<Output = Vec<(usize, Result<Launched, SpawnError>)>> + use<> {
    let names: Vec<_> = children
        .iter()
        .map(|child| (child.at, child.child.id().clone()))
        .collect();
    let (reply, replied) = oneshot::channel();
    let here = swarm.clone();
    let job = async move {
        let deadline = instant_after(Instant::now(), here.config().start_timeout);
        let latch = StartLatch::new(children.len());
        let launched: Vec<_> = children
            .into_iter()
            .enumerate()
            .map(|(slot, Batched { at, child, link })| {
                (
                    at,
                    child.launch_here(&here, link, arbiter, latch.slot(slot)),
                )
            })
            .collect();
        let mut deadline = pin!(tokio::time::sleep_until(deadline));
        poll_fn(|cx| match latch.poll_all(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => deadline.as_mut().poll(cx),
        })
        .await;
        // Slots not reported by now ran out of time.
        let outcomes: Vec<_> = launched
            .into_iter()
            .zip(latch.outcomes())
            .map(|((at, launched), started)| {
                let result = launched.and_then(|launched| {
                    here.start_outcome(&launched.shared, started)
                        .map(|()| launched)
                });
                (at, result)
            })
            .collect();
        if let Err(outcomes) = reply.send(outcomes) {
            // The supervisor stopped waiting (it gave up on this arbiter, or
            // was stopped): these must not run on with nobody to supervise.
            for (_, result) in outcomes {
                if let Ok(launched) = result {
                    launched.shared.request_stop();
                }
            }
        }
    };
    let sent = swarm.pool_handle(arbiter).spawn(job);
    let after = swarm.config().start_timeout;
    async move {
        let timed_out =
            match tokio::time::timeout(after.saturating_add(ARBITER_GRACE), replied).await {
                Ok(Ok(outcomes)) if sent => return outcomes,
                // The arbiter stopped before it ran or finished the batch.
                Ok(_) => false,
                Err(_) => true,
            };
        let failed = names.into_iter().map(|(at, agent)| {
            let err = if timed_out {
                SpawnError::StartTimeout { agent, after }
            } else {
                SpawnError::SwarmStopped
            };
            (at, Err(err))
        });
        failed.collect()
    }
}
