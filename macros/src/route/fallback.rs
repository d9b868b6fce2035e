//! `#[fallback]`: a handler for the requests no route matches, named in
//! `router!` by `fallback: handler`.
//!
//! The handler is checked like a route handler and left as written; its
//! carrier appends `{ fallback { payload } }`: a route payload without
//! methods or pattern, so that `router!` extracts its arguments (all of
//! them extractors) as it does a route's, and can tell a fallback listed
//! under `routes:` (or a route under `fallback:`) from the right thing.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use super::{carrier, handler};
use crate::payload::Payload;

/// Expands `#[fallback(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    if !attr.is_empty() {
        errors.push(syn::Error::new(
            attr.span(),
            "`#[fallback]` takes no arguments: a fallback answers the misses under the scope that names it, with the server's body limit and deadline",
        ));
    }
    let function = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(function) => function,
        // As `#[route]` does: leave the tokens to rustc, and keep `router!`
        // quiet about this fallback.
        Err(err) => {
            let carrier = carrier::item_name(&item).map(|(name, vis)| {
                let payload = carrier::invalid_payload(&name);
                emit(&name, &vis, &payload)
            });
            let err = match carrier {
                Some(_) => quote!(),
                None => syn::Error::new(
                    err.span(),
                    "`#[fallback]` goes on a handler function: `#[fallback] async fn not_found(uri: Uri) -> impl IntoResponse`",
                )
                .into_compile_error(),
            };
            return quote!(#err #item #carrier);
        }
    };
    let handler = handler::check(&function, &mut errors);
    let payload = Payload {
        valid: errors.is_empty(),
        name: handler.name.clone(),
        is_async: handler.is_async,
        methods: Vec::new(),
        path: syn::LitStr::new("", handler.name.span()),
        body_limit: None,
        timeout_ms: None,
        args: handler.args,
        output: handler.output,
    };
    let carrier = emit(&function.sig.ident, &function.vis, &payload);
    let errors = errors.into_iter().map(syn::Error::into_compile_error);
    quote! {
        #(#errors)*
        #function
        #carrier
    }
}

fn emit(name: &syn::Ident, vis: &syn::Visibility, payload: &Payload) -> TokenStream {
    let key = format!("{name} fallback");
    carrier::emit_appending("__mambo_route", name, vis, &key, &quote!({ fallback #payload }))
}
