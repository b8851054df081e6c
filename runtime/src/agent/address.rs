//! [`AgentRef`]: the restart-stable address of an agent.

use std::{fmt, sync::Arc};

use actix::{Addr, Handler, Message};

use crate::{
    Agent, AgentMessage, AgentName, AgentStatus, Ask, Call, ExitReason, SendError, TellWait,
    agent::fault, agent::shared::AgentShared, metrics::FAULTY,
};

/// The address of an agent: stays valid across restarts, since a restart
/// replaces the agent's state in place and keeps its mailbox.
///
/// `spawn` returns the typed reference generated for the agent (`CounterRef`
/// for `Counter`), which has one ask method per handler and dereferences to
/// this type for the generic operations:
///
/// - [`tell`](Self::tell): queue a message, never wait; a full or closed
///   mailbox hands the message back;
/// - [`tell_wait`](Self::tell_wait): queue a message, waiting for room until
///   the deadline;
/// - [`ask`](Self::ask): send a generated message and await its typed reply;
/// - [`call`](Self::call): send any actix message and await its raw reply.
///
/// Every ask and call has a deadline: the agent's default (5 s unless
/// configured) or one set with `.timeout(..)`.
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// struct Counter {
///     total: u64,
/// }
///
/// #[handlers]
/// impl Counter {
///     #[handle]
///     fn add(&mut self, by: u64) -> u64 {
///         self.total += by;
///         self.total
///     }
/// }
///
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let counter = swarm.spawn("counter", Counter::default).await?;
/// counter.tell(Add { by: 2 })?;                 // from AgentRef, via Deref
/// assert_eq!(counter.add(3).await?, 5);         // generated on CounterRef
/// assert_eq!(counter.ask(Add { by: 1 }).await?, 6);
/// assert_eq!(counter.name().as_str(), "counter");
/// swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct AgentRef<A: Agent> {
    addr: Addr<A>,
    shared: Arc<AgentShared>,
}

impl<A: Agent> AgentRef<A> {
    pub(crate) fn new(addr: Addr<A>, shared: Arc<AgentShared>) -> Self {
        Self { addr, shared }
    }

    /// The agent's name.
    pub fn name(&self) -> &AgentName {
        self.shared.name()
    }

