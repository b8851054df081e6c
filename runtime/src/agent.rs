//! One agent: the model ([`Agent`], which `#[derive(Agent)]` implements, the
//! [`Lifecycle`] hooks, and [`AgentMessage`], the typed messages that
//! `#[handlers]` generates) and the machinery that runs one, below the
//! swarm and the supervisors and above the pieces that know no agent.
//!
//! | module | what it holds |
//! |---|---|
//! | `shared` | the control block every reference and the task share |
//! | `address`, `request` | the reference and its tell, ask and call |
//! | `context` | the actix context an agent runs in |
//! | `envelope` | one message on its way in: the handling and its checks |
//! | `private` | the actor glue and panic guards the macros expand to |
//! | `task`, `task/` | the task that owns the agent: incarnations, restarts, the end |
//! | `fault` | where a fault plan can break something (feature `testkit`) |
//! | `holding`, `start_latch` | a self-ask guard; the first start's report |

pub(crate) mod address;
pub(crate) mod context;
mod counters;
mod directive;
pub(crate) mod envelope;
pub(crate) mod fault;
pub(crate) mod holding;
pub(crate) mod overseer;
pub(crate) mod private;
pub(crate) mod request;
pub(crate) mod roster;
pub(crate) mod shared;
pub(crate) mod start_latch;
pub(crate) mod task;

use std::time::Duration;

use actix::{Actor, Message, Supervised};

use crate::{AgentContext, AgentRef, ExitReason, Failure, Restart};

/// An actix actor that runs as an agentix agent: in an [`AgentContext`], with
/// panics caught, restarts in place at the same address, and typed asks.
///
/// Implemented by `#[derive(Agent)]`; the attributes set the constants:
///
/// | attribute                 | constant          | default                          |
/// |---------------------------|-------------------|----------------------------------|
/// | `kind = "pricer"`         | [`KIND`]          | the type name in snake_case      |
/// | `mailbox = 256`           | [`MAILBOX`]       | the swarm's default (1024)       |
/// | `restart = "permanent"`   | [`RESTART`]       | [`Restart::Transient`]           |
/// | `keep_state`              | [`KEEP_STATE`]    | `false`: a restart starts fresh  |
/// | `ask_timeout_ms = 500`    | [`ASK_TIMEOUT`]   | the swarm's default (5 s)        |
/// | `budget = 32`             | [`BUDGET`]        | the swarm's default ([`DEFAULT_BUDGET`](crate::DEFAULT_BUDGET)) |
/// | `lifecycle`               | —                 | you implement [`Lifecycle`]      |
/// | `reference = MyRef`       | `Ref`             | a generated `<Name>Ref`          |
///
/// [`KIND`]: Agent::KIND
/// [`MAILBOX`]: Agent::MAILBOX
/// [`RESTART`]: Agent::RESTART
/// [`KEEP_STATE`]: Agent::KEEP_STATE
/// [`ASK_TIMEOUT`]: Agent::ASK_TIMEOUT
/// [`BUDGET`]: Agent::BUDGET
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// #[agent(kind = "counter", mailbox = 256, restart = "permanent")]
/// struct Counter {
///     total: u64,
/// }
///
/// assert_eq!(Counter::KIND, "counter");
/// assert_eq!(Counter::MAILBOX, Some(256));
/// assert_eq!(Counter::RESTART, Restart::Permanent);
/// assert!(!Counter::KEEP_STATE);
/// ```
pub trait Agent: Actor<Context = AgentContext<Self>> + Supervised + Lifecycle {
    /// The kind of agent: one label for every instance of the type, used in
    /// errors, logs and metrics. Follows the rules of [`AgentName`](crate::AgentName).
    const KIND: &'static str;

    /// Mailbox capacity; `None` takes the swarm's default.
    const MAILBOX: Option<usize> = None;

    /// What happens when an incarnation ends; a spawn can override it.
    const RESTART: Restart = Restart::Transient;

    /// Keep the state across a restart instead of building a fresh one from
    /// the factory. Off by default: state that caused a panic is suspect.
    const KEEP_STATE: bool = false;

    /// Default deadline of asks to this agent; `None` takes the swarm's.
    const ASK_TIMEOUT: Option<Duration> = None;

    /// Messages handled in one turn on the thread (which also ends after
    /// about [`TURN_SLICE`](crate::TURN_SLICE)) before the agent's
    /// neighbours on the arbiter get theirs; `None` takes the swarm's. See
    /// [`SwarmConfig::budget`](crate::SwarmConfig::budget).
    const BUDGET: Option<usize> = None;

    /// The typed reference `spawn` returns: `CounterRef` for `Counter`,
    /// carrying the generated ask methods and dereferencing to [`AgentRef`];
    /// with `#[agent(reference = T)]`, the type `T` instead (the built-in
    /// agents use [`AgentRef<Self>`] itself).
    type Ref: From<AgentRef<Self>> + Clone + Send + Sync + 'static;
}

/// Lifecycle hooks of an agent, all optional.
///
/// `#[derive(Agent)]` implements this trait with the defaults; write
/// `#[agent(lifecycle)]` to implement it yourself. A panic in a hook is caught
/// like a panic in a handler.
///
/// Order for one agent: `started`, then messages, then `stopping` and
/// `stopped`; after a restart, `restarted` and then `started` again, on the
/// new incarnation.
///
/// ```
/// use agentix::prelude::*;
///
/// #[derive(Agent, Default)]
/// #[agent(lifecycle)]
/// struct Worker {
///     restarts_seen: u32,
/// }
///
/// impl Lifecycle for Worker {
///     fn restarted(&mut self, cause: &ExitReason, _ctx: &mut AgentContext<Self>) {
///         if let Some(failure) = cause.failure() {
///             eprintln!("recovered from: {failure}");
///         }
///         self.restarts_seen += 1;
///     }
/// }
/// ```
pub trait Lifecycle: Actor<Context = AgentContext<Self>> {
    /// Called when an incarnation starts, before it handles any message.
    fn started(&mut self, ctx: &mut AgentContext<Self>) {
        let _ = ctx;
    }

    /// Called on the new incarnation after a restart, with why the previous
    /// one ended, before [`started`](Lifecycle::started).
    fn restarted(&mut self, cause: &ExitReason, ctx: &mut AgentContext<Self>) {
        let _ = (cause, ctx);
    }

    /// Called when an incarnation is stopping (it failed, stopped itself, or
    /// was asked to).
    fn stopping(&mut self, ctx: &mut AgentContext<Self>) {
        let _ = ctx;
    }

    /// Called last, when the incarnation has stopped.
    fn stopped(&mut self, ctx: &mut AgentContext<Self>) {
        let _ = ctx;
    }
}

/// A message generated by `#[handlers]`: its reply carries either the
/// handler's return value or the [`Failure`] of a panic.
///
/// `Ok`/`Err` split a handler's `Result<T, E>` so that the caller of
/// [`AgentRef::ask`] gets `Result<T, AskError<E>>`; for a handler returning a
/// plain `T`, `Ok = T` and `Err = Infallible`.
pub trait AgentMessage: Message<Result = Result<Self::Reply, Failure>> + Send + 'static {
    /// What the handler method returns.
    type Reply: Send + 'static;
    /// The success type the caller sees.
    type Ok;
    /// The handler error type the caller sees.
    type Err;

    /// Splits the handler's return value into success and handler error.
    fn split(reply: Self::Reply) -> Result<Self::Ok, Self::Err>;
}
