//! The futures of requests to an agent: [`Call`] (any actix message, raw
//! reply), [`Ask`] (a generated message, typed reply) and [`TellWait`] (a
//! tell that waits for room). Each carries a deadline.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use actix::{Addr, Handler, MailboxError, Message, dev::Request};
use pin_project_lite::pin_project;
use tokio::sync::futures::Notified;

use crate::{
    Agent, AgentMessage, AgentRef, AskError, SendError,
    agent::shared::AgentShared,
    deadline::{Deadline, NoTimer},
};

pin_project! {
    /// A request with any actix message; resolves to the handler's raw reply.
    ///
    /// Returned by [`AgentRef::call`](crate::AgentRef::call). Await it, or set
    /// its deadline first with [`timeout`](Call::timeout).
    ///
    /// ```
    /// use agentix::{actix, prelude::*};
    ///
    /// #[derive(Agent, Default)]
    /// struct Thermometer {
    ///     celsius: i32,
    /// }
    ///
    /// /// A message with a hand-written actix handler.
    /// struct Read;
    ///
    /// impl actix::Message for Read {
    ///     type Result = i32;
    /// }
    ///
    /// impl actix::Handler<Read> for Thermometer {
    ///     type Result = i32;
    ///
    ///     fn handle(&mut self, _: Read, _: &mut AgentContext<Self>) -> i32 {
    ///         self.celsius
    ///     }
    /// }
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    /// let thermometer = swarm.spawn("thermometer", || Thermometer { celsius: 21 }).await?;
    /// assert_eq!(thermometer.call(Read).await?, 21);
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    #[must_use = "a call does nothing unless awaited"]
    pub struct Call<'a, A, M>
    where
        A: Agent,
        A: Handler<M>,
        M: Message,
        M: Send,
        M: 'static,
        M::Result: Send,
    {
        #[pin]
        request: Request<A, M>,
        deadline: Deadline,
        // Borrowed, not shared: a reference count per request costs two
        // atomic read-modify-writes on the hot path.
        shared: &'a AgentShared,
    }
}

impl<'a, A, M> Call<'a, A, M>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    pub(crate) fn new(addr: &Addr<A>, shared: &'a AgentShared, msg: M) -> Self {
        // Counted whether or not it is queued: a closed mailbox means the
        // agent has ended, and nobody samples the depth of an ended agent.
        let _ = shared.count_sent();
        Self {
            request: addr.send(msg),
            deadline: Deadline::new(shared.identity.ask_timeout),
            shared,
        }
    }

    /// Replaces the default deadline of this request.
    ///
    /// The deadline never fires early. On an arbiter it fires within about
    /// 2 ms of `after` while the asker's thread is free, and later by as
    /// long as other work holds that thread (see `docs/semantics.md`,
    /// section 4). A deadline longer than
    /// [`MAX_DURATION`](crate::MAX_DURATION) (about 30 years, up to
    /// `Duration::MAX`) is taken as `MAX_DURATION`: no deadline.
    pub fn timeout(mut self, after: Duration) -> Self {
        self.deadline.set_after(after);
        self
    }
}

impl<A, M> Future for Call<'_, A, M>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    type Output = Result<M::Result, AskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let agent = || this.shared.name().clone();
        match this.request.poll(cx) {
            Poll::Ready(Ok(reply)) => Poll::Ready(Ok(reply)),
            Poll::Ready(Err(MailboxError::Closed)) => {
                Poll::Ready(Err(AskError::Closed { agent: agent() }))
            }
            Poll::Ready(Err(MailboxError::Timeout)) => Poll::Ready(Err(AskError::Timeout {
                agent: agent(),
                after: this.deadline.after(),
            })),
            // Asked from code that holds the agent's own mailbox: no reply
            // can come before that code returns, and it waits for this one.
            Poll::Pending if crate::agent::holding::holds(this.shared) => {
                Poll::Ready(Err(AskError::OwnMailbox { agent: agent() }))
            }
            Poll::Pending => match this.deadline.poll_elapsed(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(())) => Poll::Ready(Err(AskError::Timeout {
                    agent: agent(),
                    after: this.deadline.after(),
                })),
                Poll::Ready(Err(NoTimer)) => Poll::Ready(Err(AskError::NoTimer { agent: agent() })),
            },
        }
    }
}

pin_project! {
    /// A request with a generated message; resolves to the handler's typed
    /// reply, its own error in [`AskError::Handler`], or why there is none.
    ///
    /// Returned by the generated ask methods (`counter.add(2)`) and by
    /// [`AgentRef::ask`](crate::AgentRef::ask).
    #[must_use = "an ask does nothing unless awaited"]
    pub struct Ask<'a, A, M>
    where
        A: Agent,
        A: Handler<M>,
        M: AgentMessage,
    {
        #[pin]
        call: Call<'a, A, M>,
    }
}

