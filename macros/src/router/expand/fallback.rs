//! The code behind `fallback:` (see `router::fallback`).
//!
//! A router without fallbacks answers its misses as before, with nothing
//! more in its dispatcher. A router with fallbacks gets, in its `match` on
//! the lookup's answer, a test of the miss's path against the fallbacks'
//! prefixes (innermost first), and a call of the one that matches under the
//! same deadline and panic guard as a route; the fallbacks themselves are
//! route functions without parameters (scope middleware, extractors,
//! handler), or, for a mounted router's, a call into that router.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::dispatch::{field, handler_fn, route_item, wrap_middleware};
use crate::pattern::Pattern;
use crate::router::fallback::{self, Fallback, Kind};
use crate::router::model::{Middleware, Route, Router};
use crate::router::tree::path_text;

/// The answer to a miss in `handle` (`miss` is its `Miss`), put into the
/// context's response slot.
pub fn miss(router: &Router) -> TokenStream {
    let plain = quote!({
        let response = ::mambo::__private::miss(miss, cx.method(), cx.uri());
        cx.__response().put(response);
    });
    if router.fallbacks.is_empty() {
        return plain;
    }
    quote! {
        match Self::__mambo_fallback_for(miss, cx.path()) {
            ::core::option::Option::Some(fallback) => {
                let timeout = cx.timeout();
                let guarded = ::mambo::__private::guard(timeout, async {
                    let response = self.__mambo_fallbacks(fallback, &mut *cx, body).await;
                    cx.__response().put(response);
                })
                .await;
                cx.__response().settle(&Self::__MAMBO_FALLBACKS[fallback], guarded);
            }
            ::core::option::Option::None => #plain,
        }
    }
}

