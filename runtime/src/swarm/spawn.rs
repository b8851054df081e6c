//! Spawning an agent: the [`Spawn`] builder and its [`SpawnError`].

use std::{any::Any, fmt, future::poll_fn, sync::Arc, task::Poll};

use actix::{Addr, dev::channel};

use super::{
    CarriesOptions, ChildOptions, Prepared, SpawnError, StartOptions, Swarm,
    config::{check_budget, check_intensity, check_mailbox, check_timeout},
    option_setters,
};
use crate::{
    Agent, AgentName, AgentRef,
    agent::overseer::Link,
    agent::shared::{AgentShared, Identity},
    agent::start_latch::{StartLatch, StartSlot},
    agent::task::{Launch, OnEnd, UnsupervisedPolicy},
    deadline::{Deadline, saturate},
};

/// A spawn being configured; finish it with [`spawn`](Spawn::spawn).
///
/// Its options, but for the name, are the ones every way of starting an
/// agent shares: each setter is defined once for `Spawn`,
/// [`ChildSpec`](crate::ChildSpec) and [`SupervisorSpec`](crate::SupervisorSpec),
/// and behaves alike in each (the same limits, the same saturation at
/// [`MAX_DURATION`](crate::MAX_DURATION)).
///
/// ```
/// use agentix::prelude::*;
/// use std::time::Duration;
///
/// #[derive(Agent, Default)]
/// struct Worker;
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default().arbiters(2))?;
/// let worker = swarm
///     .agent(Worker::default)
///     .name("worker-1")
///     .on_arbiter(1)
///     .mailbox(64)
///     .restart(Restart::Permanent)
///     .intensity(Intensity::new(10, Duration::from_secs(1)))
///     .spawn()
///     .await?;
/// assert_eq!(worker.name().as_str(), "worker-1");
/// swarm.shutdown().await?;
/// # Ok(()) }
/// ```
#[must_use = "a spawn does nothing until `.spawn().await`"]
pub struct Spawn<'s, A: Agent> {
    swarm: &'s Swarm,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    options: ChildOptions,
    link: Option<Link>,
    extension: Option<Arc<dyn Any + Send + Sync>>,
    also_on_end: Option<OnEnd>,
}

impl<A: Agent> CarriesOptions for Spawn<'_, A> {
    fn options(&mut self) -> &mut ChildOptions {
        &mut self.options
    }
}

impl<'s, A: Agent> Spawn<'s, A> {
    pub(crate) fn new(swarm: &'s Swarm, factory: Arc<dyn Fn() -> A + Send + Sync>) -> Self {
        Self {
            swarm,
            factory,
            options: ChildOptions::default(),
            link: None,
            extension: None,
            also_on_end: None,
        }
    }

    /// Takes the options a supervisor kept for its child, all at once.
    pub(crate) fn with_start(mut self, start: StartOptions) -> Self {
        self.options.start = start;
        self
    }

    /// Attaches runtime data to the agent (a supervisor's core).
    pub(crate) fn extension(mut self, extension: Arc<dyn Any + Send + Sync>) -> Self {
        self.extension = Some(extension);
        self
    }

    /// Runs `f` when the agent has ended for good, before anyone waiting for
    /// its end is woken.
    pub(crate) fn on_end(mut self, f: OnEnd) -> Self {
        self.also_on_end = Some(f);
        self
    }

    /// Puts the agent under a supervisor, which then decides its restarts.
    pub(crate) fn supervised(mut self, link: Link) -> Self {
        self.link = Some(link);
        self
    }

