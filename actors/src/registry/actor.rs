//! The registry agent: the one writer of the indices. Registrations and
//! removals are messages to it; it applies them to its own copy and
//! publishes the touched parts before answering, so a caller that awaited
//! a registration finds it at once, from any thread.

use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Handler, WrapFuture};
use agentix_runtime::{AgentContext, AgentName, Event, EventError, Events, Lifecycle};

use super::{
    Entry, Registration, RegistryConfig,
    handle::RegisterError,
    index::{Master, Published},
};

/// The registry of one swarm; see the [module docs](super). Started and
/// used through [`RegistryRef`](super::RegistryRef).
// Permanent, and a restart keeps the entries: agents registered once are
// not asked to register again.
#[derive(agentix_macros::Agent)]
#[agent(
    crate = ::agentix_runtime,
    kind = "registry",
    restart = "permanent",
    keep_state,
    lifecycle,
    reference = agentix_runtime::AgentRef<Self>
)]
pub struct Registry {
    pub(crate) master: Master,
    pub(crate) published: Arc<Published>,
    config: RegistryConfig,
    /// Batches registered so far: an entry's generation tells which batch
    /// it came with.
    batches: u64,
    /// Where stops for good are heard of; each incarnation listens anew.
    events: Events,
}

impl Registry {
    pub(crate) fn new(published: Arc<Published>, events: Events, config: RegistryConfig) -> Self {
        Self {
            master: Master::new(),
            published,
            config,
            batches: 0,
            events,
        }
    }

    /// Handles lifecycle events as they come, removing agents that ended
    /// for good; all waiting events are taken in one go and published once
    /// (a swarm shutting down stops thousands at a time).
    fn listen(&mut self, mut events: Events, ctx: &mut AgentContext<Self>) {
        let next = async move {
            let first = events.recv().await;
            (first, events)
        };
        ctx.spawn(
            next.into_actor(self)
                .map(|(first, mut events), registry, ctx| {
                    let mut next = first.map(Some);
                    loop {
                        match next {
                            Ok(Some(event)) => {
                                if let Event::Stopped { .. } = event.event() {
                                    registry.gone(event.agent());
                                }
                            }
                            Ok(None) => break,
                            Err(EventError::Missed(_)) => {
                                registry.master.remove_unless(|entry| !entry.is_gone());
                            }
                            // The swarm is gone (EventError is non-exhaustive).
                            Err(_) => {
                                registry.master.publish(&registry.published);
                                return;
                            }
                        }
                        next = events.try_recv();
                    }
                    registry.master.publish(&registry.published);
                    registry.listen(events, ctx);
                }),
        );
    }

    /// `name` stopped for good: its entry goes, unless the name has been
    /// taken since by an agent still running.
    fn gone(&mut self, name: &AgentName) {
        if self
            .master
            .get(name.as_str())
            .is_some_and(|entry| entry.is_gone())
        {
            self.master.remove(name);
        }
    }

    /// Registers a whole batch or none of it. One pass over the index: a
    /// name taken (without `replace`) or given twice in the batch undoes
    /// what the batch did so far.
    fn register(&mut self, batch: Vec<Registration>) -> Result<usize, RegisterError> {
        for (index, registration) in batch.iter().enumerate() {
            if let Err(error) = &registration.name {
                let error = error.clone();
                return Err(RegisterError::Name { index, error });
            }
            if let Some(error) = &registration.invalid {
                let error = error.clone();
                return Err(RegisterError::Label { index, error });
            }
        }
        self.batches += 1;
        let generation = self.batches;
        let count = batch.len();
        self.master.reserve(count);
        let mut replaced = Vec::new();
        for (index, registration) in batch.into_iter().enumerate() {
            let replace = registration.replace;
            let Some(entry) = Entry::new(registration, generation) else {
                continue;
            };
            let entry = Arc::new(entry);
            let Some(old) = self.master.insert(entry) else {
                continue;
            };
            let twice = old.generation == generation;
            if twice || (!replace && !old.is_gone()) {
                let name = old.name.clone();
                if !twice {
                    self.master.insert(old);
                }
                self.master
                    .remove_unless(|entry| entry.generation != generation);
                for old in replaced {
                    self.master.insert(old);
                }
                return Err(RegisterError::Duplicate { index, name });
            }
            replaced.push(old);
        }
        self.master.publish(&self.published);
        Ok(count)
    }
}

impl Lifecycle for Registry {
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        let events = self.events.resubscribe();
        self.listen(events, ctx);
        ctx.run_interval(self.config.heartbeat, |registry, _| registry.check_health());
        // Stops missed while no incarnation listened.
        self.master.remove_unless(|entry| !entry.is_gone());
        self.master.publish(&self.published);
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("agents", &self.published.len())
            .finish_non_exhaustive()
    }
}

/// Registers a batch.
pub(crate) struct Register(pub(crate) Vec<Registration>);

impl actix::Message for Register {
    type Result = Result<usize, RegisterError>;
}

impl Handler<Register> for Registry {
    type Result = Result<usize, RegisterError>;

    fn handle(&mut self, Register(batch): Register, _: &mut AgentContext<Self>) -> Self::Result {
        self.register(batch)
    }
}

/// Removes a registration.
pub(crate) struct Deregister(pub(crate) AgentName);

impl actix::Message for Deregister {
    type Result = bool;
}

impl Handler<Deregister> for Registry {
    type Result = bool;

    fn handle(&mut self, Deregister(name): Deregister, _: &mut AgentContext<Self>) -> bool {
        let found = self.master.remove(&name).is_some();
        self.master.publish(&self.published);
        found
    }
}
