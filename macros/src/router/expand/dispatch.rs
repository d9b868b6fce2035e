//! The generated `Router::handle`: lookup, the router's middleware, then a
//! `match` on the route's group (under the route's deadline and a panic
//! guard) and one on the route within it, calling each route's function,
//! which runs the scope middleware, extracts the handler's arguments and
//! calls it. One state machine per route (besides the handler's own), as
//! few as a runtime router's boxed handler has: it is what compile time
//! is made of.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::router::model::{Middleware, Route, Router, unraw};

/// Emits the route functions (items of `impl Api`) and the `Router` impl.
pub fn emit(router: &Router) -> (TokenStream, TokenStream) {
    let name = &router.def.name;
    let global: Vec<usize> = (0..router.global).collect();
    let (dispatch, group_fns) = route_match(router);
    // The dispatch puts the response into the context's slot (see
    // `ResponseSlot`); middleware and layers take it out.
    let inner = quote! {{
        #dispatch
        cx.__response().take()
    }};
    let body = chain(router, &global, inner.clone());
    let state = field(router, &format_ident!("state"));
    let context = context(&state);
    // With metrics, the request is measured from the lookup to its
    // response's head; the meter drops (a cancelled request) with the
    // future.
    let (start_meter, finish) = if router.has_metrics() {
        (
            quote! {
                let mut body = body;
                let meter = ::mambo::observe::metrics::RequestMeter::start(Self::__mambo_metrics(), target.ok(), &mut body);
            },
            quote! {
                let mut response = ::mambo::__private::finish(is_head, response);
                meter.answered(Self::__mambo_metrics(), &mut response);
                response
            },
        )
    } else {
        (quote!(), quote!(::mambo::__private::finish(is_head, response)))
    };
    // The response stays in the context's slot: without middleware or
    // metrics it is finished there; the future's output is the context's box
    // (see `Answered`).
    let answer = if router.global == 0 && !router.has_metrics() {
        quote! {
            #dispatch
            cx.__response().finish(is_head);
        }
    } else {
        quote! {
            let response = #body;
            let response = { #finish };
            cx.__response().put(response);
        }
    };
    // The request is looked up and its context made before the future is,
    // so the future holds the context once, instead of the request and then
    // the context built from it (an `async` block keeps its captures for its
    // whole life). The server calls `__handle_head` with the head already in
    // the context's box; `handle` puts it there.
    let router_impl = quote! {
        impl ::mambo::Router for #name {
            fn routes(&self) -> &'static [::mambo::RouteInfo] {
                Self::ROUTES
            }

            #[allow(unused_doc_comments)]
            fn handle(
                &self,
                request: ::mambo::Request,
                conn: ::mambo::ConnInfo,
            ) -> impl ::core::future::Future<Output = ::mambo::Response> + Send + '_ {
                let (parts, body) = request.into_parts();
                let answered = ::mambo::Router::__handle_head(
                    self,
                    ::mambo::__private::RequestHead::new(parts, conn),
                    body,
                );
                async move { answered.await.take_response() }
            }

            #[allow(unused_doc_comments)]
            fn __handle_head(
                &self,
                head: ::mambo::__private::RequestHead,
                body: ::mambo::Body,
            ) -> impl ::core::future::Future<Output = ::mambo::__private::Answered> + Send + '_ {
                let is_head = head.parts().method == ::mambo::Method::HEAD;
                #context
                #start_meter
                async move {
                    {
                        let cx = &mut cx;
                        #answer
                    }
                    cx.__answered()
                }
            }
        }
    };
    let mut resume_fns = Vec::new();
    for (position, &layer) in global.iter().enumerate() {
        if router.middleware[layer].is_layer() {
            resume_fns.push(resume_fn(
                router,
                layer,
                chain(router, &global[position + 1..], inner.clone()),
            ));
        }
    }
    let route_fns = router.routes.iter().map(|route| route_fns(router, route));
    resume_fns.extend(scope_resume_fns(router));
    (quote!(#(#group_fns)* #(#route_fns)* #(#resume_fns)*), router_impl)
}

/// Looks `head` up and builds `cx`, the request's context, in its box,
/// in a scope that has `head` (a `RequestHead`) and `self`.
fn context(state: &TokenStream) -> TokenStream {
    quote! {
        let (target, params) = {
            let parts = head.parts();
            match self.lookup(&parts.method, parts.uri.path()) {
                ::mambo::Lookup::Found { route, params } => {
                    (Ok(route), ::mambo::ParamSlots::from_params(&params, parts.uri.path()))
                }
                miss => (Err(::mambo::__private::Miss::of(&miss)), ::mambo::ParamSlots::default()),
            }
        };
        let route = target.ok().map(|route| &Self::ROUTES[route]);
        let mut cx = ::mambo::RequestContext::from_head(head, &#state, route).with_params(params);
    }
}

/// `self.field`, through the shared core when the router has layers.
pub fn field(router: &Router, field: &syn::Ident) -> TokenStream {
    if router.has_layers() { quote!(self.__mambo_core.#field) } else { quote!(self.#field) }
}

/// The chain of `links` (indices into the router's middleware) around
/// `inner`, up to the first layer: everything after it runs behind the
/// layer, in the layer's resume function.
fn chain(router: &Router, links: &[usize], inner: TokenStream) -> TokenStream {
    let split = links.iter().position(|&i| router.middleware[i].is_layer());
    let (before, inner) = match split {
        None => (links, inner),
        Some(position) => {
            let layer = field(router, &router.middleware[links[position]].field);
            (&links[..position], quote!(::mambo::__private::call_layer(&#layer, cx, body).await))
        }
    };
    let before: Vec<&Middleware> = before.iter().map(|&i| &router.middleware[i]).collect();
    wrap_middleware(router, &before, inner)
}

/// The function a layer's inner service calls: the request's context built
/// again (a layer may have changed the path), then `body`.
fn resume_fn(router: &Router, layer: usize, body: TokenStream) -> TokenStream {
    let name = resume_name(layer);
    let context = context(&field(router, &format_ident!("state")));
    quote! {
        #[doc(hidden)]
        #[allow(unused_doc_comments)]
        async fn #name(&self, request: ::mambo::Request) -> ::mambo::Response {
            let (parts, body, conn) = ::mambo::__private::resume(request);
            let head = ::mambo::__private::RequestHead::new(parts, conn);
            #context
            let cx = &mut cx;
            #body
        }
    }
}

/// `__mambo_resume_N`, for the layer at `router.middleware[N]`.
pub fn resume_name(layer: usize) -> syn::Ident {
    format_ident!("__mambo_resume_{}", layer)
}

/// The resume functions of the layers in scopes: the route looked up again,
/// then the rest of its chain behind the layer.
fn scope_resume_fns(router: &Router) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for (layer, middleware) in router.middleware.iter().enumerate().skip(router.global) {
        if !middleware.is_layer() {
            continue;
        }
        let arms =
            router.routes.iter().filter(|r| r.scope_middleware.contains(&layer)).map(|route| {
                let index = Literal::usize_unsuffixed(route.index);
                let function = segment_name(route, Some(layer));
                let comment = route.summary();
                quote! {
                    #[doc = #comment]
                    #index => self.#function(cx, body).await,
                }
            });
        let body = quote! {
            match target {
                Ok(route) => match route {
                    #(#arms)*
                    // The layer sent the request somewhere this scope does not reach.
                    _ => ::mambo::__private::miss(::mambo::__private::Miss::NotFound, cx.method(), cx.uri()),
                },
                Err(miss) => ::mambo::__private::miss(miss, cx.method(), cx.uri()),
            }
        };
        out.push(resume_fn(router, layer, body));
    }
    out
}

/// Routes per dispatch group.
///
/// One `async` block awaiting a thousand route futures is one huge state
/// machine: rustc type-checks it (for its `Send` bound) and LLVM optimizes it
/// as a single function, both worse than linearly. The dispatch matches the
/// group first, then the route within its group's own function, so no state
/// machine has more than this many arms.
pub(super) const GROUP: usize = 32;

/// The `match` on the lookup's answer, and the group functions it calls.
///
/// The deadline and the panic guard wrap a whole group's future, so their
/// code exists once per group rather than once per route; they see the route
/// the lookup found, and cover its scope middleware, extractors and handler.
fn route_match(router: &Router) -> (TokenStream, Vec<TokenStream>) {
    let arm = |route: &Route| {
        let index = Literal::usize_unsuffixed(route.index);
        let function = route_fn_name(route);
        let comment = route.summary();
        quote! {
            #[doc = #comment]
            #index => self.#function(cx, body).await,
        }
    };
    let state = &router.state;
    let mut group_arms = Vec::new();
    let mut group_fns = Vec::new();
    for (group, routes) in router.routes.chunks(GROUP).enumerate() {
        let name = format_ident!("__mambo_group_{}", group);
        let first = routes[0].index;
        let last = routes[routes.len() - 1].index;
        let arms = routes.iter().map(arm);
        let doc = format!("Routes {first} to {last}.");
        let group_literal = Literal::usize_unsuffixed(group);
        group_arms.push(quote! {
            #group_literal => ::mambo::__private::guard(
                timeout,
                self.#name(route, cx, body),
            )
            .await,
        });
        group_fns.push(quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[allow(unused_doc_comments)]
            async fn #name(
                &self,
                route: usize,
                cx: &mut ::mambo::RequestContext<'_, #state>,
                body: ::mambo::Body,
            ) {
                match route {
                    #(#arms)*
                    _ => unreachable!("lookup returned a route this router does not have"),
                }
            }
        });
    }
    let group_size = Literal::usize_unsuffixed(GROUP);
    let miss = super::fallback::miss(router);
    // A router with only fallbacks finds no route: its arm would be all
    // `unreachable!` and the `settle` after it unreachable code.
    let found = if router.routes.is_empty() {
        quote!(Ok(_) => unreachable!("lookup returned a route this router does not have"),)
    } else {
        quote! {
            Ok(route) => {
                ::mambo::__private::route_found(&Self::ROUTES[route]);
                let timeout = cx.timeout();
                let guarded = match route / #group_size {
                    #(#group_arms)*
                    _ => unreachable!("lookup returned a route this router does not have"),
                };
                cx.__response().settle(&Self::ROUTES[route], guarded);
            }
        }
    };
    let dispatch = quote! {
        match target {
            #found
            Err(miss) => #miss,
        }
    };
    (dispatch, group_fns)
}

pub(super) fn route_fn_name(route: &Route) -> syn::Ident {
    format_ident!("__mambo_route_{}", route.index)
}

/// `before` of each middleware in order, `inner`, then `after` in reverse;
/// a `before` that answers skips everything inside it. No layer among them.
pub(super) fn wrap_middleware(
    router: &Router,
    middleware: &[&Middleware],
    inner: TokenStream,
) -> TokenStream {
    let Some((first, rest)) = middleware.split_first() else { return inner };
    let inner = wrap_middleware(router, rest, inner);
    let state = &router.state;
    let ty = &first.def.ty;
    let field = field(router, &first.field);
    let local = format_ident!("{}_local", first.field);
    let trait_path = quote_spanned!(ty.span()=> <#ty as ::mambo::middleware::Middleware<#state>>);
    quote! {{
        let mut #local: #trait_path::Local = ::core::default::Default::default();
        match #trait_path::before(&#field, &mut *cx, &mut #local).await {
            ::mambo::middleware::Flow::Respond(response) => response,
            ::mambo::middleware::Flow::Continue => {
                let mut response = #inner;
                #trait_path::after(&#field, &*cx, &mut #local, &mut response).await;
                response
            }
        }
    }}
}

/// A route's functions: one for its scope chain up to the first layer (the
/// one the dispatch calls), and one for the rest of the chain behind each
/// layer.
fn route_fns(router: &Router, route: &Route) -> TokenStream {
    let links = &route.scope_middleware;
    let mut starts = vec![(None, 0)];
    for (position, &link) in links.iter().enumerate() {
        if router.middleware[link].is_layer() {
            starts.push((Some(link), position + 1));
        }
    }
    let innermost = route_inner(router, route);
    let functions = starts.into_iter().map(|(after, from)| {
        let body = chain(router, &links[from..], innermost.clone());
        let name = segment_name(route, after);
        if after.is_some() {
            return route_item(router, &name, &route.summary(), &body);
        }
        // The one the dispatch group calls: it puts the response into the
        // context's slot rather than return it through the group's future.
        let state = &router.state;
        let doc = route.summary();
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            async fn #name(&self, cx: &mut ::mambo::RequestContext<'_, #state>, body: ::mambo::Body) {
                let response = #body;
                cx.__response().put(response);
            }
        }
    });
    quote!(#(#functions)*)
}