    /// The agent's kind.
    pub fn kind(&self) -> &'static str {
        self.shared.identity.kind
    }

    /// Where the agent is in its life.
    pub fn status(&self) -> AgentStatus {
        self.shared.status()
    }

    /// Whether the agent is handling messages now, and in which poll: see
    /// [`Activity`](crate::Activity).
    pub fn activity(&self) -> crate::Activity {
        self.shared.activity()
    }

    /// How many times the agent has been restarted.
    pub fn restarts(&self) -> u32 {
        self.shared.restarts()
    }

    /// Queues `msg` without waiting. A full mailbox or a stopped agent is an
    /// error that hands the message back.
    pub fn tell<M>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        let flags = self.shared.sender_flags();
        if flags & FAULTY != 0 && fault::refuse_tell(&self.shared) {
            let agent = self.name().clone();
            return Err(SendError::Full { agent, msg });
        }
        let counted = self.shared.count_sent_with(flags);
        self.addr.try_send(msg).map_err(|err| {
            if counted {
                self.shared.uncount_sent();
            }
            match err {
                actix::prelude::SendError::Full(msg) => SendError::Full {
                    agent: self.name().clone(),
                    msg,
                },
                actix::prelude::SendError::Closed(msg) => SendError::Closed {
                    agent: self.name().clone(),
                    msg,
                },
            }
        })
    }

    /// Messages waiting in the agent's mailbox, approximately: those queued
    /// through agentix (tell, ask, call, router deliveries) and not yet
    /// taken out. Counted only while the swarm is observed (a monitor runs,
    /// or [`Swarm::observe`](crate::Swarm::observe)): messages queued
    /// before are missed until they drain. A read races with senders and
    /// the agent, so it can be off by the messages in flight; it never goes
    /// below zero. What the monitor's mailbox gauges sum up.
    ///
    /// ```
    /// use std::future::Future;
    /// use agentix::prelude::*;
    /// use tokio::sync::oneshot;
    ///
    /// #[derive(Agent, Default)]
    /// struct Worker;
    ///
    /// #[handlers]
    /// impl Worker {
    ///     /// Holds the mailbox (async handlers are serial) until `until` fires.
    ///     #[handle]
    ///     fn hold(
    ///         &mut self,
    ///         entered: oneshot::Sender<()>,
    ///         until: oneshot::Receiver<()>,
    ///     ) -> impl Future<Output = ()> + 'static {
    ///         let _ = entered.send(());
    ///         async move {
    ///             let _ = until.await;
    ///         }
    ///     }
    ///
    ///     #[handle]
    ///     fn job(&mut self) {}
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default())?;
    /// swarm.observe(true);
    /// let worker = swarm.spawn("worker", Worker::default).await?;
    /// let (entered, held) = oneshot::channel();
    /// let (resume, until) = oneshot::channel();
    /// worker.tell(Hold { entered, until })?;
    /// held.await.unwrap();
    /// worker.tell(Job)?;
    /// worker.tell(Job)?;
    /// assert_eq!(worker.queued(), 2);
    /// resume.send(()).unwrap();
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn queued(&self) -> u64 {
        self.shared.queued()
    }

    /// Queues `msg`, waiting for room in a full mailbox until the deadline
    /// (the agent's ask timeout unless set with `.timeout(..)`).
    pub fn tell_wait<M>(&self, msg: M) -> TellWait<'_, A, M>
    where
        A: Handler<M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        TellWait::new(self, msg)
    }

    /// Sends a message generated by `#[handlers]` and awaits its typed reply.
    pub fn ask<M>(&self, msg: M) -> Ask<'_, A, M>
    where
        A: Handler<M>,
        M: AgentMessage,
    {
        Ask::new(Call::new(&self.addr, &self.shared, msg))
    }

    /// Sends any actix message the agent handles (for example one with a
    /// hand-written `Handler` impl) and awaits its raw reply.
    ///
    /// A panic in a hand-written handler reaches the caller as
    /// [`AskError::Closed`](crate::AskError::Closed); only generated handlers
    /// can reply with the typed failure.
    pub fn call<M>(&self, msg: M) -> Call<'_, A, M>
    where
        A: Handler<M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        Call::new(&self.addr, &self.shared, msg)
    }

    /// Asks the agent to stop for good: the current message finishes (an
    /// async handler, serial or concurrent, may await until the agent's
    /// shutdown timeout: the swarm's, or its `ChildSpec`'s), the stopping
    /// hooks run, no restart follows, and the end is
    /// [`ExitReason::Shutdown`](crate::ExitReason::Shutdown). Messages still
    /// queued become dead letters. A handler still awaiting at the timeout
    /// is abandoned (its caller gets [`AskError::Closed`](crate::AskError::Closed))
    /// and the end is [`ExitReason::Killed`](crate::ExitReason::Killed).
    /// Returns at once; await [`stopped`](Self::stopped) to wait for the end.
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// Waits until the agent has ended for good, and tells why.
    pub async fn stopped(&self) -> ExitReason {
        self.shared.ended().await
    }

    pub(crate) fn shared(&self) -> &Arc<AgentShared> {
        &self.shared
    }
}

impl<A: Agent> Clone for AgentRef<A> {
    fn clone(&self) -> Self {
        Self {
            addr: self.addr.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<A: Agent> PartialEq for AgentRef<A> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<A: Agent> Eq for AgentRef<A> {}

impl<A: Agent> fmt::Debug for AgentRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentRef")
            .field("name", self.name())
            .field("kind", &self.kind())
            .field("status", &self.status())
            .finish()
    }
}

impl<A: Agent> AsRef<AgentRef<A>> for AgentRef<A> {
    fn as_ref(&self) -> &AgentRef<A> {
        self
    }
}
