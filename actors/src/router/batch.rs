//! What a subscriber receives: a batch of deliveries in one mailbox message.

use std::{fmt, ops::Deref, sync::Arc};

use super::{Envelope, ack::AckCell, credit::Done};

/// Deliveries for one subscriber, in publish order, in one mailbox message.
///
/// The deliveries are shared: subscribers that had the same deliveries
/// pending receive the same batch, so a message published to 1000
/// subscribers is neither copied nor boxed per subscriber. A batch
/// dereferences to the slice of its envelopes.
///
/// Under [`DeliveryMode::AtLeastOnce`](super::DeliveryMode::AtLeastOnce) the
/// subscriber answers each batch with [`ack`](Self::ack) once it has handled
/// it; a batch dropped without an answer (its handler panicked, say) is
/// sent again. Under at-most-once both answers do nothing.
pub struct Batch<M> {
    deliveries: Arc<[Envelope<M>]>,
    ack: Option<Arc<AckCell>>,
    /// At-most-once: where the subscription counts the messages its
    /// subscriber is done with, for its window of messages in flight.
    done: Option<Arc<Done>>,
    /// The delivery timed from publish to handling, if any: found once per
    /// shared batch by the router, not by each subscriber.
    sampled: Option<u32>,
}

/// Where the first delivery to time is in `batch`.
pub(crate) fn sampled_in<M>(batch: &[Envelope<M>]) -> Option<u32> {
    let at = batch.iter().position(|e| e.sampled.is_some())?;
    u32::try_from(at).ok()
}

impl<M> Batch<M> {
    pub(crate) fn new(
        deliveries: Arc<[Envelope<M>]>,
        ack: Option<Arc<AckCell>>,
        done: Option<Arc<Done>>,
        sampled: Option<u32>,
    ) -> Self {
        Self {
            deliveries,
            ack,
            done,
            sampled,
        }
    }

    /// Handled: the router forgets the batch.
    pub fn ack(&self) {
        if let Some(cell) = &self.ack {
            cell.answer(true);
        }
    }

    /// The first `count` deliveries are handled, whatever becomes of the
    /// rest: acknowledges per delivery rather than per batch. Should the
    /// batch then fail (its handler panics, refuses it, or runs past the
    /// ack timeout), those stay delivered, the delivery after them counts
    /// one failed attempt, and the ones behind it, never tried, are sent
    /// again with it without counting an attempt. So one message that
    /// always fails (a poison message) is the only one given up as
    /// `RetriesExhausted`. Acknowledging all of them acknowledges the batch.
    /// `ack_first(0)` before handling any says the batch is acknowledged
    /// this way, so that a failure on its first delivery also counts
    /// against that one alone ([`handle_each`](Self::handle_each) does it).
    /// Under at-most-once it does nothing.
    pub fn ack_first(&self, count: usize) {
        if let Some(cell) = &self.ack {
            if count >= self.deliveries.len() {
                cell.answer(true);
            } else {
                cell.handled(count);
            }
        }
    }

