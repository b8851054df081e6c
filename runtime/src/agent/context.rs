//! [`AgentContext`]: the actix context every agent runs in.
//!
//! It is actix's `Context` (the same `ContextParts` and `Mailbox`, so the same
//! scheduling and costs) plus what the runtime keeps per agent: its identity,
//! its factory for restarts, and the failure of the current incarnation. Being
//! the context type lets agentix pack every message into its own envelope
//! ([`crate::envelope`]), which marks a hand-written handler's panic with
//! its message on the way to the agent's task, where it is caught.

use std::{any::Any, cell::Cell, fmt, sync::Arc};

use crate::{
    Agent, AgentName, AgentRef, During, ExitReason, Failure, agent::envelope::AgentEnvelope,
    agent::shared::AgentShared, agent::start_latch::StartSlot, budget::Turn,
};
use actix::{
    ActorContext, ActorState, Addr, AsyncContext, Handler, Message, SpawnHandle,
    dev::{
        AsyncContextParts, ContextFut, ContextParts, Envelope, Mailbox, OneshotSender, ToEnvelope,
        channel::AddressReceiver,
    },
    fut::ActorFuture,
};

/// The execution context of an agent, passed to its handlers and hooks.
///
/// It implements actix's [`AsyncContext`] and [`ActorContext`], so
/// `ctx.spawn`, `ctx.wait`, `ctx.run_later`, `ctx.notify`, `ctx.stop` and the
/// rest work as in actix. On top it knows the agent's name and restart count,
/// and gives a typed reference to the agent itself.
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// struct Greeter;
///
/// #[handlers]
/// impl Greeter {
///     #[handle]
///     fn whoami(&mut self, ctx: &mut AgentContext<Self>) -> String {
///         format!("{} after {} restarts", ctx.name(), ctx.restarts())
///     }
/// }
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let greeter = swarm.spawn("greeter-1", Greeter::default).await?;
/// assert_eq!(greeter.whoami().await?, "greeter-1 after 0 restarts");
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct AgentContext<A: actix::Actor<Context = Self>> {
    parts: ContextParts<A>,
    mb: Option<Mailbox<A>>,
    pub(crate) core: Core<A>,
}

/// What the runtime keeps per agent inside its context.
pub(crate) struct Core<A: actix::Actor> {
    pub(crate) shared: Arc<AgentShared>,
    pub(crate) factory: Arc<dyn Fn() -> A + Send + Sync>,
    /// The fresh state of the next incarnation, built by the agent's task
    /// just before it restarts the context.
    pub(crate) fresh: Option<A>,
    /// The failure (a panic, or a supervisor's escalation) that ends the
    /// current incarnation, if any.
    pub(crate) exit: Option<ExitReason>,
    /// Why the previous incarnation ended, for the `restarted` hook.
    pub(crate) restart_cause: Option<ExitReason>,
    /// Tells the spawner how the first start went: `Ok` once `started`
    /// returned, or why the agent ended before that.
    pub(crate) started_tx: Option<StartSlot>,
    /// The current turn on the thread: the agent's task starts one before
    /// each poll, and each message actix is let take out counts.
    pub(crate) turn: Turn,
    /// An address held from the end of a turn cut short to the start of the
    /// next: actix ends an actor nobody holds an address to as soon as it
    /// stops taking mail, and it must not while mail is queued. Boxed: held
    /// only across a cut, it costs an idle agent one pointer, not three.
    pub(crate) keepalive: Cell<Option<Box<Addr<A>>>>,
    /// Replies of async handlers still awaiting (serial or concurrent): a
    /// stop waits for them, up to the agent's shutdown timeout.
    pub(crate) replies_pending: u32,
    /// A fault plan's panic, armed for the message being handled.
    #[cfg(feature = "testkit")]
    pub(crate) armed_panic: bool,
}

impl<A: actix::Actor<Context = Self>> AgentContext<A> {
    pub(crate) fn new(rx: AddressReceiver<A>, core: Core<A>) -> Self {
        let mb = Mailbox::new(rx);
        Self {
            parts: ContextParts::new(mb.sender_producer()),
            mb: Some(mb),
            core,
        }
    }

    pub(crate) fn into_future(mut self, act: A) -> Option<ContextFut<A, Self>> {
        let mb = self.mb.take()?;
        Some(ContextFut::new(self, act, mb))
    }

    /// The agent's name.
    pub fn name(&self) -> &AgentName {
        self.core.shared.name()
    }

    /// The agent's kind (its type's label).
    pub fn kind(&self) -> &'static str {
        self.core.shared.identity.kind
    }

    /// How many times this agent has been restarted.
    pub fn restarts(&self) -> u32 {
        self.core.shared.restarts()
    }

    /// Whether any address to the agent is still held.
    pub(crate) fn connected(&self) -> bool {
        self.parts.connected()
    }

    /// Records a caught panic as the failure that ends this incarnation
    /// (the first one wins) and stops it; its task decides about a restart.
    /// Returns the failure, for the reply to the failing request.
    pub(crate) fn fail_with_panic(
        &mut self,
        during: During,
        payload: &(dyn Any + Send),
    ) -> Failure {
        let failure = Failure::from_panic(self.name().clone(), during, payload);
        if self.core.exit.is_none() {
            tracing::error!(agent = %failure.agent(), "{failure}");
            self.core.exit = Some(ExitReason::Failed(failure.clone()));
        }
        self.parts.stop();
        failure
    }

    /// Holds an address across a turn cut short (see `Core::keepalive`).
    /// Out of line: `waiting` runs twice per message and must stay small.
    #[cold]
    #[inline(never)]
    fn keep_alive(&self) {
        if let Some(held) = self.core.keepalive.take() {
            self.core.keepalive.set(Some(held));
        } else {
            self.core
                .keepalive
                .set(Some(Box::new(self.parts.address())));
        }
    }

    /// Ends this incarnation in an escalation (a supervisor giving up).
    pub(crate) fn escalate(&mut self, escalation: crate::Escalation) {
        if self.core.exit.is_none() {
            tracing::error!(agent = %self.name(), "{escalation}");
            self.core.exit = Some(ExitReason::Escalated(escalation));
        }
        self.parts.stop();
    }
}

