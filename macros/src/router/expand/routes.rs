//! `Api::ROUTES`: the route table as data.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::router::model::Router;
use crate::router::tree::path_text;

/// Emits the `ROUTES` constant (an item of `impl Api`).
pub fn emit(router: &Router) -> TokenStream {
    let rows = router.routes.iter().map(|route| {
        let index = Literal::usize_unsuffixed(route.index);
        let methods = &route.methods;
        let pattern = route.pattern.to_text();
        let handler = path_text(&route.handler);
        let params = route.pattern.param_names();
        let body_limit = match route.payload.body_limit {
            Some(limit) => {
                let limit = Literal::u64_unsuffixed(limit);
                quote!(Some(#limit))
            }
            None => quote!(None),
        };
        let timeout = match route.payload.timeout_ms {
            Some(ms) => {
                let ms = Literal::u64_unsuffixed(ms);
                quote!(Some(::core::time::Duration::from_millis(#ms)))
            }
            None => quote!(None),
        };
        quote! {
            ::mambo::RouteInfo {
                index: #index,
                methods: &[#(#methods),*],
                pattern: #pattern,
                handler: #handler,
                params: &[#(#params),*],
                body_limit: #body_limit,
                timeout: #timeout,
            },
        }
    });
    quote! {
        /// Every route of this router, in the order `router!` lists them.
        pub const ROUTES: &'static [::mambo::RouteInfo] = &[#(#rows)*];
    }
}