/// `async fn name(&self, cx, body) -> Response { body }`, hidden: the shape
/// of every function the dispatch calls for a route or a fallback.
pub(super) fn route_item(
    router: &Router,
    name: &syn::Ident,
    doc: &str,
    body: &TokenStream,
) -> TokenStream {
    let state = &router.state;
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        async fn #name(
            &self,
            cx: &mut ::mambo::RequestContext<'_, #state>,
            body: ::mambo::Body,
        ) -> ::mambo::Response {
            #body
        }
    }
}

/// The function running `route`'s scope chain from its start, or from
/// behind the layer `after` (an index into the router's middleware).
fn segment_name(route: &Route, after: Option<usize>) -> syn::Ident {
    match after {
        None => route_fn_name(route),
        Some(layer) => format_ident!("__mambo_route_{}_after_{}", route.index, layer),
    }
}

/// The function `name` that runs `route`'s scope middleware, extracts its
/// handler's arguments and calls it: a fallback's (a route without
/// parameters, whose scopes have no layer).
pub(super) fn handler_fn(
    router: &Router,
    route: &Route,
    name: &syn::Ident,
    doc: &str,
) -> TokenStream {
    let links: Vec<&Middleware> =
        route.scope_middleware.iter().map(|&i| &router.middleware[i]).collect();
    let body = wrap_middleware(router, &links, route_inner(router, route));
    route_item(router, name, doc, &body)
}

