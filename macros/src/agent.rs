//! `#[derive(Agent)]`: parse the attributes, check the item, expand.

use proc_macro2::TokenStream;
use syn::{Data, DeriveInput};

use crate::ctxt::{Ctxt, with_fallback};

mod attr;
mod expand;
mod reference;

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = attr::parse(&input.attrs, &mut cx);
    // These make the expansion itself impossible; attribute mistakes do not.
    let mut fatal = Ctxt::default();
    crate::generics::reject_lifetimes(&input.generics, "an agent", &mut fatal);
    if let Data::Union(data) = &input.data {
        fatal.error_spanned_by(
            data.union_token,
            "an agent must be a struct or an enum, not a union",
        );
    }
    if let Err(errors) = fatal.check() {
        return with_fallback(errors, TokenStream::new());
    }
    let expanded = expand::expand(&input, &attrs);
    match cx.check() {
        Ok(()) => expanded,
        // Expand anyway with the valid keys, so uses of the agent elsewhere
        // do not pile up errors behind the one that matters.
        Err(errors) => with_fallback(errors, expanded),
    }
}
