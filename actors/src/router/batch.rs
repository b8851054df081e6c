//! What a subscriber receives: a batch of deliveries in one mailbox message.

use std::{fmt, ops::Deref, sync::Arc};

use super::Envelope;

/// Deliveries for one subscriber, in publish order, in one mailbox message.
///
/// The deliveries are shared: subscribers that had the same deliveries
/// pending receive the same batch, so a message published to 1000
/// subscribers is neither copied nor boxed per subscriber. A batch
/// dereferences to the slice of its envelopes.
pub struct Batch<M> {
    deliveries: Arc<[Envelope<M>]>,
}

impl<M> Batch<M> {
    pub(crate) fn new(deliveries: Arc<[Envelope<M>]>) -> Self {
        Self { deliveries }
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

impl<M> Clone for Batch<M> {
    fn clone(&self) -> Self {
        Self {
            deliveries: self.deliveries.clone(),
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