/// What a route runs inside its scope middleware: its extractors and
/// handler, its service, or the router it was mounted from.
fn route_inner(router: &Router, route: &Route) -> TokenStream {
    let state = &router.state;
    if let Some(mounted) = &route.mounted {
        let field = field(router, &router.mounts[mounted.mount].field);
        let child = Literal::usize_unsuffixed(mounted.child_index);
        let skip = Literal::usize_unsuffixed(mounted.skip);
        return quote!(#field.__mambo_mounted(#child, &mut *cx, #skip, body).await);
    }
    if route.metrics {
        return quote! {{
            drop(body);
            ::mambo::observe::metrics::respond(
                Self::__mambo_metrics(),
                Self::ROUTES,
                cx.headers().get(::mambo::header::ACCEPT),
            )
        }};
    }
    if let Some(service) = route.service {
        let service = &router.services[service];
        let strip = service.strip;
        let field = field(router, &service.field);
        return quote!(::mambo::__private::call_service(&#field, cx, body, #strip).await);
    }
    let handler = &route.handler;
    let params: Vec<&str> = route.pattern.param_names().collect();
    let args = &route.payload.args;
    let last_extractor = args.iter().rposition(|arg| {
        arg.name.as_ref().is_none_or(|name| !params.contains(&unraw(name).as_str()))
    });
    let mut extraction = Vec::new();
    let mut call_args = Vec::new();
    let mut uses_body = false;
    for (position, arg) in args.iter().enumerate() {
        // Named after the user's argument where it has a name; the prefix
        // keeps it apart from the dispatcher's own locals.
        let var = match &arg.name {
            Some(name) => format_ident!("arg_{}", unraw(name)),
            None => format_ident!("arg_{}", position),
        };
        let span = Span::call_site().located_at(arg.ty.span());
        let param = arg.name.as_ref().and_then(|name| {
            let name = unraw(name);
            params.iter().position(|p| *p == name).map(|slot| (name, slot))
        });
        extraction.push(match param {
            Some((param_name, slot)) => {
                let raw = format_ident!("raw_{}", param_name);
                let slot = Literal::usize_unsuffixed(slot);
                quote_spanned! {span=>
                    let #raw = match ::mambo::__private::decode(cx, #slot, #param_name) {
                        Ok(value) => value,
                        Err(rejection) => break 'route rejection,
                    };
                    let #var = match ::mambo::__private::parse(&#raw, #param_name) {
                        Ok(value) => value,
                        Err(rejection) => break 'route rejection,
                    };
                }
            }
            None if Some(position) == last_extractor => {
                uses_body = true;
                quote_spanned! {span=>
                    let #var = match ::mambo::__private::extract_body::<#state, _, _>(cx, body).await {
                        Ok(value) => value,
                        Err(rejection) => break 'route rejection,
                    };
                }
            }
            None => quote_spanned! {span=>
                let #var = match ::mambo::__private::extract_parts::<#state, _>(cx).await {
                    Ok(value) => value,
                    Err(rejection) => break 'route rejection,
                };
            },
        });
        call_args.push(var);
    }
    let call = if route.payload.is_async {
        quote!(#handler(#(#call_args),*).await)
    } else {
        quote!(#handler(#(#call_args),*))
    };
    let output_span = match &route.payload.output {
        syn::ReturnType::Default => route.payload.name.span(),
        syn::ReturnType::Type(_, ty) => ty.span(),
    };
    // The output gets a name spanned at the handler's return type, so that a
    // type that is no response is reported there.
    let output = syn::Ident::new("output", Span::call_site().located_at(output_span));
    let respond = quote! {
        let #output = #call;
        ::mambo::__private::respond(#output)
    };
    let drop_body = if uses_body { quote!() } else { quote!(drop(body);) };
    // A labeled block, not an `async` block: a rejection breaks out of it
    // (and still passes through the scope middleware's `after`) without a
    // state machine of its own.
    let label = (!extraction.is_empty()).then(|| quote!('route:));
    quote! {
        #label {
            let cx: &::mambo::RequestContext<'_, #state> = &*cx;
            #drop_body
            #(#extraction)*
            #respond
        }
    }
}
