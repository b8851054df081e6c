//! What `#[handlers]` knows about one `#[handle]` method once parsed and
//! checked: the input of every expansion step.

use syn::{Attribute, Ident, Type, Visibility};

pub(crate) struct HandlerFn {
    /// The method's name; also the name of the ask method on `<Agent>Ref`.
    pub(crate) method: Ident,
    pub(crate) vis: Visibility,
    /// The method's `#[doc]` attributes, copied to the message and the ask.
    pub(crate) docs: Vec<Attribute>,
    /// The generated message struct's name.
    pub(crate) message: Ident,
    /// The parameters after `&mut self`, in order.
    pub(crate) params: Vec<Param>,
    pub(crate) reply: Reply,
    pub(crate) shape: Shape,
    /// `#[handle(concurrent)]`: an async handler that does not hold the mailbox.
    pub(crate) concurrent: bool,
}

pub(crate) enum Param {
    /// A message field.
    Field { ident: Ident, ty: Box<Type> },
    /// `ctx: &mut AgentContext<Self>`, passed through, not part of the message.
    Context,
}

pub(crate) struct Reply {
    /// What the handler produces: the return type, or the future's `Output`.
    pub(crate) ty: Type,
    /// `Some((T, E))` when that is `Result<T, E>`: the caller gets `E` typed.
    pub(crate) fallible: Option<(Type, Type)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Returns its reply directly.
    Sync,
    /// Returns `impl Future<Output = T> + 'static`.
    Future,
    /// Returns `impl ActorFuture<Self, Output = T> + 'static`.
    ActorFuture,
}

impl HandlerFn {
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().filter_map(|param| match param {
            Param::Field { ident, ty } => Some((ident, &**ty)),
            Param::Context => None,
        })
    }
}
