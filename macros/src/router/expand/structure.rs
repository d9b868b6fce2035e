//! The router struct and its constructor, emitted by `router!` itself so
//! that they exist even when gathering the routes fails.
//!
//! A router with a `layer(..)` keeps its fields in a shared core (an `Arc`
//! built with `Arc::new_cyclic`): a layer's inner service, built with the
//! router, holds a weak handle on the core to resume the chain for the
//! requests the layer lets through.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::dispatch::resume_name;
use crate::router::model::{Middleware, Router};
use crate::router::mount;
use crate::router::parse::RouterDef;

/// `__mambo_core_Api`, the shared core of a router with layers.
pub fn core_name(def: &RouterDef) -> syn::Ident {
    format_ident!("__mambo_core_{}", def.name)
}

/// Emits the struct, `new` and `state` (and the core of a router with
/// layers, with the functions its layers' inner services call).
pub fn emit(def: &RouterDef, model: &Router) -> TokenStream {
    let RouterDef { attrs, vis, name, .. } = def;
    let state = def.state_type();
    let middleware = &model.middleware;
    let mut fields: Vec<TokenStream> = middleware
        .iter()
        .map(|m| {
            let (field, ty) = (&m.field, &m.def.ty);
            quote!(#field: #ty,)
        })
        .collect();
    fields.extend(model.services.iter().map(|service| {
        let field = &service.field;
        quote!(#field: ::mambo::tower::SharedService,)
    }));
    // Routers mounted with `mount:`, built from the state.
    let mount_fields = mount::fields(def);
    fields.extend(
        mount_fields
            .iter()
            .zip(mount::mount_paths(def))
            .map(|(field, path)| quote!(#field: #path,)),
    );
    let field_names: Vec<&syn::Ident> = middleware
        .iter()
        .map(|m| &m.field)
        .chain(model.services.iter().map(|service| &service.field))
        .chain(mount_fields.iter())
        .collect();
    let mut inits: Vec<TokenStream> =
        middleware.iter().enumerate().map(|(index, m)| init(index, m)).collect();
    inits.extend(model.services.iter().map(|service| {
        let (field, expr) = (&service.field, &service.def.init);
        quote_spanned!(expr.span()=> let #field = ::mambo::tower::RouterService::share(#expr);)
    }));
    inits.extend(mount_fields.iter().enumerate().map(|(position, field)| {
        let helper = mount::helper_name(position);
        quote!(let #field = Self::#helper(&state);)
    }));
    let (params, state_init, doc) = if def.state.is_some() {
        (quote!(state: #state), quote!(state), "Builds the router around its state.")
    } else {
        (quote!(), quote!(let state = ();), "Builds the router.")
    };
    let state_init = if def.state.is_some() { quote!() } else { state_init };
    let needs_tower = (model.has_layers() || !model.services.is_empty())
        .then(|| quote!(::mambo::__mambo_needs_tower!();));
    let new_doc = quote! {
        #[doc = #doc]
        ///
        /// Middleware listed as a bare type is built with `Default`; the
        /// expressions of `Type = expr`, `layer(expr)` and `service` entries
        /// may use `state`, the router's state, by reference.
    };
    if !model.has_layers() {
        return quote! {
            #needs_tower

            #(#attrs)*
            #vis struct #name {
                state: #state,
                #(#fields)*
            }

            impl #name {
                #new_doc
                pub fn new(#params) -> Self {
                    #state_init
                    #(#inits)*
                    #name { state, #(#field_names),* }
                }

                /// The router's state.
                pub fn state(&self) -> &#state {
                    &self.state
                }
            }
        };
    }
    let core = core_name(def);
    let resume_boxed =
        middleware.iter().enumerate().filter(|(_, m)| m.is_layer()).map(|(index, _)| {
            let boxed = boxed_resume_name(index);
            let resume = resume_name(index);
            quote! {
                #[doc(hidden)]
                fn #boxed(
                    core: ::std::sync::Arc<#core>,
                    request: ::mambo::Request,
                ) -> ::mambo::tower::NextFuture {
                    ::std::boxed::Box::pin(async move {
                        let router = #name { __mambo_core: core };
                        ::core::result::Result::Ok(router.#resume(request).await)
                    })
                }
            }
        });
    quote! {
        #needs_tower

        #(#attrs)*
        #vis struct #name {
            __mambo_core: ::std::sync::Arc<#core>,
        }

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        struct #core {
            state: #state,
            #(#fields)*
        }

        impl #name {
            #new_doc
            pub fn new(#params) -> Self {
                #state_init
                let __mambo_core = ::std::sync::Arc::new_cyclic(move |__mambo_weak: &::std::sync::Weak<#core>| {
                    #(#inits)*
                    #core { state, #(#field_names),* }
                });
                #name { __mambo_core }
            }

            /// The router's state.
            pub fn state(&self) -> &#state {
                &self.__mambo_core.state
            }

            #(#resume_boxed)*
        }
    }
}

/// `__mambo_resume_N_boxed`: the resume function as the `fn` pointer a
/// [`Next`](mambo::tower::Next) holds.
fn boxed_resume_name(layer: usize) -> syn::Ident {
    format_ident!("__mambo_resume_{}_boxed", layer)
}

/// `let field = ..;` for one middleware or layer.
fn init(index: usize, m: &Middleware) -> TokenStream {
    let (field, ty) = (&m.field, &m.def.ty);
    match (&m.def.init, &m.def.layer) {
        (Some(expr), Some(_)) => {
            let boxed = boxed_resume_name(index);
            quote_spanned! {expr.span()=>
                let #field = ::mambo::tower::RouterLayer::wrap(
                    #expr,
                    ::mambo::tower::Next::new(::std::sync::Weak::clone(__mambo_weak), Self::#boxed),
                );
            }
        }
        (Some(expr), None) => quote!(let #field: #ty = #expr;),
        (None, _) => {
            quote_spanned!(ty.span()=> let #field = <#ty as ::core::default::Default>::default();)
        }
    }
}
