//! `#[route(GET "/users/:id")]`: parse the attribute and the handler, check
//! what can be checked on one route alone, and emit the handler unchanged
//! beside a hidden macro that carries the route to `router!`.

mod attr;
pub(crate) mod carrier;
pub mod fallback;
mod handler;

use proc_macro2::TokenStream;

/// Expands `#[route(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let attr = match syn::parse2::<attr::RouteAttr>(attr) {
        Ok(attr) => Some(attr),
        Err(err) => {
            errors.push(err);
            None
        }
    };
    let function = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(function) => function,
        // Not a function, or one rustc will report a syntax error in: leave
        // the tokens to rustc, and if a name can be found, emit a carrier that
        // tells `router!` to stay quiet about this route.
        Err(err) => {
            let carrier = carrier::emit_invalid(&item);
            let err = match carrier {
                Some(_) => quote::quote!(),
                None => syn::Error::new(
                    err.span(),
                    "`#[route]` goes on a handler function: `#[route(GET \"/path\")] async fn handler() -> impl IntoResponse`",
                )
                .into_compile_error(),
            };
            return quote::quote!(#err #item #carrier);
        }
    };
    let handler = handler::check(&function, &mut errors);
    let payload = match attr {
        Some(attr) => attr.into_payload(&handler, errors.is_empty()),
        None => carrier::invalid_payload(&function.sig.ident),
    };
    let carrier = carrier::emit(&function, &payload);
    let errors = errors.into_iter().map(syn::Error::into_compile_error);
    quote::quote! {
        #(#errors)*
        #function
        #carrier
    }
}
