//! Accumulates errors so that every mistake in an item is reported at once,
//! each spanned to its own tokens.

use proc_macro2::TokenStream;
use std::fmt::Display;

/// Collected errors; [`Ctxt::check`] turns them into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Option<syn::Error>,
}

impl Ctxt {
    /// Records an error at the span of `tokens`.
    pub(crate) fn error_spanned_by(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub(crate) fn error_at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records a ready-made error (for example from `syn` parsing).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// `Ok` if nothing was recorded.
    pub(crate) fn check(self) -> syn::Result<()> {
        self.errors.map_or(Ok(()), Err)
    }
}

/// On error: the errors plus whatever still lets the rest of the crate (and
/// the IDE) make sense of the item, so one mistake does not cascade.
pub(crate) fn with_fallback(errors: syn::Error, fallback: TokenStream) -> TokenStream {
    let errors = errors.to_compile_error();
    quote::quote! {
        #errors
        #fallback
    }
}
