//! The ask methods on `<Agent>Ref`: `counter.add(2).await`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Agent, ir::HandlerFn};

pub(crate) fn expand(handlers: &[HandlerFn], agent: &Agent) -> TokenStream {
    if handlers.is_empty() {
        return TokenStream::new();
    }
    let root = agent.paths.root();
    let agent_ty = &agent.ty;
    let ref_ty = &agent.ref_ty;
    let methods = handlers.iter().map(|handler| {
        let HandlerFn {
            vis,
            docs,
            method,
            message,
            ..
        } = handler;
        let params = handler.fields().map(|(ident, ty)| {
            let ty = agent.resolve(ty);
            quote!(#ident: #ty)
        });
        let names = handler.fields().map(|(ident, _)| ident);
        let marker = handler
            .marker()
            .map(|marker| quote!(#marker: ::core::marker::PhantomData));
        let message_ty = handler.message_ty();
        let how = format!(
            "\n\n*Asks the agent with a [`{message}`] and awaits the reply, within the agent's \
             default deadline or one set with `.timeout(..)`.*"
        );
        quote! {
            #(#docs)*
            #[doc = #how]
            #vis fn #method(&self, #(#params),*) -> #root::Ask<'_, #agent_ty, #message_ty> {
                #root::AgentRef::ask(::core::ops::Deref::deref(self), #message { #(#names,)* #marker })
            }
        }
    });
    let (impl_generics, _, where_clause) = agent.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #ref_ty #where_clause {
            #(#methods)*
        }
    }
}
