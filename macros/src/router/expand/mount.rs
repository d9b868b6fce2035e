//! The code behind `mount:` (see `router::mount` for how the routes travel).
//!
//! In every router: `__mambo_mount`, which builds it from a parent's state,
//! `__mambo_mounted`, which answers one of its routes for a parent (its own
//! middleware around the dispatch groups `handle` uses, without a second
//! deadline or panic guard: the parent's wrap it), and the carrier macro.
//! In a router with mounts: a field per mounted router, built once in `new`
//! by a `__mambo_new_mount_N` function, and for each mounted route a route
//! function that runs the parent's scope middleware and calls into the
//! child.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::dispatch::{GROUP, wrap_middleware};
use crate::router::model::{Middleware, Router};
use crate::router::mount::{self, MountPayload};
use crate::router::parse::RouterDef;

/// Emitted by `router!` beside the struct: `__mambo_mount`, which builds
/// the router for a parent from the parent's state, and, for a router with
/// mounts, the carrier that tells a parent it cannot mount it.
pub fn structure(def: &RouterDef) -> TokenStream {
    let RouterDef { vis, name, .. } = def;
    let (bound, build) = match &def.state {
        Some(state) => (
            quote!(where #state: ::mambo::FromRef<P>),
            quote!(Self::new(<#state as ::mambo::FromRef<P>>::from_ref(parent))),
        ),
        None => (
            quote!(),
            quote!({
                let _ = parent;
                Self::new()
            }),
        ),
    };
    let carrier = if mount::has_mounts(def) {
        mount::carrier(def, &MountPayload::Nested { name: name.clone() })
    } else {
        quote!()
    };
    quote! {
        impl #name {
            /// Builds this router for a router that mounts it, from that
            /// router's state.
            #[doc(hidden)]
            #[allow(dead_code)]
            #vis fn __mambo_mount<P>(parent: &P) -> Self #bound {
                #build
            }
        }

        #carrier
    }
}

/// After the routes are gathered: what a parent needs from this router, or
/// what this router needs to build its mounts.
pub fn emit(router: &Router) -> TokenStream {
    let helpers = helpers(router);
    if mount::has_mounts(&router.def) {
        return helpers;
    }
    let name = &router.def.name;
    if router.has_layers() {
        let carrier = mount::carrier(&router.def, &MountPayload::Layered { name: name.clone() });
        return quote!(#helpers #carrier);
    }
    let mounted = mounted_fn(router);
    let mounted_fallback = super::fallback::mounted_fn(router);
    let carrier = mount::carrier(&router.def, &MountPayload::of(router));
    quote! {
        impl #name {
            #mounted
            #mounted_fallback
        }

        #carrier
    }
}

/// After errors: the mounts' constructors, and a carrier that keeps a parent
/// quiet about this router (its errors are reported already).
pub fn fallback(router: &Router) -> TokenStream {
    let helpers = helpers(router);
    if mount::has_mounts(&router.def) {
        return helpers;
    }
    let name = router.def.name.clone();
    let carrier = mount::carrier(&router.def, &MountPayload::Invalid { name });
    quote! {
        #helpers
        #carrier
    }
}

/// `__mambo_new_mount_N(state) -> Child`: builds a mounted router from this
/// router's state, spanned at the `mount:` path so that a child state that
/// cannot be taken from this one (`FromRef`) is reported there.
fn helpers(router: &Router) -> TokenStream {
    if router.mounts.is_empty() {
        return quote!();
    }
    let state = &router.state;
    let helpers = router.mounts.iter().enumerate().map(|(position, mount)| {
        let name = mount::helper_name(position);
        let path = &mount.path;
        let span = Span::call_site().located_at(path.span());
        let body = if mount.is_router {
            quote_spanned!(span=> <#path>::__mambo_mount::<#state>(state))
        } else {
            quote!({
                let _ = state;
                ::core::unreachable!("`router!` reported this mount as an error")
            })
        };
        let doc =
            format!("Builds the router mounted as `{}`.", crate::router::tree::path_text(path));
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            fn #name(state: &#state) -> #path {
                #body
            }
        }
    });
    let name = &router.def.name;
    quote! {
        impl #name {
            #(#helpers)*
        }
    }
}

/// `__mambo_mounted`: route `route` of this router, answered for a parent
/// whose context (and request) it borrows.
fn mounted_fn(router: &Router) -> TokenStream {
    let vis = &router.def.vis;
    let state_field = super::dispatch::field(router, &format_ident!("state"));
    let body = if router.routes.is_empty() {
        quote!({
            let _ = (cx, body);
            ::core::unreachable!("a router without routes was asked for one")
        })
    } else {
        let arms = (0..router.routes.len().div_ceil(GROUP)).map(|group| {
            let function = format_ident!("__mambo_group_{}", group);
            let group = Literal::usize_unsuffixed(group);
            quote!(#group => self.#function(route, cx, body).await,)
        });
        let group_size = Literal::usize_unsuffixed(GROUP);
        let inner = quote! {{
            match route / #group_size {
                #(#arms)*
                _ => ::core::unreachable!("a parent asked for a route this router does not have"),
            }
            cx.__response().take()
        }};
        let global: Vec<&Middleware> = router.middleware[..router.global].iter().collect();
        wrap_middleware(router, &global, inner)
    };
    quote! {
        /// Answers route `route` of this router for a router that mounts it:
        /// this router's middleware, then the route's scope middleware,
        /// extractors and handler. `skip` is the number of path parameters
        /// of the prefix it is mounted under.
        #[doc(hidden)]
        #[allow(dead_code)]
        #vis async fn __mambo_mounted<P>(
            &self,
            route: usize,
            parent: &mut ::mambo::RequestContext<'_, P>,
            skip: usize,
            body: ::mambo::Body,
        ) -> ::mambo::Response {
            let mut mounted = ::mambo::__private::Mounted::new(
                parent,
                &#state_field,
                ::core::option::Option::Some(&Self::ROUTES[route]),
                skip,
            );
            let cx = mounted.context();
            #body
        }
    }
}