impl<'a, A, M> Ask<'a, A, M>
where
    A: Agent + Handler<M>,
    M: AgentMessage,
{
    pub(crate) fn new(call: Call<'a, A, M>) -> Self {
        Self { call }
    }

    /// Replaces the default deadline of this ask.
    ///
    /// When it fires: see [`Call::timeout`].
    ///
    /// ```
    /// # use agentix::prelude::*;
    /// # use std::time::Duration;
    /// # #[derive(Agent, Default)] struct Sleepy;
    /// # #[handlers] impl Sleepy {
    /// #     #[handle] fn nap(&mut self) -> impl std::future::Future<Output = ()> + 'static {
    /// #         tokio::time::sleep(Duration::from_secs(3600))
    /// #     }
    /// # }
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// # // The shutdown gives the unfinished nap this long, then abandons it.
    /// # let config = SwarmConfig::default().shutdown_timeout(Duration::from_millis(10));
    /// # let swarm = Swarm::start(config.arbiters(1))?;
    /// let sleepy = swarm.spawn("sleepy", Sleepy::default).await?;
    /// let err = sleepy.nap().timeout(Duration::from_millis(20)).await.unwrap_err();
    /// assert!(err.is_timeout());
    /// # swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn timeout(self, after: Duration) -> Self {
        Self {
            call: self.call.timeout(after),
        }
    }
}

impl<A, M> Future for Ask<'_, A, M>
where
    A: Agent + Handler<M>,
    M: AgentMessage,
{
    type Output = Result<M::Ok, AskError<M::Err>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut call = self.project().call;
        let reply = match call.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(reply) => reply,
        };
        let agent = || call.as_ref().get_ref().shared.name().clone();
        Poll::Ready(match reply {
            Ok(Ok(value)) => M::split(value).map_err(|error| AskError::Handler {
                agent: agent(),
                error,
            }),
            Ok(Err(failure)) => Err(AskError::Panicked(failure)),
            Err(err) => Err(err.map_handler(|never| match never {})),
        })
    }
}

/// A tell that waits for room in a full mailbox, until its deadline.
///
/// ```
/// # use agentix::prelude::*;
/// # use std::time::Duration;
/// # #[derive(Agent, Default)] #[agent(mailbox = 4)] struct Sink;
/// # #[handlers] impl Sink { #[handle] fn put(&mut self, n: u32) {} }
/// # #[agentix::main] async fn main() -> agentix::Result<()> {
/// # let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
/// let sink = swarm.spawn("sink", Sink::default).await?;
/// for n in 0..1_000 {
///     // Never fails for a full mailbox: waits for room instead, up to 1 s.
///     sink.tell_wait(Put { n }).timeout(Duration::from_secs(1)).await?;
/// }
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
///
/// Returned by [`AgentRef::tell_wait`](crate::AgentRef::tell_wait). It
/// borrows the reference: actix gives every sender (every clone of an
/// address) one slot beyond the capacity, so a waiting tell must use the
/// caller's own sender for the bound to hold. On timeout or a closed
/// mailbox the message is handed back in the [`SendError`].
#[must_use = "a waiting tell does nothing unless awaited"]
pub struct TellWait<'a, A: Agent, M> {
    agent: &'a AgentRef<A>,
    msg: Option<M>,
    deadline: Deadline,
    waiter: Option<Pin<Box<Notified<'a>>>>,
}

// The message is never pinned: it is moved into the mailbox or handed back.
impl<A: Agent, M> Unpin for TellWait<'_, A, M> {}

impl<'a, A: Agent, M> TellWait<'a, A, M> {
    pub(crate) fn new(agent: &'a AgentRef<A>, msg: M) -> Self {
        Self {
            agent,
            msg: Some(msg),
            deadline: Deadline::new(agent.shared().identity.ask_timeout),
            waiter: None,
        }
    }

    /// Replaces the default deadline (the agent's ask timeout).
    ///
    /// When it fires: see [`Call::timeout`].
    pub fn timeout(mut self, after: Duration) -> Self {
        self.deadline.set_after(after);
        self
    }
}

impl<A, M> Future for TellWait<'_, A, M>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    type Output = Result<(), SendError<M>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let Some(msg) = this.msg.take() else {
                return Poll::Ready(Ok(()));
            };
            let agent = || this.agent.name().clone();
            let msg = match this.agent.tell(msg) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(SendError::Full { msg, .. }) => msg,
                Err(err) => return Poll::Ready(Err(err)),
            };
            let Some(waiter) = &mut this.waiter else {
                // Register before retrying, so room freed in between wakes us.
                this.waiter = Some(this.agent.shared().wait_for_room());
                this.msg = Some(msg);
                continue;
            };
            if waiter.as_mut().poll(cx).is_ready() {
                this.waiter = None;
                this.msg = Some(msg);
                continue;
            }
            match this.deadline.poll_elapsed(cx) {
                Poll::Pending => {
                    this.msg = Some(msg);
                    return Poll::Pending;
                }
                Poll::Ready(_) => {
                    // No timer counts as the deadline passing: the message is
                    // handed back either way.
                    let after = this.deadline.after();
                    return Poll::Ready(Err(SendError::Timeout {
                        agent: agent(),
                        after,
                        msg,
                    }));
                }
            }
        }
    }
}

impl<A, M> fmt::Debug for Call<'_, A, M>
where
    A: Agent + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("agent", self.shared.name())
            .field("message", &std::any::type_name::<M>())
            .field("deadline", &self.deadline.after())
            .finish()
    }
}

impl<A, M> fmt::Debug for Ask<'_, A, M>
where
    A: Agent + Handler<M>,
    M: AgentMessage,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ask").field(&self.call).finish()
    }
}

impl<A: Agent, M> fmt::Debug for TellWait<'_, A, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TellWait")
            .field("agent", self.agent.name())
            .field("message", &std::any::type_name::<M>())
            .field("deadline", &self.deadline.after())
            .field("sent", &self.msg.is_none())
            .finish()
    }
}
