//! Procedural macros of Mambo: `#[route]`, `router!` and
//! `#[derive(ApiError)]`. Use them through the `mambo` crate, which
//! documents them.
//!
//! Each macro is staged: parse the tokens, build a model, check it (one
//! function per rule), then generate code from the model alone.

mod api_error;
mod method;
mod options;
mod pattern;
mod payload;
mod route;
mod router;

use proc_macro::TokenStream;

/// Declares a route handler: `#[route(GET "/users/:id")]`.
///
/// See the `mambo` crate for the full syntax.
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(attr.into(), item.into()).into()
}

/// Declares a fallback handler: `#[fallback]`, named in `router!` by
/// `fallback: handler`.
///
/// See the `mambo` crate for the full syntax.
#[proc_macro_attribute]
pub fn fallback(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::fallback::expand(attr.into(), item.into()).into()
}

/// Builds a router from `#[route]` handlers.
///
/// See the `mambo` crate for the full syntax.
#[proc_macro]
pub fn router(input: TokenStream) -> TokenStream {
    router::expand(input.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __router_impl(input: TokenStream) -> TokenStream {
    router::finish(input.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __stash_chunk(input: TokenStream) -> TokenStream {
    router::stash(input.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __not_a_router(input: TokenStream) -> TokenStream {
    router::not_a_router(input.into()).into()
}

/// Derives `mambo::ApiError`.
#[proc_macro_derive(ApiError, attributes(api, source, from))]
pub fn derive_api_error(input: TokenStream) -> TokenStream {
    api_error::derive(input.into()).into()
}
