//! The writer agent of the fault suite: it takes a lock for its whole
//! life, and bumps shared counters with `update` or `compare_and_set`,
//! recording each write the store acknowledged.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use agentix::{
    actors::state::{LockMode, StoreRef, Writer},
    prelude::*,
    testkit::Trace,
};
use parking_lot::Mutex;

/// What a shared key holds: its count of accepted writes (which equals the
/// version the write made, if none was lost), who wrote it, for which
/// message.
pub(crate) type Stamp = (u64, String, u64);

/// Shared keys the writers contend on.
pub(crate) const KEYS: u64 = 2;

/// Longer than any run: a lock goes only with its holder.
const LEASE: Duration = Duration::from_secs(3600);

/// A write the store answered `Ok` to.
#[derive(Debug, Clone)]
pub(crate) struct Ack {
    pub(crate) key: String,
    pub(crate) version: u64,
    pub(crate) stamp: Stamp,
}

pub(crate) type Acks = Arc<Mutex<Vec<Ack>>>;

/// Writes under way, so the workload knows when none is left, and how
/// many a failing incarnation abandoned after asking the store: the
/// writes a panic landed in the middle of.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight {
    writes: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
}

impl InFlight {
    pub(crate) fn none(&self) -> bool {
        self.writes.load(Ordering::Acquire) == 0
    }

    pub(crate) fn abandoned(&self) -> usize {
        self.abandoned.load(Ordering::Acquire)
    }

    fn start(&self) -> Ending {
        self.writes.fetch_add(1, Ordering::AcqRel);
        Ending {
            of: self.clone(),
            asked: false,
            answered: false,
        }
    }
}

/// Ends its write when dropped: answered, or abandoned by its incarnation.
struct Ending {
    of: InFlight,
    asked: bool,
    answered: bool,
}

impl Drop for Ending {
    fn drop(&mut self) {
        if self.asked && !self.answered {
            self.of.abandoned.fetch_add(1, Ordering::AcqRel);
        }
        self.of.writes.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) fn lock_key(writer: &str) -> String {
    format!("locks.{writer}")
}

#[derive(Agent)]
pub(crate) struct StoreWriter {
    pub(crate) store: StoreRef,
    pub(crate) trace: Trace,
    pub(crate) acks: Acks,
    pub(crate) in_flight: InFlight,
}

#[handlers]
impl StoreWriter {
    /// Takes this agent's lock; its token.
    #[handle]
    pub(crate) fn hold(
        &mut self,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = Result<u64, String>> + 'static {
        let store = self.store.as_writer(Writer::agent(ctx.name()));
        let key = lock_key(ctx.name().as_str());
        async move {
            let lock = store.lock(&key, LockMode::Exclusive, LEASE).await;
            lock.map(|lock| lock.token)
                .map_err(|error| error.to_string())
        }
    }

    /// Answers once the messages before it were handled: the workload's
    /// pace.
    #[handle]
    pub(crate) fn ping(&mut self) {}

    /// Bumps a shared key. Concurrent: later messages, and the
    /// panics a plan puts in them, arrive while this write is under way.
    #[handle(concurrent)]
    pub(crate) fn write(
        &mut self,
        id: u64,
        ctx: &mut AgentContext<Self>,
    ) -> impl Future<Output = ()> + 'static {
        let name = ctx.name().to_string();
        self.trace.handled(&name, id);
        let store = self.store.as_writer(Writer::agent(ctx.name()));
        let (acks, ending) = (self.acks.clone(), self.in_flight.start());
        async move {
            let mut ending = ending;
            ending.asked = true;
            // Both ways of writing meet on every key.
            let key = format!("shared.k{}", (id / 2) % KEYS);
            let written = if id.is_multiple_of(2) {
                bump_by_update(&store, &key, &name, id).await
            } else {
                bump_by_cas(&store, &key, &name, id).await
            };
            ending.answered = true;
            if let Some((version, stamp)) = written {
                acks.lock().push(Ack {
                    key,
                    version,
                    stamp,
                });
            }
        }
    }
}

async fn bump_by_update(store: &StoreRef, key: &str, name: &str, id: u64) -> Option<(u64, Stamp)> {
    // `update` may call the change more than once: the last call is what
    // was written.
    let mut last = None;
    let change = |old: Option<&Stamp>| {
        let stamp = (old.map_or(0, |old| old.0) + 1, name.to_owned(), id);
        last = Some(stamp.clone());
        stamp
    };
    let version = store.update(key, change).await.ok()?;
    Some((version, last?))
}

async fn bump_by_cas(store: &StoreRef, key: &str, name: &str, id: u64) -> Option<(u64, Stamp)> {
    let current = store.get::<Stamp>(key).ok()?;
    let (version, count) = current.map_or((0, 0), |doc| (doc.version, doc.value.0));
    let stamp = (count + 1, name.to_owned(), id);
    let written = store.compare_and_set(key, version, &stamp).await.ok()?;
    Some((written, stamp))
}