impl<A: actix::Actor<Context = Self>> AgentContext<A> {
    /// Spawns the future of a concurrent handler: beside the mailbox, like
    /// any spawned future, but counted like a waited one, so that a stop
    /// lets it finish.
    pub(crate) fn spawn_awaited<F>(&mut self, fut: F)
    where
        F: ActorFuture<A, Output = ()> + 'static,
    {
        self.core.replies_pending += 1;
        self.spawn(Awaited { fut });
    }
}

pin_project_lite::pin_project! {
    /// A future a stop lets finish, counted in `Core::replies_pending`
    /// until it completes (a restart drops it and resets the count).
    struct Awaited<F> {
        #[pin]
        fut: F,
    }
}

impl<A, F> ActorFuture<A> for Awaited<F>
where
    A: actix::Actor<Context = AgentContext<A>>,
    F: ActorFuture<A>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        act: &mut A,
        ctx: &mut AgentContext<A>,
        task: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let polled = self.project().fut.poll(act, ctx, task);
        if polled.is_ready() {
            ctx.core.replies_pending = ctx.core.replies_pending.saturating_sub(1);
        }
        polled
    }
}

impl<A: Agent> AgentContext<A> {
    /// An untyped-method reference to this agent (restart-stable).
    pub fn agent_ref(&self) -> AgentRef<A> {
        AgentRef::new(self.address(), self.core.shared.clone())
    }

    /// The typed reference to this agent, as `spawn` returned it.
    pub fn this(&self) -> A::Ref {
        A::Ref::from(self.agent_ref())
    }
}

impl<A: actix::Actor<Context = Self>> fmt::Debug for AgentContext<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentContext")
            .field("agent", &self.core.shared)
            .field("state", &self.parts.state())
            .finish_non_exhaustive()
    }
}

impl<A: actix::Actor<Context = Self>> ActorContext for AgentContext<A> {
    fn stop(&mut self) {
        self.parts.stop();
    }

    fn terminate(&mut self) {
        self.parts.terminate();
    }

    fn state(&self) -> ActorState {
        self.parts.state()
    }
}

impl<A: actix::Actor<Context = Self>> AsyncContext<A> for AgentContext<A> {
    /// A spawned future runs beside the mailbox, not holding it (unlike a
    /// handler, a hook or a `wait` future): an ask to the agent itself may
    /// be awaited there (`crate::holding`).
    fn spawn<F>(&mut self, fut: F) -> SpawnHandle
    where
        F: ActorFuture<A, Output = ()> + 'static,
    {
        self.parts.spawn(crate::agent::holding::Beside { fut })
    }

    /// A future the agent waits for holds its mailbox, and a stop lets it
    /// finish (up to the shutdown timeout): it is counted until it is done.
    fn wait<F>(&mut self, fut: F)
    where
        F: ActorFuture<A, Output = ()> + 'static,
    {
        self.core.replies_pending += 1;
        self.parts.wait(Awaited { fut });
    }

    /// actix checks this before taking each message from the mailbox, which
    /// makes it the place where a stop request or a supervisor's directive
    /// takes effect between two messages (the rest stays queued), and where
    /// a turn ends once its budget is spent: actix would otherwise handle
    /// messages until the mailbox is empty, and its timers and futures,
    /// polled only after that, would wait with the arbiter's other tasks.
    #[inline]
    fn waiting(&self) -> bool {
        // First, whatever else holds the mailbox: it wakes the senders
        // waiting for the slot the last message freed.
        let interrupted = self.core.shared.interrupted();
        if self.core.turn.over() {
            self.keep_alive();
            return true;
        }
        interrupted || self.parts.waiting()
    }

    fn cancel_future(&mut self, handle: SpawnHandle) -> bool {
        self.parts.cancel_future(handle)
    }

    fn address(&self) -> Addr<A> {
        self.parts.address()
    }
}

impl<A: actix::Actor<Context = Self>> AsyncContextParts<A> for AgentContext<A> {
    fn parts(&mut self) -> &mut ContextParts<A> {
        &mut self.parts
    }
}

impl<A, M> ToEnvelope<A, M> for AgentContext<A>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    // Inlined into the send: 16 fewer instructions per tell (callgrind),
    // which the out-of-line call cost over actix's own envelope.
    #[inline]
    fn pack(msg: M, tx: Option<OneshotSender<M::Result>>) -> Envelope<A> {
        Envelope::with_proxy(Box::new(AgentEnvelope::new(msg, tx)))
    }
}
