//! The actix `Handler` impl of a handler: unpack the message, call the
//! method under the runtime's panic guard, reply.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::{
    Agent,
    ir::{HandlerFn, Param, Shape},
};

pub(crate) fn expand(handler: &HandlerFn, agent: &Agent) -> TokenStream {
    let root = agent.paths.root();
    let private = agent.paths.private();
    let actix = agent.paths.actix();
    let agent_ty = &agent.ty;
    let HandlerFn {
        message, method, ..
    } = handler;
    // Mixed-site names cannot collide with the user's parameter names.
    let msg = format_ident!("msg", span = Span::mixed_site());
    let ctx = format_ident!("ctx", span = Span::mixed_site());

    let field_names: Vec<_> = handler.fields().map(|(ident, _)| ident).collect();
    let unpack = if field_names.is_empty() {
        quote!(let _ = #msg;)
    } else {
        let rest = handler.marker.then(|| quote!(..));
        quote!(let #message { #(#field_names,)* #rest } = #msg;)
    };
    let message_ty = handler.message_ty();
    let (impl_generics, _, where_clause) = agent.generics.split_for_impl();
    let args = handler.params.iter().map(|param| match param {
        Param::Field { ident, .. } => quote!(#ident),
        Param::Context => quote!(#ctx),
    });
    // A zero-argument closure: see `agentix::__private::catch`.
    // The fault plan's verdict is taken before the guard (it needs the
    // context the closure borrows) and fired inside it (see
    // `agentix::__private::inject`).
    let armed = format_ident!("armed", span = Span::mixed_site());
    let call = quote!(#private::catch(|| {
        #private::inject(#armed);
        self.#method(#(#args),*)
    }));
    let reply = agent.resolve(&handler.reply.ty);
    let concurrent = handler.concurrent;
    let (result_ty, body) = match handler.shape {
        Shape::Sync => (
            quote!(::core::result::Result<#reply, #root::Failure>),
            quote! {
                match #call {
                    ::core::result::Result::Ok(reply) => ::core::result::Result::Ok(reply),
                    ::core::result::Result::Err(panic) => ::core::result::Result::Err(
                        #private::panicked::<#agent_ty, #message_ty>(#ctx, panic),
                    ),
                }
            },
        ),
        Shape::Future | Shape::ActorFuture => {
            let serve = if handler.shape == Shape::Future {
                quote!(serve_future)
            } else {
                quote!(serve_actor_future)
            };
            (
                quote!(#private::AsyncReply<#agent_ty, #reply>),
                quote! {
                    match #call {
                        ::core::result::Result::Ok(fut) => {
                            #private::#serve::<#agent_ty, #message_ty, _>(fut, #concurrent)
                        }
                        ::core::result::Result::Err(panic) => {
                            #private::async_panicked::<#agent_ty, #message_ty, #reply>(#ctx, panic)
                        }
                    }
                },
            )
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics #actix::Handler<#message_ty> for #agent_ty #where_clause {
            type Result = #result_ty;

            // A thin guard around the method: inlined into the envelope's
            // handling, it saves a call per message.
            #[inline]
            fn handle(&mut self, #msg: #message_ty, #ctx: &mut #root::AgentContext<Self>) -> Self::Result {
                let #armed = #private::injected_panic(#ctx);
                #unpack
                #body
            }
        }
    }
}
