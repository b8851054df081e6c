//! The procedural macros of agentix. Use them through the `agentix` facade
//! (`use agentix::prelude::*;`); the generated code names only
//! `::agentix::…` paths (redirect with `crate = path`).

use proc_macro::TokenStream;
use syn::{DeriveInput, ItemFn, ItemImpl, parse_macro_input};

mod agent;
mod ctxt;
mod entry;
mod generics;
mod handlers;
mod paths;

/// Makes a struct or enum an agent: an actix actor in an `AgentContext`,
/// restarted in place on failure, with a typed reference `<Name>Ref`.
///
/// Attributes (all optional) in `#[agent(...)]`:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `kind = "pricer"` | the label of every instance | the type name in snake_case |
/// | `mailbox = 256` | mailbox capacity (≥ 1) | the swarm's (1024) |
/// | `restart = "permanent"` | `"permanent"`, `"transient"` or `"temporary"` | `"transient"` |
/// | `keep_state` | a restart keeps the state instead of calling the factory | off |
/// | `ask_timeout_ms = 500` | default deadline of asks | the swarm's (5000) |
/// | `budget = 32` | messages per turn (≥ 1; a turn also ends after about 50 µs) | the swarm's (256) |
/// | `lifecycle` | you implement `Lifecycle` yourself | a default impl |
/// | `reference = Type` | `Agent::Ref` is this type (`From<AgentRef<Self>> + Clone + Send + Sync + 'static`), no `<Name>Ref` is generated | a generated `<Name>Ref` |
/// | `crate = path` | where the `agentix` crate is | `::agentix` |
///
/// An agent may be generic over types and constants (not lifetimes: it
/// owns its state). The parameters, their bounds and defaults and the
/// `where` clause go into every generated impl and into `<Name>Ref<..>`,
/// with two bounds every actor meets added: `T: 'static` for each type
/// parameter and `Name<..>: Unpin`. Code of your own that is generic over
/// the agent states them too. Each instantiation is its own agent type,
/// of the same kind.
///
/// `#[handlers]` adds its ask methods to `<Name>Ref`: with `reference`, the
/// type named gets them only if it is called that (and dereferences to
/// `AgentRef<Name>`); otherwise write the handlers by hand. The built-in
/// agents name `AgentRef<Self>` and the supervisor `SupervisorRef` (with
/// `crate = ::agentix_runtime` and `crate = crate`): every agent's glue,
/// theirs included, is this derive's.
///
/// <details><summary>What it expands to</summary>
///
/// ```text
/// impl actix::Actor for Counter { type Context = AgentContext<Self>; /* hooks -> runtime */ }
/// impl actix::Supervised for Counter { /* swaps in the fresh state on restart */ }
/// impl agentix::Agent for Counter { const KIND = "counter"; type Ref = CounterRef; .. }
/// impl agentix::Lifecycle for Counter {}            // unless `lifecycle`
/// pub struct CounterRef { .. }                      // Clone, Debug, Eq, Deref<Target = AgentRef<Counter>>
///
/// // #[derive(Agent)] struct Stack<T: Send> { items: Vec<T> }
/// impl<T: Send> actix::Actor for Stack<T> where T: 'static, Stack<T>: Unpin { .. }
/// pub struct StackRef<T: Send> where T: 'static, Stack<T>: Unpin { .. }
/// ```
/// </details>
#[proc_macro_derive(Agent, attributes(agent))]
pub fn derive_agent(input: TokenStream) -> TokenStream {
    agent::derive(parse_macro_input!(input as DeriveInput)).into()
}

/// Turns the `#[handle]` methods of an agent's inherent impl into typed
/// messages.
///
/// For each `#[handle] fn add(&mut self, by: u64) -> u64`:
/// - a struct `Add { pub by: u64 }` (named after the method in PascalCase,
///   with the method's docs), implementing actix `Message` and agentix
///   `AgentMessage`;
/// - `impl actix::Handler<Add> for Counter`, which calls the method under a
///   panic guard: a panic fails the agent and becomes the caller's error;
/// - `CounterRef::add(&self, by: u64) -> Ask<Counter, Add>`, the one-line ask.
///
/// Handler shapes: parameters are owned values, plus optionally
/// `ctx: &mut AgentContext<Self>`; the return type is any `T`, a
/// `Result<T, E>` (the caller gets `E` typed), `impl Future<Output = T> +
/// 'static`, or `impl ActorFuture<Self, Output = T> + 'static`. Async handlers
/// are serial: no other message of the agent runs until the future completes,
/// unless marked `#[handle(concurrent)]`. `#[handle(message = "Name")]` names
/// the message struct.
///
/// On a generic agent's impl (`impl<T: Send> Stack<T>`, or one
/// instantiation such as `impl Stack<u32>`), each message struct takes the
/// impl's parameters that its fields or its reply name, with their bounds:
/// `fn push(&mut self, item: T)` gives `Push<T> { pub item: T }`, `fn
/// len(&mut self) -> usize` a plain `Len`. A parameter named by the reply
/// alone is carried by a field `_reply: PhantomData<fn() -> Reply>`
/// (`fn pop(&mut self) -> Option<T>` gives `Pop<T> { _reply }`; the ask
/// method fills it in). The impl gets the bounds the derive adds
/// (`T: 'static`, `Stack<T>: Unpin`), so its methods may name
/// `AgentContext<Self>`.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::expand(args.into(), parse_macro_input!(input as ItemImpl)).into()
}

/// Marks a method of a `#[handlers]` impl as a message handler; see
/// [`macro@handlers`]. On its own it is an error.
#[proc_macro_attribute]
pub fn handle(_args: TokenStream, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[handle] only works on a method inside an `impl` block marked #[handlers]: add #[handlers] above the impl",
    )
    .to_compile_error();
    quote::quote!(#error #input).into()
}

/// Runs an `async fn main` on a fresh actix system.
#[proc_macro_attribute]
pub fn main(args: TokenStream, input: TokenStream) -> TokenStream {
    entry::expand(args.into(), parse_macro_input!(input as ItemFn), false).into()
}

/// Runs an `async fn` test on a fresh actix system of its own, so tests
/// with swarms run in parallel without sharing anything.
#[proc_macro_attribute]
pub fn test(args: TokenStream, input: TokenStream) -> TokenStream {
    entry::expand(args.into(), parse_macro_input!(input as ItemFn), true).into()
}
