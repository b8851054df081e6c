//! What `#[handlers]` knows about one `#[handle]` method once parsed and
//! checked: the input of every expansion step.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Generics, Ident, Type, Visibility};

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
    /// The message struct's parameters: those of a generic agent's impl
    /// that its fields or its reply name (none for most messages).
    pub(crate) generics: Generics,
    /// A parameter is named by the reply only: the [`MARKER`] field holds it.
    pub(crate) marker: bool,
}

/// The field of a message whose reply names a parameter its fields do not:
/// a struct must use each of its parameters.
pub(crate) const MARKER: &str = "_reply";

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
    /// The message type: `Push<T>` for the message `Push` of a generic agent.
    pub(crate) fn message_ty(&self) -> TokenStream {
        let message = &self.message;
        let (_, ty_generics, _) = self.generics.split_for_impl();
        quote!(#message #ty_generics)
    }

    /// The marker field, under its name, if the message has one.
    pub(crate) fn marker(&self) -> Option<Ident> {
        self.marker
            .then(|| Ident::new(MARKER, proc_macro2::Span::call_site()))
    }

    pub(crate) fn fields(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().filter_map(|param| match param {
            Param::Field { ident, ty } => Some((ident, &**ty)),
            Param::Context => None,
        })
    }
}
