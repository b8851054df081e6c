//! What a subscriber receives: a batch of deliveries in one mailbox message.

use std::{fmt, ops::Deref, sync::Arc};

use super::{Envelope, ack::AckCell};

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
}

impl<M> Batch<M> {
    pub(crate) fn new(deliveries: Arc<[Envelope<M>]>, ack: Option<Arc<AckCell>>) -> Self {
        Self { deliveries, ack }
    }

    /// Handled: the router forgets the batch.
    pub fn ack(&self) {
        if let Some(cell) = &self.ack {
            cell.answer(true);
        }
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
    fn drop(&mut self) {
        self.nack();
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
