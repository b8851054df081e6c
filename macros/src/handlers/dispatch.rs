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
    let this = format_ident!("this", span = Span::mixed_site());
    let ctx = format_ident!("ctx", span = Span::mixed_site());

    let field_names: Vec<_> = handler.fields().map(|(ident, _)| ident).collect();
    let unpack = if field_names.is_empty() {
        quote!(let _ = #msg;)
    } else {
        quote!(let #message { #(#field_names),* } = #msg;)
    };
    let uses_ctx = handler.params.iter().any(|p| matches!(p, Param::Context));
    let args = handler.params.iter().map(|param| match param {
        Param::Field { ident, .. } => quote!(#ident),
        Param::Context => quote!(#ctx),
    });
    let ctx_param = if uses_ctx { quote!(#ctx) } else { quote!(_) };
    let call = quote!(|#this: &mut #agent_ty, #ctx_param: &mut #root::AgentContext<#agent_ty>| #this.#method(#(#args),*));
    let reply = agent.resolve(&handler.reply.ty);
    let concurrent = handler.concurrent;
    let (result_ty, body) = match handler.shape {
        Shape::Sync => (
            quote!(::core::result::Result<#reply, #root::Failure>),
            quote!(#private::guard::<#agent_ty, #message, _>(self, #ctx, #call)),
        ),
        Shape::Future => (
            quote!(#private::AsyncReply<#agent_ty, #reply>),
            quote!(#private::guard_future::<#agent_ty, #message, _>(self, #ctx, #concurrent, #call)),
        ),
        Shape::ActorFuture => (
            quote!(#private::AsyncReply<#agent_ty, #reply>),
            quote!(#private::guard_actor_future::<#agent_ty, #message, _>(self, #ctx, #concurrent, #call)),
        ),
    };
    quote! {
        #[automatically_derived]
        impl #actix::Handler<#message> for #agent_ty {
            type Result = #result_ty;

            fn handle(&mut self, #msg: #message, #ctx: &mut #root::AgentContext<Self>) -> Self::Result {
                #unpack
                #body
            }
        }
    }
}