    /// The agent's name; default `<kind>-<id>`. An invalid name fails the
    /// spawn with [`SpawnError::Name`], and a name a live agent of the swarm
    /// holds (a supervisor's child included) with [`SpawnError::NameTaken`]:
    /// events, fault plans and the registry know agents by name. A name is
    /// free again once its agent has stopped for good; a restart keeps it.
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.options.name = Some(AgentName::new(name.as_ref()));
        self
    }

    /// A name checked already (a child's id): not copied again.
    pub(crate) fn named(mut self, name: AgentName) -> Self {
        self.options.name = Some(Ok(name));
        self
    }

    option_setters!(on_arbiter, mailbox, budget, restart, intensity, ask_timeout);

    /// Starts the agent and waits until its first incarnation has started
    /// (its factory ran and its `started` hook returned).
    pub async fn spawn(self) -> Result<A::Ref, SpawnError> {
        let (agent, _) = self.spawn_with_shared().await?;
        Ok(A::Ref::from(agent))
    }

    /// Checks the settings and builds everything the agent needs, without
    /// starting it: the caller runs `launch` on `arbiter` (alone, or in a
    /// batch with others) and awaits the latch of `started`.
    pub(crate) fn prepare(self, started: StartSlot) -> Result<Prepared<A>, SpawnError> {
        let inner = &self.swarm.inner;
        let config = &inner.config;
        let ChildOptions {
            name,
            intensity,
            start: options,
            ..
        } = self.options;
        let mailbox = options
            .mailbox
            .or(A::MAILBOX)
            .unwrap_or(config.default_mailbox);
        check_mailbox(mailbox)?;
        let budget = options.budget.or(A::BUDGET).unwrap_or(config.budget);
        check_budget(budget)?;
        let ask_timeout = saturate(
            options
                .ask_timeout
                .or(A::ASK_TIMEOUT)
                .unwrap_or(config.ask_timeout),
        );
        check_timeout("ask_timeout", ask_timeout)?;
        let intensity = intensity.unwrap_or(config.intensity);
        check_intensity(intensity)?;
        if inner.is_stopping() {
            return Err(SpawnError::SwarmStopped);
        }
        let arbiter = self.swarm.place(options.arbiter)?;
        let wanted = name.transpose()?;
        let (id, name) = loop {
            let id = inner.next_id();
            let name = match &wanted {
                Some(name) => name.clone(),
                None => AgentName::new(&format!("{}-{id}", A::KIND))?,
            };
            if inner.roster.claim(&name, id) {
                break (id, name);
            }
            if wanted.is_some() {
                return Err(SpawnError::NameTaken { name });
            }
            // A generated name someone chose by hand: the next id gives
            // another.
        };
        let identity = Identity {
            id,
            name,
            kind: A::KIND,
            ask_timeout,
            supervisor: self.link.as_ref().map(|link| link.overseer.name().clone()),
        };
        let shared = Arc::new(AgentShared::new(
            identity,
            config.dead_letters.clone(),
            inner.events.clone(),
            Arc::downgrade(&inner.roster),
            inner.roster.kinds.of(A::KIND),
        ));
        if let Some(extension) = self.extension {
            shared.set_extension(extension);
        }
        inner.roster.enlist(shared.clone());
        let (tx, rx) = channel::channel::<A>(mailbox);
        let launch = Launch {
            rx,
            shared: shared.clone(),
            factory: self.factory,
            budget,
            policy: UnsupervisedPolicy {
                restart: options.restart.unwrap_or(A::RESTART),
                intensity,
            },
            grace: options.shutdown_timeout.unwrap_or(config.shutdown_timeout),
            started_tx: started,
            on_end: self.also_on_end,
            link: self.link,
        };
        Ok(Prepared {
            launch,
            agent: AgentRef::new(Addr::new(tx), shared),
            arbiter,
        })
    }

    pub(crate) async fn spawn_with_shared(
        self,
    ) -> Result<(AgentRef<A>, Arc<AgentShared>), SpawnError> {
        let swarm = self.swarm;
        let latch = StartLatch::new(1);
        let Prepared {
            launch,
            agent,
            arbiter,
        } = self.prepare(latch.slot(0))?;
        let shared = agent.shared().clone();
        if !swarm
            .inner
            .pool
            .handle(arbiter)
            .spawn_fn(move || launch.run())
        {
            shared.leave_roster();
            return Err(SpawnError::SwarmStopped);
        }
        let timeout = swarm.inner.config.start_timeout;
        let mut deadline = Deadline::new(timeout);
        poll_fn(|cx| match latch.poll_all(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => deadline.poll_elapsed(cx).map(|_| ()),
        })
        .await;
        let started = latch.outcomes().pop().flatten();
        swarm.start_outcome(&shared, started)?;
        Ok((agent, shared))
    }
}

impl<A: Agent> fmt::Debug for Spawn<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawn")
            .field("kind", &A::KIND)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
