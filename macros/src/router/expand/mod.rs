//! Code generation: reads only the model and the tree.

mod dispatch;
mod fallback;
mod lookup;
mod metrics;
pub mod mount;
mod routes;
mod structure;

use proc_macro2::TokenStream;
use quote::quote;

use super::model::Router;
use super::tree::Node;

pub use structure::emit as structure;

/// Emits `ROUTES`, `lookup`, the route functions and the `Router` impl.
pub fn router(router: &Router, tree: &Node) -> TokenStream {
    let name = &router.def.name;
    let max_params =
        router.routes.iter().map(|r| r.pattern.param_names().count()).max().unwrap_or(0);
    let routes = routes::emit(router);
    let lookup = lookup::emit(router, tree, max_params);
    let (route_fns, router_impl) = dispatch::emit(router);
    let mount = mount::emit(router);
    let fallbacks = fallback::emit(router);
    let metrics = metrics::emit(router);
    quote! {
        impl #name {
            #routes
            #lookup
            #route_fns
            #fallbacks
            #metrics
        }

        #router_impl
        #mount
    }
}

/// What to emit after errors: enough for the rest of the crate to compile
/// (`ROUTES`, `lookup`, a `Router` impl), so one bad route does not turn into
/// a wall of unrelated errors.
pub fn fallback(router: &Router) -> TokenStream {
    let name = &router.def.name;
    let resume_stubs =
        router.middleware.iter().enumerate().filter(|(_, m)| m.is_layer()).map(|(index, _)| {
            let resume = dispatch::resume_name(index);
            quote! {
                #[doc(hidden)]
                async fn #resume(&self, request: ::mambo::Request) -> ::mambo::Response {
                    let _ = request;
                    ::mambo::IntoResponse::into_response(::mambo::Error::not_found())
                }
            }
        });
    let mount = mount::fallback(router);
    quote! {
        #mount

        impl #name {
            #(#resume_stubs)*

            /// Every route of this router (empty: the router has errors).
            pub const ROUTES: &'static [::mambo::RouteInfo] = &[];

            /// Finds the route for `method` and `path` (the router has errors).
            pub fn lookup<'p>(&self, method: &::mambo::Method, path: &'p str) -> ::mambo::Lookup<'p, 0> {
                let _ = (method, path);
                ::mambo::Lookup::NotFound
            }
        }

        impl ::mambo::Router for #name {
            fn routes(&self) -> &'static [::mambo::RouteInfo] {
                Self::ROUTES
            }

            fn handle(
                &self,
                request: ::mambo::Request,
                conn: ::mambo::ConnInfo,
            ) -> impl ::core::future::Future<Output = ::mambo::Response> + Send + '_ {
                let _ = (request, conn);
                async { ::mambo::IntoResponse::into_response(::mambo::Error::not_found()) }
            }
        }
    }
}