/// Items of `impl Api`: the fallbacks' descriptions (for the guard's log),
/// the prefix test, the dispatch over the fallbacks and their functions.
pub fn emit(router: &Router) -> TokenStream {
    if router.fallbacks.is_empty() {
        return quote!();
    }
    let state = &router.state;
    let infos = router.fallbacks.iter().map(|fallback| {
        let index = Literal::usize_unsuffixed(fallback.index);
        let prefix = prefix_text(&fallback.prefix);
        let handler = path_text(&fallback.handler);
        quote! {
            ::mambo::RouteInfo {
                index: #index,
                methods: &[],
                pattern: #prefix,
                handler: #handler,
                params: &[],
                body_limit: ::core::option::Option::None,
                timeout: ::core::option::Option::None,
            },
        }
    });
    let order = fallback::order(router);
    let tried = order
        .iter()
        .map(|&i| format!("- {}", router.fallbacks[i].summary()))
        .collect::<Vec<_>>()
        .join("\n");
    let for_doc = format!(
        "The fallback that answers a miss at `path`: the innermost whose prefix the path starts with. Only a 404 has one: a 405 and a trailing-slash redirect are answered as they are.\n\nTried in this order:\n\n{tried}"
    );
    let tests = order.iter().map(|&i| {
        let fallback = &router.fallbacks[i];
        let index = Literal::usize_unsuffixed(fallback.index);
        if fallback.prefix.segments.is_empty() {
            return quote!(return ::core::option::Option::Some(#index););
        }
        let segments = fallback::prefix_segments(&fallback.prefix);
        quote! {
            if ::mambo::__private::under_prefix(path, &[#(#segments),*]) {
                return ::core::option::Option::Some(#index);
            }
        }
    });
    let arms = router.fallbacks.iter().map(|fallback| {
        let index = Literal::usize_unsuffixed(fallback.index);
        let function = fallback_fn_name(fallback);
        let doc = fallback.summary();
        quote! {
            #[doc = #doc]
            #index => self.#function(cx, body).await,
        }
    });
    let functions = router.fallbacks.iter().map(|fallback| fallback_fn(router, fallback));
    quote! {
        /// Every fallback of this router, described for the deadline and panic
        /// guard's log (`pattern` is the prefix it answers under).
        #[doc(hidden)]
        const __MAMBO_FALLBACKS: &'static [::mambo::RouteInfo] = &[#(#infos)*];

        #[doc = #for_doc]
        #[doc(hidden)]
        #[allow(unreachable_code)]
        fn __mambo_fallback_for(
            miss: ::mambo::__private::Miss,
            path: &str,
        ) -> ::core::option::Option<usize> {
            if miss != ::mambo::__private::Miss::NotFound {
                return ::core::option::Option::None;
            }
            #(#tests)*
            ::core::option::Option::None
        }

        /// Runs fallback `fallback`.
        #[doc(hidden)]
        #[allow(unused_doc_comments)]
        async fn __mambo_fallbacks(
            &self,
            fallback: usize,
            cx: &mut ::mambo::RequestContext<'_, #state>,
            body: ::mambo::Body,
        ) -> ::mambo::Response {
            match fallback {
                #(#arms)*
                _ => ::core::unreachable!("a fallback this router does not have"),
            }
        }

        #(#functions)*
    }
}

fn fallback_fn_name(fallback: &Fallback) -> syn::Ident {
    format_ident!("__mambo_fallback_{}", fallback.index)
}

/// `"/admin/:id"`, or `"/"` for the router's own.
fn prefix_text(prefix: &Pattern) -> String {
    match prefix.to_text() {
        text if text.is_empty() => "/".to_owned(),
        text => text,
    }
}

/// A fallback's function: its scope middleware around the handler (a route
/// without parameters), or around the call into the router it comes from.
fn fallback_fn(router: &Router, fallback: &Fallback) -> TokenStream {
    let name = fallback_fn_name(fallback);
    let doc = format!("Fallback {}", fallback.summary());
    match &fallback.kind {
        Kind::Own { payload, .. } => {
            let route = Route {
                index: fallback.index,
                handler: fallback.handler.clone(),
                payload: payload.clone(),
                pattern: Pattern { segments: Vec::new() },
                methods: Vec::new(),
                scope_middleware: fallback.scope_middleware.clone(),
                mounted: None,
                service: None,
                metrics: false,
            };
            handler_fn(router, &route, &name, &doc)
        }
        Kind::Mounted { mount, child_index } => {
            let field = field(router, &router.mounts[*mount].field);
            let child = Literal::usize_unsuffixed(*child_index);
            let call = quote!(#field.__mambo_mounted_fallback(#child, &mut *cx, body).await);
            let scope: Vec<&Middleware> =
                fallback.scope_middleware.iter().map(|&i| &router.middleware[i]).collect();
            let body = wrap_middleware(router, &scope, call);
            route_item(router, &name, &doc, &body)
        }
    }
}

/// `__mambo_mounted_fallback`: fallback `fallback` of this router, run for
/// a router that mounts it, inside this router's middleware (an item of
/// `impl Api`, for a router that has fallbacks).
pub fn mounted_fn(router: &Router) -> TokenStream {
    if router.fallbacks.is_empty() {
        return quote!();
    }
    let vis = &router.def.vis;
    let state_field = field(router, &format_ident!("state"));
    let global: Vec<&Middleware> = router.middleware[..router.global].iter().collect();
    let body =
        wrap_middleware(router, &global, quote!(self.__mambo_fallbacks(fallback, cx, body).await));
    quote! {
        /// Answers a miss with fallback `fallback` of this router for a
        /// router that mounts it: this router's middleware, then the
        /// fallback's scope middleware, extractors and handler.
        #[doc(hidden)]
        #[allow(dead_code)]
        #vis async fn __mambo_mounted_fallback<P>(
            &self,
            fallback: usize,
            parent: &mut ::mambo::RequestContext<'_, P>,
            body: ::mambo::Body,
        ) -> ::mambo::Response {
            let mut mounted =
                ::mambo::__private::Mounted::new(parent, &#state_field, ::core::option::Option::None, 0);
            let cx = mounted.context();
            #body
        }
    }
}