    /// Runs `handle` on each delivery in order, acknowledging each one as
    /// `handle` returns ([`ack_first`](Self::ack_first)), and the whole batch
    /// at the end. A panic in `handle` leaves the deliveries before it
    /// acknowledged: only the one it panicked on counts a failed attempt.
    ///
    /// ```
    /// use agentix::prelude::*;
    /// use agentix::actors::router::{
    ///     Batch, DeliveryMode, Retry, RouterConfig, RouterRef, SubscribeOptions,
    /// };
    ///
    /// #[derive(Agent, Default)]
    /// struct Auditor {
    ///     seen: Vec<u32>,
    /// }
    ///
    /// #[handlers]
    /// impl Auditor {
    ///     #[handle]
    ///     fn audit(&mut self, batch: Batch<u32>) {
    ///         batch.handle_each(|delivery| self.seen.push(*delivery.payload()));
    ///     }
    ///
    ///     #[handle]
    ///     fn seen(&mut self) -> Vec<u32> {
    ///         self.seen.clone()
    ///     }
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    /// let router = RouterRef::<u32>::start(&swarm, RouterConfig::default()).await?;
    /// let auditor = swarm.spawn("auditor", Auditor::default).await?;
    /// let options = SubscribeOptions::default().delivery(DeliveryMode::AtLeastOnce(Retry::default()));
    /// router.subscribe_as("ledger.>", &auditor, |batch| Audit { batch }, options).await?;
    /// router.publish("ledger.entry", 7)?;
    /// # agentix::testkit::eventually(std::time::Duration::from_secs(5), async || {
    /// #     auditor.seen().await.is_ok_and(|seen| seen == [7])
    /// # }).await;
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn handle_each(&self, mut handle: impl FnMut(&Envelope<M>)) {
        // Per delivery from the start: a panic on the first one (a poison
        // message retried at the head of its batch) counts against it alone.
        self.ack_first(0);
        for (done, delivery) in self.deliveries.iter().enumerate() {
            handle(delivery);
            self.ack_first(done + 1);
        }
        self.ack();
    }

    /// Not handled: the router sends it again after its backoff (or gives it
    /// up, out of retries).
    pub fn nack(&self) {
        if let Some(cell) = &self.ack {
            cell.answer(false);
        }
    }

    /// The payloads, in order.
    pub fn payloads(&self) -> impl Iterator<Item = &M> {
        self.deliveries.iter().map(Envelope::payload)
    }
}

impl<M> Deref for Batch<M> {
    type Target = [Envelope<M>];

    fn deref(&self) -> &[Envelope<M>] {
        &self.deliveries
    }
}

impl<M> Drop for Batch<M> {
    /// No answer by now is a refusal: the handler did not get to the end.
    /// A sampled delivery (the first, if several) records its time from
    /// publish to here.
    fn drop(&mut self) {
        self.nack();
        if let Some(done) = &self.done {
            done.finished(self.deliveries.len());
        }
        let sampled = self.sampled.and_then(|at| self.deliveries.get(at as usize));
        if let Some(envelope) = sampled
            && let Some(stats) = &envelope.sampled
        {
            let took = envelope.published_at().elapsed();
            stats.publish_to_handle(envelope.topic(), took);
        }
    }
}

impl<M> fmt::Debug for Batch<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("len", &self.deliveries.len())
            .finish_non_exhaustive()
    }
}

impl<M: Send + Sync + 'static> actix::Message for Batch<M> {
    type Result = ();
}

#[cfg(test)]
mod tests {
    use std::{
        panic::{AssertUnwindSafe, catch_unwind},
        sync::Arc,
    };

    use super::*;
    use crate::router::{Topic, ack::Answer};

    fn batch(ids: &[u64], cell: &Arc<AckCell>) -> Batch<u64> {
        let topic = Topic::new("t").unwrap();
        let deliveries = ids
            .iter()
            .map(|id| Envelope::new(*id, topic.clone(), Arc::new(*id)))
            .collect();
        Batch::new(deliveries, Some(cell.clone()), None, None)
    }

    #[test]
    fn handle_each_tracks_from_the_start_so_a_panic_on_the_first_delivery_counts_it_alone() {
        let cell = Arc::new(AckCell::default());
        let poisoned = batch(&[1, 2, 3], &cell);
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            poisoned.handle_each(|_| panic!("poison"));
        }));
        assert!(outcome.is_err());
        assert_eq!(cell.get(), Answer::Failed, "dropped unanswered");
        assert_eq!(cell.progress(), Some(0), "none handled, but tracked");
    }

    #[test]
    fn handle_each_acknowledges_a_batch_it_got_through() {
        let cell = Arc::new(AckCell::default());
        let mut seen = Vec::new();
        batch(&[1, 2], &cell).handle_each(|delivery| seen.push(*delivery.payload()));
        assert_eq!(seen, [1, 2]);
        assert_eq!(cell.get(), Answer::Acked);
    }
}
