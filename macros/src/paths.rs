//! Paths the generated code uses: always absolute, through the facade's
//! hidden `__private` module, and redirectable with `crate = path`.

use proc_macro2::TokenStream;
use quote::quote;

/// The path of the `agentix` facade as the generated code should name it.
#[derive(Clone)]
pub(crate) struct Paths {
    root: TokenStream,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            root: quote!(::agentix),
        }
    }
}

impl Paths {
    pub(crate) fn with_root(path: &syn::Path) -> Self {
        Self {
            root: quote!(#path),
        }
    }

    /// `::agentix`
    pub(crate) fn root(&self) -> &TokenStream {
        &self.root
    }

    /// `::agentix::__private`
    pub(crate) fn private(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private)
    }

    /// `::agentix::__private::actix`
    pub(crate) fn actix(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private::actix)
    }
}
