//! The attribute's arguments: `GET | POST "/path", option = "value", ..`.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use super::handler::Handler;
use crate::options::{self, Options};
use crate::payload::Payload;
use crate::{method, pattern};

/// A parsed and checked `#[route(..)]` attribute.
pub struct RouteAttr {
    methods: Vec<Ident>,
    path: LitStr,
    options: Options,
    /// Whether the methods, path and options were all valid.
    valid: bool,
}

impl Parse for RouteAttr {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut errors: Vec<syn::Error> = Vec::new();
        let mut methods = Vec::new();
        if input.peek(LitStr) {
            return Err(input
                .error("a route needs a method before its path: write `#[route(GET \"/path\")]`"));
        }
        loop {
            let ident: Ident = input.parse().map_err(|err| {
                syn::Error::new(
                    err.span(),
                    "expected an HTTP method such as `GET`: write `#[route(GET \"/path\")]`",
                )
            })?;
            match method::check(&ident) {
                Ok(()) if methods.contains(&ident) => errors.push(syn::Error::new(
                    ident.span(),
                    format!("method `{ident}` is listed twice"),
                )),
                Ok(_) => {}
                Err(err) => errors.push(err),
            }
            methods.push(ident);
            if input.peek(Token![|]) {
                input.parse::<Token![|]>()?;
            } else {
                break;
            }
        }
        let path: LitStr = input.parse().map_err(|err| {
            syn::Error::new(err.span(), "expected the route's path as a string: `#[route(GET \"/users/:id\")]`; separate several methods with `|`")
        })?;
        if let Err(err) = pattern::parse(&path.value()) {
            errors.push(syn::Error::new(pattern::error_span(&path), err.message));
        }
        let mut options = Options::default();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>().map_err(|err| {
                syn::Error::new(
                    err.span(),
                    format!("expected `=` after `{name}`: write `{name} = \"..\"`"),
                )
            })?;
            let value: LitStr = input.parse().map_err(|err| {
                syn::Error::new(
                    err.span(),
                    format!("expected a string after `{name} =`, such as `{name} = \"..\"`"),
                )
            })?;
            if let Err(err) = options::apply(&mut options, &name, &value) {
                errors.push(err);
            }
        }
        let valid = errors.is_empty();
        match errors.into_iter().reduce(|mut all, err| {
            all.combine(err);
            all
        }) {
            Some(err) => Err(err),
            None => Ok(RouteAttr { methods, path, options, valid }),
        }
    }
}

impl RouteAttr {
    /// The payload for `router!`.
    pub fn into_payload(self, handler: &Handler, handler_valid: bool) -> Payload {
        Payload {
            valid: self.valid && handler_valid,
            name: handler.name.clone(),
            is_async: handler.is_async,
            methods: self.methods,
            path: self.path,
            body_limit: self.options.body_limit,
            timeout_ms: self.options.timeout_ms,
            args: handler.args.clone(),
            output: handler.output.clone(),
        }
    }
}
