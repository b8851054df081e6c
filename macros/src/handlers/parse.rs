//! Turns one `#[handle]` method into a [`HandlerFn`], checking every rule and
//! recording each mistake at its own tokens with how to fix it.

use heck::ToUpperCamelCase;
use syn::{
    FnArg, GenericArgument, Ident, ImplItemFn, LitStr, Pat, PathArguments, ReturnType, Type,
    TypeParamBound, spanned::Spanned,
};

use super::ir::{HandlerFn, Param, Reply, Shape};
use crate::ctxt::Ctxt;

/// Whether `attr` is `#[handle]` (or `#[agentix::handle]`).
pub(crate) fn is_handle(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "handle")
}

/// Parses a method carrying `#[handle]`; the attribute is removed from it.
/// Returns `None` when the method is too broken to generate anything for.
pub(crate) fn handler(method: &mut ImplItemFn, cx: &mut Ctxt) -> Option<HandlerFn> {
    let (handle_attrs, rest): (Vec<_>, Vec<_>) = method.attrs.drain(..).partition(is_handle);
    method.attrs = rest;
    let mut concurrent = false;
    let mut message = None;
    for attr in &handle_attrs {
        if matches!(attr.meta, syn::Meta::Path(_)) {
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("concurrent") {
                concurrent = true;
            } else if meta.path.is_ident("message") {
                let lit: LitStr = meta.value()?.parse()?;
                match syn::parse_str::<Ident>(&lit.value()) {
                    Ok(ident) => message = Some(Ident::new(&ident.to_string(), lit.span())),
                    Err(_) => {
                        cx.error_spanned_by(&lit, "`message` must name a type, like \"AddBy\"")
                    }
                }
            } else {
                cx.error_spanned_by(
                    &meta.path,
                    "unknown key in #[handle(...)]: expected `concurrent` or `message = \"Name\"`",
                );
                // Skip a value, if any, so the keys after it are still checked.
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
        if let Err(err) = parsed {
            cx.push(err);
        }
    }

    let sig = &method.sig;
    let mut ok = check_receiver(method, cx);
    if let Some(param) = sig.generics.params.first() {
        cx.error_spanned_by(
            param,
            "a handler cannot be generic: each handler becomes one concrete message type; \
             use concrete types (or one handler per type)",
        );
        ok = false;
    } else if let Some(clause) = &sig.generics.where_clause {
        cx.error_spanned_by(
            clause,
            "a handler cannot have a `where` clause: it cannot be generic",
        );
        ok = false;
    }
    if let Some(asyncness) = sig.asyncness {
        cx.error_spanned_by(
            asyncness,
            "a handler cannot be `async fn`: its future would borrow the agent across `.await`. \
             Return `impl Future<Output = T> + 'static` (move what it needs into an `async move` block), \
             or `impl ActorFuture<Self, Output = T> + 'static` to use the state after awaiting",
        );
        ok = false;
    }
    if let Some(unsafety) = sig.unsafety {
        cx.error_spanned_by(unsafety, "a handler cannot be `unsafe fn`");
        ok = false;
    }

    let params = parse_params(method, cx)?;
    let (reply, shape) = parse_return(&method.sig.output, cx)?;
    if concurrent && shape == Shape::Sync {
        cx.error_at(
            method.sig.ident.span(),
            "`#[handle(concurrent)]` applies to async handlers only (returning `impl Future` or `impl ActorFuture`)",
        );
    }
    let method_ident = method.sig.ident.clone();
    let message = message.unwrap_or_else(|| {
        let name = method_ident
            .to_string()
            .trim_start_matches("r#")
            .to_upper_camel_case();
        Ident::new(&name, method_ident.span())
    });
    ok.then(|| HandlerFn {
        docs: method
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect(),
        vis: method.vis.clone(),
        method: method_ident,
        message,
        params,
        reply,
        shape,
        concurrent,
        // Known once the agent is: see `handlers::message_generics`.
        generics: syn::Generics::default(),
        marker: false,
    })
}

fn check_receiver(method: &ImplItemFn, cx: &mut Ctxt) -> bool {
    let sig = &method.sig;
    match sig.receiver() {
        None => {
            cx.error_spanned_by(
                &sig.ident,
                "a handler needs `&mut self` as its first parameter: it runs on the agent's state",
            );
            false
        }
        Some(receiver) if receiver.colon_token.is_some() => {
            cx.error_spanned_by(
                receiver,
                "a handler takes `&mut self`, not a typed receiver",
            );
            false
        }
        Some(receiver) if receiver.reference.is_none() => {
            cx.error_spanned_by(
                receiver,
                "a handler cannot take `self` by value (that would consume the agent): take `&mut self`",
            );
            false
        }
        Some(receiver) if receiver.mutability.is_none() => {
            cx.error_spanned_by(
                receiver,
                "a handler takes `&mut self`, not `&self`: an agent handles one message at a time and may change its state",
            );
            false
        }
        Some(_) => true,
    }
}

fn parse_params(method: &mut ImplItemFn, cx: &mut Ctxt) -> Option<Vec<Param>> {
    let mut params = Vec::new();
    let mut broken = false;
    let mut context_seen = false;
    for arg in method.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = arg else { continue };
        // Attributes on parameters (e.g. `#[allow]`) stay on the method only.
        let Pat::Ident(pat) = &*typed.pat else {
            cx.error_spanned_by(
                &typed.pat,
                "use a plain name here: it becomes a field of the message",
            );
            broken = true;
            continue;
        };
        if pat.by_ref.is_some() || pat.subpat.is_some() {
            cx.error_spanned_by(
                &typed.pat,
                "use a plain name here: it becomes a field of the message",
            );
            broken = true;
            continue;
        }
        if is_context(&typed.ty) {
            if context_seen {
                cx.error_spanned_by(&typed.ty, "a handler takes the context at most once");
                broken = true;
            }
            context_seen = true;
            params.push(Param::Context);
            continue;
        }
        match &*typed.ty {
            Type::Reference(reference)
                if reference
                    .lifetime
                    .as_ref()
                    .is_none_or(|l| l.ident != "static") =>
            {
                cx.error_spanned_by(
                    reference,
                    "a message field must not borrow from the sender: take an owned type \
                     (String, Vec<T>, Arc<T>, ...) or a `&'static` reference",
                );
                broken = true;
            }
            Type::ImplTrait(it) => {
                cx.error_spanned_by(
                    it,
                    "a message field needs a concrete type, not `impl Trait`",
                );
                broken = true;
            }
            ty => params.push(Param::Field {
                ident: Ident::new(&pat.ident.to_string(), pat.ident.span()),
                ty: Box::new(ty.clone()),
            }),
        }
    }
    (!broken).then_some(params)
}

/// `&mut AgentContext<..>`, under any path.
fn is_context(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    reference.mutability.is_some()
        && path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "AgentContext")
}

