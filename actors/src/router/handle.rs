//! [`RouterRef`]: starting a router, publishing, subscribing, and asking
//! what it could not deliver.

use std::{fmt, marker::PhantomData};

use actix::Handler;
use agentix_runtime::{Agent, AgentRef, AskError, SendError, SpawnError, Swarm};

use super::{
    Batch, Publish, Router, RouterConfig, SubscribeOptions, SubscriptionId, Topic, TopicError,
    TopicPattern, Undelivered, UndeliveredFilter, UndeliveredReason,
    messages::{Counts, QueryUndelivered, Redrive, Subscribe, Unsubscribe},
    target::AgentTarget,
};

/// A reference to a running router carrying `M`. Cheap to clone.
///
/// ```
/// use agentix::{actix, prelude::*};
/// use agentix::actors::router::{Batch, RouterConfig, RouterRef};
///
/// #[derive(Agent, Default)]
/// struct Printer {
///     seen: Vec<u64>,
/// }
///
/// impl actix::Handler<Batch<u64>> for Printer {
///     type Result = ();
///     fn handle(&mut self, batch: Batch<u64>, _: &mut AgentContext<Self>) {
///         self.seen.extend(batch.payloads());
///     }
/// }
///
/// # #[agentix::main]
/// # async fn main() -> agentix::Result<()> {
/// let swarm = Swarm::start(SwarmConfig::default())?;
/// let router = RouterRef::<u64>::start(&swarm, RouterConfig::default()).await?;
/// let printer = swarm.spawn("printer", Printer::default).await?;
/// router.subscribe("prices.>", &printer).await?;
/// router.publish("prices.eu.btc", 42)?;
/// # swarm.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct RouterRef<M: Send + Sync + 'static> {
    agent: AgentRef<Router<M>>,
}

impl<M: Send + Sync + 'static> RouterRef<M> {
    /// Starts a router agent in `swarm`, named `router-<n>`.
    pub async fn start(swarm: &Swarm, config: RouterConfig) -> Result<Self, SpawnError> {
        let agent = swarm.agent(move || Router::new(config)).spawn().await?;
        Ok(Self { agent })
    }

    /// The router agent itself (its name, status, restarts).
    pub fn agent(&self) -> &AgentRef<Router<M>> {
        &self.agent
    }

    /// Publishes `payload` on `topic` with the default options. Returns at
    /// once: a full router mailbox hands the message back.
    pub fn publish(&self, topic: &str, payload: M) -> Result<(), PublishError<M>> {
        let topic = Topic::new(topic).map_err(PublishError::Topic)?;
        self.send(Publish::new(topic, payload))
    }

    /// Publishes with options; returns at once.
    pub fn send(&self, publish: Publish<M>) -> Result<(), PublishError<M>> {
        (self.agent.tell(publish)).map_err(|err| PublishError::Send(Box::new(err)))
    }

    /// Publishes with options, waiting for room in the router's mailbox
    /// up to the router's ask deadline.
    pub async fn send_wait(&self, publish: Publish<M>) -> Result<(), PublishError<M>> {
        self.agent
            .tell_wait(publish)
            .await
            .map_err(|err| PublishError::Send(Box::new(err)))
    }

    /// Subscribes `agent`, which handles [`Batch<M>`], to `pattern`.
    pub async fn subscribe<A>(
        &self,
        pattern: &str,
        agent: &AgentRef<A>,
    ) -> Result<SubscriptionId, SubscribeError>
    where
        A: Agent + Handler<Batch<M>>,
    {
        self.subscribe_as(pattern, agent, |batch| batch, SubscribeOptions::default())
            .await
    }

    /// Subscribes `agent`, handing it each batch as `wrap(batch)`: the
    /// message of a `#[handle]` method taking the batch, say.
    pub async fn subscribe_as<A, Msg>(
        &self,
        pattern: &str,
        agent: &AgentRef<A>,
        wrap: fn(Batch<M>) -> Msg,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, SubscribeError>
    where
        A: Agent + Handler<Msg>,
        Msg: actix::Message<Result = ()> + Send + 'static,
    {
        let pattern = TopicPattern::new(pattern).map_err(SubscribeError::Pattern)?;
        let target = AgentTarget {
            agent: agent.clone(),
            wrap,
        };
        let subscribe = Subscribe {
            pattern,
            target: Box::new(target),
            options,
        };
        let id = self.agent.call(subscribe).await?;
        Ok(SubscriptionId(id))
    }

    /// Ends subscription `id`; `false` if it had ended already. What was
    /// published before still goes out; what waited in the router for a
    /// full mailbox becomes undelivered.
    pub async fn unsubscribe(&self, id: SubscriptionId) -> Result<bool, AskError> {
        self.agent.call(Unsubscribe(id)).await
    }

    /// The undelivered messages kept that `filter` admits, oldest first.
    pub async fn undelivered(
        &self,
        filter: UndeliveredFilter,
    ) -> Result<Vec<Undelivered<M>>, AskError> {
        self.agent.call(QueryUndelivered(filter, PhantomData)).await
    }

    /// How many messages were not delivered, by reason.
    pub async fn undelivered_counts(&self) -> Result<Vec<(UndeliveredReason, u64)>, AskError> {
        self.agent.call(Counts).await
    }

    /// Routes the undelivered messages `filter` admits again (as their
    /// next attempt); returns how many.
    pub async fn redrive(&self, filter: UndeliveredFilter) -> Result<usize, AskError> {
        self.agent.call(Redrive(filter)).await
    }
}

