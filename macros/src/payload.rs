//! The route data `#[route]` hands to `router!`.
//!
//! `#[route]` writes a [`Payload`] into the hidden `macro_rules!` it emits
//! beside the handler; when `router!` calls that macro, the payload is
//! appended to the list it passes on, and `__router_impl` parses it back.
//! Both directions live here so the format has one definition. The tokens
//! keep the spans of the user's attribute and signature, so errors found by
//! `router!` point into the handler's own source.
//!
//! Format: `{ valid name async|sync [METHOD ..] "pattern" body_limit timeout
//! ((arg: Type) ..) (-> Type) }`, where an argument written as a pattern
//! (`Json(x): Json<T>`) has the name `_`, and limits are integers or `_`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{
    Ident, LitBool, LitInt, LitStr, ReturnType, Token, Type, braced, bracketed, parenthesized,
};

/// One handler argument.
#[derive(Clone)]
pub struct Arg {
    /// The argument's name, if it is a plain identifier pattern.
    pub name: Option<Ident>,
    /// Its type.
    pub ty: Type,
}

/// Everything `router!` needs to know about one `#[route]` handler.
#[derive(Clone)]
pub struct Payload {
    /// Whether `#[route]` accepted the route; `false` when it already
    /// reported errors, so `router!` stays quiet about it.
    pub valid: bool,
    /// The handler function's name.
    pub name: Ident,
    /// `async fn` or plain `fn`.
    pub is_async: bool,
    /// Methods, as written.
    pub methods: Vec<Ident>,
    /// The pattern literal, as written.
    pub path: LitStr,
    /// Body limit in bytes.
    pub body_limit: Option<u64>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Arguments in order.
    pub args: Vec<Arg>,
    /// The return type, for error spans.
    pub output: ReturnType,
}

fn opt_int(value: Option<u64>) -> TokenStream {
    match value {
        Some(n) => LitInt::new(&n.to_string(), proc_macro2::Span::call_site()).to_token_stream(),
        None => quote!(_),
    }
}

impl ToTokens for Payload {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let Payload { valid, name, is_async, methods, path, body_limit, timeout_ms, args, output } =
            self;
        let valid = LitBool::new(*valid, name.span());
        let asyncness = if *is_async { quote!(async) } else { quote!(sync) };
        let body_limit = opt_int(*body_limit);
        let timeout_ms = opt_int(*timeout_ms);
        let args = args.iter().map(|Arg { name, ty }| match name {
            Some(name) => quote!((#name : #ty)),
            None => quote!((_ : #ty)),
        });
        tokens.extend(quote! {
            { #valid #name #asyncness [#(#methods)*] #path #body_limit #timeout_ms (#(#args)*) (#output) }
        });
    }
}

fn parse_opt_int(input: ParseStream<'_>) -> syn::Result<Option<u64>> {
    if input.peek(Token![_]) {
        input.parse::<Token![_]>()?;
        Ok(None)
    } else {
        input.parse::<LitInt>()?.base10_parse().map(Some)
    }
}

impl Parse for Payload {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let body;
        braced!(body in input);
        let valid = body.parse::<LitBool>()?.value;
        let name = body.parse()?;
        let is_async = if body.peek(Token![async]) {
            body.parse::<Token![async]>()?;
            true
        } else {
            let word: Ident = body.parse()?;
            if word != "sync" {
                return Err(syn::Error::new(word.span(), "malformed route payload"));
            }
            false
        };
        let methods_group;
        bracketed!(methods_group in body);
        let mut methods = Vec::new();
        while !methods_group.is_empty() {
            methods.push(methods_group.parse()?);
        }
        let path = body.parse()?;
        let body_limit = parse_opt_int(&body)?;
        let timeout_ms = parse_opt_int(&body)?;
        let args_group;
        parenthesized!(args_group in body);
        let mut args = Vec::new();
        while !args_group.is_empty() {
            let arg;
            parenthesized!(arg in args_group);
            let name = if arg.peek(Token![_]) {
                arg.parse::<Token![_]>()?;
                None
            } else {
                Some(arg.parse()?)
            };
            arg.parse::<Token![:]>()?;
            args.push(Arg { name, ty: arg.parse()? });
        }
        let output_group;
        parenthesized!(output_group in body);
        let output = output_group.parse()?;
        Ok(Payload { valid, name, is_async, methods, path, body_limit, timeout_ms, args, output })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let payload = Payload {
            valid: true,
            name: syn::parse_quote!(get_user),
            is_async: true,
            methods: vec![syn::parse_quote!(GET), syn::parse_quote!(PURGE)],
            path: syn::parse_quote!("/users/:id"),
            body_limit: Some(65_536),
            timeout_ms: None,
            args: vec![
                Arg { name: Some(syn::parse_quote!(id)), ty: syn::parse_quote!(u64) },
                Arg { name: None, ty: syn::parse_quote!(Json<New<'static>>) },
            ],
            output: syn::parse_quote!(-> Result<Json<User>, AppError>),
        };
        let parsed: Payload = syn::parse2(payload.to_token_stream()).unwrap();
        assert_eq!(parsed.to_token_stream().to_string(), payload.to_token_stream().to_string());
        assert_eq!(parsed.body_limit, Some(65_536));
        assert_eq!(parsed.timeout_ms, None);
        assert!(parsed.args[1].name.is_none());
        assert!(parsed.is_async);
    }
}
