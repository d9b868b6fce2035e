//! The hidden `macro_rules!` that carries one route to `router!`.
//!
//! `router!` calls the carrier through the handler's own path
//! (`users::get_user!`, which the `use` below makes possible), passing the
//! list of macros still to call and the payloads gathered so far; the
//! carrier appends its payload and calls the next one.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{ItemFn, Visibility};

use crate::payload::Payload;

/// A short, stable hash, so that two handlers of the same name in nested
/// modules get carriers of different names (a macro-expanded `macro_rules!`
/// may not shadow another in textual scope).
pub(crate) fn fingerprint(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

/// Emits the carrier and its re-export under the handler's name.
pub fn emit(function: &ItemFn, payload: &Payload) -> TokenStream {
    emit_named(&function.sig.ident, &function.vis, payload)
}

/// A carrier for an item that does not parse as a function but has a
/// `fn name`: an invalid payload, so `router!` adds no error of its own.
pub fn emit_invalid(item: &TokenStream) -> Option<TokenStream> {
    let (name, vis) = item_name(item)?;
    Some(emit_named(&name, &vis, &invalid_payload(&name)))
}

/// The name and visibility of an item that does not parse as a function
/// but has a `fn name`.
pub(crate) fn item_name(item: &TokenStream) -> Option<(syn::Ident, Visibility)> {
    let mut tokens = item.clone().into_iter();
    let name = loop {
        match tokens.next()? {
            TokenTree::Ident(ident) if ident == "fn" => match tokens.next()? {
                TokenTree::Ident(name) => break name,
                _ => return None,
            },
            _ => continue,
        }
    };
    let vis: Visibility = match item.clone().into_iter().next()? {
        TokenTree::Ident(ident) if ident == "pub" => syn::parse_quote!(pub(crate)),
        _ => Visibility::Inherited,
    };
    Some((name, vis))
}

/// The payload of a route `#[route]` already reported errors for.
pub fn invalid_payload(name: &syn::Ident) -> Payload {
    Payload {
        valid: false,
        name: name.clone(),
        is_async: false,
        methods: Vec::new(),
        path: syn::LitStr::new("", name.span()),
        body_limit: None,
        timeout_ms: None,
        args: Vec::new(),
        output: syn::ReturnType::Default,
    }
}

fn emit_named(name: &syn::Ident, vis: &Visibility, payload: &Payload) -> TokenStream {
    let methods: Vec<String> = payload.methods.iter().map(ToString::to_string).collect();
    let key = format!("{} {} {}", name, methods.join("|"), payload.path.value());
    emit_appending("__mambo_route", name, vis, &key, &quote!(#payload))
}

/// A carrier `{prefix}_{name}_{hash of key}` (`key` tells apart carriers
/// of one name), re-exported as `name`, that appends `appended`.
pub(crate) fn emit_appending(
    prefix: &str,
    name: &syn::Ident,
    vis: &Visibility,
    key: &str,
    appended: &TokenStream,
) -> TokenStream {
    let carrier = format_ident!("{}_{}_{:08x}", prefix, name, fingerprint(key));
    // A `macro_rules!` can be re-exported at most crate-wide.
    let vis = match vis {
        Visibility::Public(_) => quote!(pub(crate)),
        other => quote!(#other),
    };
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #carrier {
            ( [ [ $($next:tt)* ] $( [ $($rest:tt)* ] )* ] [ $($acc:tt)* ] ) => {
                $($next)* ! { [ $( [ $($rest)* ] )* ] [ $($acc)* #appended ] }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #carrier as #name;
    }
}