impl<M: Send + Sync + 'static> Clone for RouterRef<M> {
    fn clone(&self) -> Self {
        Self {
            agent: self.agent.clone(),
        }
    }
}

impl<M: Send + Sync + 'static> fmt::Debug for RouterRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RouterRef").field(self.agent.name()).finish()
    }
}

/// A publish that did not reach the router.
#[non_exhaustive]
pub enum PublishError<M> {
    /// The topic is not valid.
    Topic(TopicError),
    /// The router's mailbox was full or closed; the message is handed back.
    Send(Box<SendError<Publish<M>>>),
}

impl<M> fmt::Debug for PublishError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => f.debug_tuple("Topic").field(err).finish(),
            Self::Send(err) => f.debug_tuple("Send").field(err).finish(),
        }
    }
}

impl<M> fmt::Display for PublishError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => write!(f, "cannot publish: {err}"),
            Self::Send(err) => write!(f, "cannot publish: {err}"),
        }
    }
}

impl<M> std::error::Error for PublishError<M> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Topic(err) => Some(err),
            Self::Send(_) => None,
        }
    }
}

impl<M> From<PublishError<M>> for agentix_runtime::Error {
    /// Drops the message handed back, as every conversion to this error does.
    fn from(err: PublishError<M>) -> Self {
        match err {
            PublishError::Topic(err) => Self::Actor(Box::new(err)),
            PublishError::Send(err) => Self::from(*err),
        }
    }
}

impl From<SubscribeError> for agentix_runtime::Error {
    fn from(err: SubscribeError) -> Self {
        match err {
            SubscribeError::Router(err) => Self::from(err),
            pattern => Self::Actor(Box::new(pattern)),
        }
    }
}

/// A subscription that could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The pattern is not valid.
    Pattern(TopicError),
    /// The router did not answer.
    Router(AskError),
}

impl From<AskError> for SubscribeError {
    fn from(err: AskError) -> Self {
        Self::Router(err)
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(err) => write!(f, "cannot subscribe: {err}"),
            Self::Router(err) => write!(f, "cannot subscribe: {err}"),
        }
    }
}

impl std::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pattern(err) => Some(err),
            Self::Router(err) => Some(err),
        }
    }
}
