//! The built-in actors of agentix, each an actix actor built on
//! `agentix-runtime`.
//!
//! | module | for |
//! |---|---|
//! | [`monitor`] | counts, samples and exposes what happens in a swarm (snapshot, Prometheus) |
//! | [`registry`] | find agents by name, capability and tag; select one for a job by load and score |
//! | [`router`] | publish on topics, fan out to subscriber agents in shared batches |
//! | [`state`] | versioned documents shared by agents: compare-and-set, conflict policies, history, snapshots, locks, durable on redb |

pub mod monitor;
pub mod registry;
pub mod router;
mod stable_hash;
pub mod state;

/// Paths the exported macros expand to, so that users need no `actix`
/// dependency of their own.
#[doc(hidden)]
pub mod __private {
    pub use actix::Handler;
    pub use agentix_runtime::{AgentContext, correlation};
}

/// Makes an agent a subscriber that handles one delivery at a time: it
/// implements the batch handler by calling `method(&envelope, ctx)` for
/// each delivery in order (with the delivery's correlation id current, so
/// what `method` sends carries it), acknowledging each delivery as `method`
/// returns ([`Batch::ack_first`](router::Batch::ack_first)). A panic in
/// `method` leaves the deliveries before it acknowledged: under
/// at-least-once only the one it panicked on counts a failed attempt, and
/// those after it come again untried, so a message that always panics (a
/// poison message) is the only one given up.
///
/// ```
/// use agentix::{actors::handle_deliveries, prelude::*};
/// use agentix::actors::router::Envelope;
///
/// #[derive(Agent, Default)]
/// struct Follower {
///     last: Option<u64>,
/// }
///
/// impl Follower {
///     fn on_price(&mut self, price: &Envelope<u64>, _: &mut AgentContext<Self>) {
///         self.last = Some(*price.payload());
///     }
/// }
///
/// handle_deliveries!(Follower: u64 => on_price);
/// ```
#[macro_export]
macro_rules! handle_deliveries {
    ($agent:ty : $payload:ty => $method:ident) => {
        impl $crate::__private::Handler<$crate::router::Batch<$payload>> for $agent {
            type Result = ();

            fn handle(
                &mut self,
                batch: $crate::router::Batch<$payload>,
                ctx: &mut $crate::__private::AgentContext<Self>,
            ) {
                batch.handle_each(|envelope| {
                    // What the method sends carries the delivery's id.
                    match envelope.correlation() {
                        Some(id) => $crate::__private::correlation::scope(id, || {
                            self.$method(envelope, ctx)
                        }),
                        None => self.$method(envelope, ctx),
                    }
                });
            }
        }
    };
}
