//! The typed `<Name>Ref` that `#[derive(Agent)]` generates unless
//! `reference = Type` names one: a newtype over `AgentRef<Name>` that
//! `#[handlers]` adds its ask methods to.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{DeriveInput, Generics};

use crate::paths::Paths;

/// The struct and its impls. `generics` are the agent's, with the bounds
/// every generated impl carries.
pub(crate) fn expand(input: &DeriveInput, generics: &Generics, paths: &Paths) -> TokenStream {
    let root = paths.root();
    let ident = &input.ident;
    let vis = &input.vis;
    let ref_ident = format_ident!("{}Ref", ident);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let agent = quote!(#ident #ty_generics);
    let this = quote!(#ref_ident #ty_generics);
    let agent_ref = quote!(#root::AgentRef<#agent>);
    let ref_doc = format!(
        "A reference to a running [`{ident}`] agent: one ask method per `#[handle]` method, \
         and everything of [`AgentRef`]({}::AgentRef) through `Deref`. Restart-stable.",
        root.to_token_stream().to_string().replace(' ', "")
    );

    quote! {
        #[doc = #ref_doc]
        #vis struct #ref_ident #generics #where_clause {
            inner: #agent_ref,
        }

        #[automatically_derived]
        impl #impl_generics ::core::clone::Clone for #this #where_clause {
            fn clone(&self) -> Self {
                Self { inner: ::core::clone::Clone::clone(&self.inner) }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #this #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.inner, f)
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #this #where_clause {
            fn eq(&self, other: &Self) -> bool {
                self.inner == other.inner
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #this #where_clause {}

        #[automatically_derived]
        impl #impl_generics ::core::ops::Deref for #this #where_clause {
            type Target = #agent_ref;

            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::convert::AsRef<#agent_ref> for #this #where_clause {
            fn as_ref(&self) -> &#agent_ref {
                &self.inner
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::convert::From<#agent_ref> for #this #where_clause {
            fn from(inner: #agent_ref) -> Self {
                Self { inner }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::convert::From<#this> for #agent_ref #where_clause {
            fn from(agent: #this) -> Self {
                agent.inner
            }
        }
    }
}
