//! Generic agents: the parameters every generated impl carries, and the
//! subset of them a handler's message struct needs.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericParam, Generics, Ident, WherePredicate, parse_quote};

use crate::ctxt::Ctxt;

/// Records an error for each lifetime parameter: an actor owns its state
/// and lives as long as the swarm, so it cannot borrow.
pub(crate) fn reject_lifetimes(generics: &Generics, what: &str, cx: &mut Ctxt) {
    for lifetime in generics.lifetimes() {
        cx.error_spanned_by(
            lifetime,
            format_args!(
                "{what} cannot have a lifetime parameter: an agent owns its state and outlives any borrow; \
                 use owned types (String, Arc<T>, ...) instead"
            ),
        );
    }
}

/// `generics` with `T: 'static` for every type parameter: an actix actor is
/// `'static`, so every parameter of an agent must be, and saying so in each
/// generated impl spares the user writing it.
pub(crate) fn with_static(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let clause = generics.make_where_clause();
    for ident in params {
        clause.predicates.push(parse_quote!(#ident: 'static));
    }
    generics
}

/// The parameters of every impl on a generic agent `self_ty` (and on its
/// reference): [`with_static`], and `Self: Unpin`, which an actix actor
/// must be. The bound is on the agent, not on its parameters, so an agent
/// holding a `Vec<T>` or a `Box<T>` takes any `T` without the user
/// writing `T: Unpin` everywhere; a use with a type that makes the agent
/// `!Unpin` fails where it is spawned.
pub(crate) fn for_agent(generics: &Generics, self_ty: &impl ToTokens) -> Generics {
    let mut out = with_static(generics);
    if generics.type_params().next().is_some() {
        let self_ty = self_ty.to_token_stream();
        out.make_where_clause()
            .predicates
            .push(parse_quote!(#self_ty: ::core::marker::Unpin));
    }
    out
}

/// The type and const parameters of `generics` that `tokens` names.
pub(crate) fn mentioned(generics: &Generics, tokens: &impl ToTokens) -> Vec<Ident> {
    let names = param_names(generics);
    let mut found = Vec::new();
    scan(tokens.to_token_stream(), &names, &mut found);
    // In declaration order, so that the message's parameters read like the
    // agent's.
    names.into_iter().filter(|n| found.contains(n)).collect()
}

/// The part of `generics` about `keep`: those parameters, with the bounds
/// and `where` predicates that name no other parameter.
pub(crate) fn subset(generics: &Generics, keep: &[Ident]) -> Generics {
    let all = param_names(generics);
    let only_kept = |tokens: &dyn ToTokens| {
        let mut found = Vec::new();
        scan(tokens.to_token_stream(), &all, &mut found);
        found.iter().all(|n| keep.contains(n))
    };
    let mut out = Generics::default();
    for param in &generics.params {
        let mut param = param.clone();
        match &mut param {
            GenericParam::Type(tp) if keep.contains(&tp.ident) => {
                tp.bounds = tp
                    .bounds
                    .iter()
                    .filter(|b| only_kept(*b))
                    .cloned()
                    .collect();
                // A default belongs to the agent's declaration only.
                tp.eq_token = None;
                tp.default = None;
            }
            GenericParam::Const(cp) if keep.contains(&cp.ident) => {
                cp.eq_token = None;
                cp.default = None;
            }
            _ => continue,
        }
        out.params.push(param);
    }
    if let Some(clause) = &generics.where_clause {
        let kept: Vec<&WherePredicate> =
            clause.predicates.iter().filter(|p| only_kept(*p)).collect();
        if !kept.is_empty() {
            out.make_where_clause()
                .predicates
                .extend(kept.into_iter().cloned());
        }
    }
    if !out.params.is_empty() {
        out.lt_token = Some(Default::default());
        out.gt_token = Some(Default::default());
    }
    out
}

fn param_names(generics: &Generics) -> Vec<Ident> {
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(tp) => Some(tp.ident.clone()),
            GenericParam::Const(cp) => Some(cp.ident.clone()),
            GenericParam::Lifetime(_) => None,
        })
        .collect()
}

/// Collects the identifiers in `names` that start a path in `tokens`: `T`,
/// `Vec<T>`, `T::Item`, `[u8; N]`, but not `other::T`, which names an item.
fn scan(tokens: TokenStream, names: &[Ident], found: &mut Vec<Ident>) {
    let mut colons = 0;
    for tree in tokens {
        let after_path_sep = colons >= 2;
        match tree {
            TokenTree::Punct(punct) if punct.as_char() == ':' => {
                colons = if punct.spacing() == Spacing::Joint || colons == 1 {
                    colons + 1
                } else {
                    1
                };
                continue;
            }
            TokenTree::Ident(ident) => {
                if !after_path_sep && names.contains(&ident) && !found.contains(&ident) {
                    found.push(ident);
                }
            }
            TokenTree::Group(group) => scan(group.stream(), names, found),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
        colons = 0;
    }
}
