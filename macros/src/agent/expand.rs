//! Expands `#[derive(Agent)]`: the actix `Actor` and `Supervised` impls that
//! route the lifecycle through the runtime, the `Agent` impl with the
//! attribute values, a default `Lifecycle`, and the typed `<Name>Ref`.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
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
    let vis = &input.vis;
    let ref_ident = format_ident!("{}Ref", ident);

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
            impl #root::Lifecycle for #ident {}
        }
    });
    let ref_doc = format!(
        "A reference to a running [`{ident}`] agent: one ask method per `#[handle]` method, \
         and everything of [`AgentRef`]({}::AgentRef) through `Deref`. Restart-stable.",
        quote!(#root).to_string().replace(' ', "")
    );

    quote! {
        #kind_check

        #[automatically_derived]
        impl #actix::Actor for #ident {
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
        impl #actix::Supervised for #ident {
            fn restarting(&mut self, ctx: &mut Self::Context) {
                #private::restarting(self, ctx)
            }
        }

        #[automatically_derived]
        impl #root::Agent for #ident {
            const KIND: &'static str = #kind;
            #mailbox
            #restart
            #keep_state
            #ask_timeout
            #budget
            type Ref = #ref_ident;
        }

        #lifecycle

        #[doc = #ref_doc]
        #vis struct #ref_ident {
            inner: #root::AgentRef<#ident>,
        }

        #[automatically_derived]
        impl ::core::clone::Clone for #ref_ident {
            fn clone(&self) -> Self {
                Self { inner: ::core::clone::Clone::clone(&self.inner) }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #ref_ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.inner, f)
            }
        }

        #[automatically_derived]
        impl ::core::cmp::PartialEq for #ref_ident {
            fn eq(&self, other: &Self) -> bool {
                self.inner == other.inner
            }
        }

        #[automatically_derived]
        impl ::core::cmp::Eq for #ref_ident {}

        #[automatically_derived]
        impl ::core::ops::Deref for #ref_ident {
            type Target = #root::AgentRef<#ident>;

            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        #[automatically_derived]
        impl ::core::convert::AsRef<#root::AgentRef<#ident>> for #ref_ident {
            fn as_ref(&self) -> &#root::AgentRef<#ident> {
                &self.inner
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#root::AgentRef<#ident>> for #ref_ident {
            fn from(inner: #root::AgentRef<#ident>) -> Self {
                Self { inner }
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#ref_ident> for #root::AgentRef<#ident> {
            fn from(agent: #ref_ident) -> Self {
                agent.inner
            }
        }
    }
}
