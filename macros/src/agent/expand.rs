//! Expands `#[derive(Agent)]`: the actix `Actor` and `Supervised` impls that
//! route the lifecycle through the runtime, the `Agent` impl with the
//! attribute values, a default `Lifecycle`, and the typed `<Name>Ref`.
//!
//! This is the one place the glue between an agent and the runtime is
//! written: user agents, the built-in actors and the runtime's supervisor
//! all derive it. A generic agent's parameters and `where` clause go into
//! every impl, with the bounds every actor meets (`'static`, `Unpin`).

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{DeriveInput, LitStr};

use super::attr::AgentAttrs;
use crate::paths::Paths;

pub(crate) fn expand(input: &DeriveInput, attrs: &AgentAttrs) -> TokenStream {
    let paths = attrs
        .crate_path
        .as_ref()
        .map_or_else(Paths::default, Paths::with_root);
    let root = paths.root();
    let private = paths.private();
    let actix = paths.actix();
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let this = quote!(#ident #ty_generics);
    let generics = crate::generics::for_agent(&input.generics, &this);
    let (impl_generics, _, where_clause) = generics.split_for_impl();

    let kind = attrs
        .kind
        .clone()
        .unwrap_or_else(|| LitStr::new(&ident.to_string().to_snake_case(), ident.span()));
    // A default kind comes from the type name, which may hold characters a
    // name may not (non-ASCII identifiers): check it where it is made.
    let kind_check = attrs
        .kind
        .is_none()
        .then(|| super::attr::kind_problem(&kind.value()))
        .flatten()
        .map(|problem| {
            let problem = format!("{problem}; set a valid one with #[agent(kind = \"...\")]");
            quote_spanned!(ident.span()=> ::core::compile_error!(#problem);)
        });
    let mailbox = attrs.mailbox.map(|n| quote!(const MAILBOX: ::core::option::Option<usize> = ::core::option::Option::Some(#n);));
    let budget = attrs.budget.map(
        |n| quote!(const BUDGET: ::core::option::Option<usize> = ::core::option::Option::Some(#n);),
    );
    let restart = attrs
        .restart
        .as_ref()
        .map(|variant| quote!(const RESTART: #root::Restart = #root::Restart::#variant;));
    let keep_state = attrs.keep_state.then(|| {
        quote!(
            const KEEP_STATE: bool = true;
        )
    });
    let ask_timeout = attrs.ask_timeout_ms.map(|ms| {
        quote! {
            const ASK_TIMEOUT: ::core::option::Option<::core::time::Duration> =
                ::core::option::Option::Some(::core::time::Duration::from_millis(#ms));
        }
    });
    let lifecycle = (!attrs.lifecycle).then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #root::Lifecycle for #this #where_clause {}
        }
    });
    // A named reference replaces the generated one. `#[handlers]` adds its
    // ask methods to `<Name>Ref` whatever this says, so a named reference
    // gets them only if that is its name.
    let (ref_ty, reference) = match &attrs.reference {
        Some(ty) => (quote!(#ty), None),
        None => {
            let ref_ident = quote::format_ident!("{}Ref", ident);
            let generated = super::reference::expand(input, &generics, &paths);
            (quote!(#ref_ident #ty_generics), Some(generated))
        }
    };

    quote! {
        #kind_check

        #[automatically_derived]
        impl #impl_generics #actix::Actor for #this #where_clause {
            type Context = #root::AgentContext<Self>;

            fn started(&mut self, ctx: &mut Self::Context) {
                #private::started(self, ctx)
            }

            fn stopping(&mut self, ctx: &mut Self::Context) -> #actix::Running {
                #private::stopping(self, ctx)
            }

            fn stopped(&mut self, ctx: &mut Self::Context) {
                #private::stopped(self, ctx)
            }
        }

        #[automatically_derived]
        impl #impl_generics #actix::Supervised for #this #where_clause {
            fn restarting(&mut self, ctx: &mut Self::Context) {
                #private::restarting(self, ctx)
            }
        }

        #[automatically_derived]
        impl #impl_generics #root::Agent for #this #where_clause {
            const KIND: &'static str = #kind;
            #mailbox
            #restart
            #keep_state
            #ask_timeout
            #budget
            type Ref = #ref_ty;
        }

        #lifecycle

        #reference
    }
}