fn parse_return(output: &ReturnType, cx: &mut Ctxt) -> Option<(Reply, Shape)> {
    let ty: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let Type::ImplTrait(impl_trait) = &ty else {
        return Some((reply(ty), Shape::Sync));
    };
    let mut found = None;
    let mut is_static = false;
    for bound in &impl_trait.bounds {
        match bound {
            TypeParamBound::Trait(bound) => {
                let Some(last) = bound.path.segments.last() else {
                    continue;
                };
                let shape = match last.ident.to_string().as_str() {
                    "Future" => Shape::Future,
                    "ActorFuture" => Shape::ActorFuture,
                    _ => continue,
                };
                found = output_of(&last.arguments).map(|out| (out, shape));
            }
            TypeParamBound::Lifetime(lifetime) => is_static |= lifetime.ident == "static",
            _ => {}
        }
    }
    let Some((out, shape)) = found else {
        cx.error_spanned_by(
            impl_trait,
            "an async handler returns `impl Future<Output = T> + 'static` or \
             `impl ActorFuture<Self, Output = T> + 'static`",
        );
        return None;
    };
    if !is_static {
        cx.error_at(
            impl_trait.span(),
            "add `+ 'static`: an async handler's future must not borrow the agent; \
             move what it needs into an `async move` block",
        );
        return None;
    }
    Some((reply(out), shape))
}

/// The `Output = T` binding of `Future<Output = T>` / `ActorFuture<A, Output = T>`.
fn output_of(arguments: &PathArguments) -> Option<Type> {
    let PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
        _ => None,
    })
}

fn reply(ty: Type) -> Reply {
    let fallible = match &ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().and_then(|last| {
            if last.ident != "Result" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            });
            match (types.next(), types.next(), types.next()) {
                (Some(ok), Some(err), None) => Some((ok, err)),
                _ => None,
            }
        }),
        _ => None,
    };
    Reply { ty, fallible }
}
