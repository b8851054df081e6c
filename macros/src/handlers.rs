//! `#[handlers]`: every `#[handle]` method of an inherent impl becomes a
//! message struct, an actix `Handler` impl and an ask method on the agent's
//! typed reference.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, ItemImpl, Type, visit_mut::VisitMut};

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
    pub(crate) ty: Type,
    pub(crate) ref_ty: syn::Path,
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
    let mut handlers: Vec<ir::HandlerFn> = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        if !method.attrs.iter().any(parse::is_handle) {
            continue;
        }
        let Some(handler) = parse::handler(method, &mut cx) else {
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
    if let Some(param) = item.generics.params.first() {
        cx.error_spanned_by(
            param,
            "an agent cannot be generic yet: #[handlers] needs a concrete type",
        );
        return None;
    }
    let Type::Path(path) = &*item.self_ty else {
        cx.error_spanned_by(
            &item.self_ty,
            "#[handlers] needs an impl of a named agent type",
        );
        return None;
    };
    let mut ref_ty = path.path.clone();
    let last = ref_ty.segments.last_mut()?;
    if !last.arguments.is_empty() {
        cx.error_spanned_by(
            &path.path,
            "an agent cannot be generic yet: #[handlers] needs a concrete type",
        );
        return None;
    }
    last.ident = quote::format_ident!("{}Ref", last.ident);
    Some(Agent {
        ty: (*item.self_ty).clone(),
        ref_ty,
        paths,
    })
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
