//! `#[agentix::main]` and `#[agentix::test]`: run an async body on a fresh
//! actix system, which a swarm needs.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::paths::Paths;

pub(crate) fn expand(args: TokenStream, mut item: ItemFn, test: bool) -> TokenStream {
    let which = if test { "test" } else { "main" };
    let mut errors = Vec::new();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            &args,
            format!("#[agentix::{which}] takes no arguments"),
        ));
    }
    if item.sig.asyncness.take().is_none() {
        errors.push(syn::Error::new_spanned(
            item.sig.fn_token,
            format!("#[agentix::{which}] goes on an `async fn`"),
        ));
    }
    if !item.sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.sig.inputs,
            format!("#[agentix::{which}] functions take no parameters"),
        ));
    }
    if let Some(error) = errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    }) {
        return error.to_compile_error();
    }
    let private = Paths::default().private();
    let body = &item.block;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = &item.sig;
    let test_attr = test.then(|| quote!(#[::core::prelude::v1::test]));
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #private::block_on(async move #body)
        }
    }
}
