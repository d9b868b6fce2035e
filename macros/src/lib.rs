//! Procedural macros of Mambo. Use them through the `mambo` crate.
use proc_macro::TokenStream;

/// Declares a route handler.
#[proc_macro_attribute]
pub fn route(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Builds a router.
#[proc_macro]
pub fn router(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

#[doc(hidden)]
#[proc_macro]
pub fn __router_impl(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

#[doc(hidden)]
#[proc_macro]
pub fn __stash_chunk(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `mambo::ApiError`.
#[proc_macro_derive(ApiError, attributes(api, source))]
pub fn derive_api_error(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
