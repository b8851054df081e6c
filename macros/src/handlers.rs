//! `#[handlers]`: every `#[handle]` method of an inherent impl becomes a
//! message struct, an actix `Handler` impl and an ask method on the agent's
//! typed reference.
//!
//! A generic impl (`impl<T: Send> Stack<T>`) gives generic messages: each
//! message struct takes the impl's parameters that its fields or its reply
//! name, so `Len` stays plain while `Push<T>` is generic.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Generics, ImplItem, ItemImpl, Type, visit_mut::VisitMut};

use crate::{
    ctxt::{Ctxt, with_fallback},
    paths::Paths,
};

mod ask;
mod dispatch;
mod ir;
mod message;
mod parse;

/// The agent an impl block belongs to.
pub(crate) struct Agent {
    /// `Stack<T>`, as the impl names it.
    pub(crate) ty: Type,
    /// `StackRef<T>`.
    pub(crate) ref_ty: syn::Path,
    /// The impl's parameters, for impls on the agent and its reference:
    /// see `generics::for_agent`.
    pub(crate) generics: Generics,
    /// The impl's parameters, each bound by `'static`: what the messages
    /// take theirs from (a bound on the agent is no business of theirs).
    pub(crate) params: Generics,
    pub(crate) paths: Paths,
}

impl Agent {
    /// `ty` with `Self` replaced by the agent type, for use outside its impl.
    pub(crate) fn resolve(&self, ty: &Type) -> Type {
        struct ReplaceSelf<'a>(&'a Type);
        impl VisitMut for ReplaceSelf<'_> {
            fn visit_type_mut(&mut self, ty: &mut Type) {
                if let Type::Path(path) = ty
                    && path.qself.is_none()
                    && path.path.is_ident("Self")
                {
                    *ty = self.0.clone();
                    return;
                }
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
        let mut ty = ty.clone();
        ReplaceSelf(&self.ty).visit_type_mut(&mut ty);
        ty
    }
}

pub(crate) fn expand(args: TokenStream, mut item: ItemImpl) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut paths = Paths::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            paths = Paths::with_root(&meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("unknown key in #[handlers(...)]: expected `crate = path`"))
        }
    });
    if let Err(err) = syn::parse::Parser::parse2(parser, args) {
        cx.push(err);
    }

    let agent = agent_of(&item, paths, &mut cx);
    if let Some(agent) = &agent {
        // The methods of a generic agent may name `AgentContext<Self>`,
        // which needs what an actor is: the bounds the derive adds.
        item.generics = agent.generics.clone();
    }
    let mut handlers: Vec<ir::HandlerFn> = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        if !method.attrs.iter().any(parse::is_handle) {
            continue;
        }
        let Some(mut handler) = parse::handler(method, &mut cx) else {
            continue;
        };
        if handler.shape == ir::Shape::Future {
            // Clippy suggests `async fn` for `-> impl Future + 'static`, but
            // an `async fn` would borrow the agent: the shape is deliberate.
            method
                .attrs
                .push(syn::parse_quote!(#[allow(clippy::manual_async_fn)]));
        }
        if let Some(problem) = name_problem(&handler, &handlers, agent.as_ref()) {
            cx.error_at(handler.method.span(), problem);
            continue;
        }
        if let Some(agent) = &agent
            && let Err(problem) = message_generics(&mut handler, agent)
        {
            cx.push(problem);
            continue;
        }
        handlers.push(handler);
    }

    let generated = agent.map(|agent| {
        let per_handler = handlers.iter().map(|handler| {
            let message = message::expand(handler, &agent);
            let dispatch = dispatch::expand(handler, &agent);
            quote!(#message #dispatch)
        });
        let asks = ask::expand(&handlers, &agent);
        quote!(#(#per_handler)* #asks)
    });
    let output = quote! {
        #item
        #generated
    };
    match cx.check() {
        Ok(()) => output,
        Err(errors) => with_fallback(errors, output),
    }
}

/// The agent type and its `<Name>Ref`, from `impl Name { .. }`.
fn agent_of(item: &ItemImpl, paths: Paths, cx: &mut Ctxt) -> Option<Agent> {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "#[handlers] goes on the agent's inherent impl (`impl MyAgent { .. }`), not on a trait impl",
        );
        return None;
    }
    if item.generics.lifetimes().next().is_some() {
        crate::generics::reject_lifetimes(&item.generics, "an agent's impl", cx);
        return None;
    }
    let Type::Path(path) = &*item.self_ty else {
        cx.error_spanned_by(
            &item.self_ty,
            "#[handlers] needs an impl of a named agent type",
        );
        return None;
    };
    // `Stack<T>` has the reference `StackRef<T>`: same arguments.
    let mut ref_ty = path.path.clone();
    let last = ref_ty.segments.last_mut()?;
    last.ident = quote::format_ident!("{}Ref", last.ident);
    Some(Agent {
        ty: (*item.self_ty).clone(),
        ref_ty,
        generics: crate::generics::for_agent(&item.generics, &item.self_ty),
        params: crate::generics::with_static(&item.generics),
        paths,
    })
}

/// Gives the handler's message the agent's parameters it names, and a
/// marker field if its reply names one its fields do not.
fn message_generics(handler: &mut ir::HandlerFn, agent: &Agent) -> syn::Result<()> {
    use crate::generics::{mentioned, subset};
    let fields: Vec<Type> = handler.fields().map(|(_, ty)| agent.resolve(ty)).collect();
    let reply = agent.resolve(&handler.reply.ty);
    let in_fields = mentioned(&agent.params, &quote!(#(#fields)*));
    let in_reply = mentioned(&agent.params, &reply);
    handler.marker = in_reply.iter().any(|p| !in_fields.contains(p));
    let used = mentioned(&agent.params, &quote!(#(#fields)* #reply));
    handler.generics = subset(&agent.params, &used);
    let clash = handler.fields().find(|(ident, _)| *ident == ir::MARKER);
    if let Some((ident, _)) = clash.filter(|_| handler.marker) {
        return Err(syn::Error::new(
            ident.span(),
            format_args!(
                "a parameter cannot be named `{}` here: the message needs that field to carry \
                 the type parameters only its reply names; rename the parameter",
                ir::MARKER
            ),
        ));
    }
    Ok(())
}

/// Why this handler's generated names cannot be used, if they cannot.
fn name_problem(
    handler: &ir::HandlerFn,
    earlier: &[ir::HandlerFn],
    agent: Option<&Agent>,
) -> Option<String> {
    let method = handler.method.to_string();
    let message = &handler.message;
    if agentix_rules::RESERVED_HANDLER_NAMES.contains(&method.as_str()) {
        return Some(format!(
            "a handler cannot be named `{method}`: the ask method it generates on the agent's reference \
             would shadow `{method}` of AgentRef; rename the handler"
        ));
    }
    if let Some(other) = earlier.iter().find(|h| h.message == *message) {
        return Some(format!(
            "handlers `{}` and `{method}` would both generate the message struct `{message}`: \
             rename one, or name its message with #[handle(message = \"...\")]",
            other.method
        ));
    }
    let agent = agent?;
    let agent_name = agent.ref_ty.segments.last()?.ident.to_string();
    let agent_ident = agent_name.trim_end_matches("Ref");
    if *message == agent_ident || *message == agent_name {
        return Some(format!(
            "the message struct of `{method}` would be named `{message}`, which is taken by the agent's own types; \
             rename the handler or set #[handle(message = \"...\")]"
        ));
    }
    None
}
