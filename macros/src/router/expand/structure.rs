//! The router struct and its constructor, emitted by `router!` itself so
//! that they exist even when gathering the routes fails.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::router::model::Middleware;
use crate::router::parse::RouterDef;

/// Emits the struct, `new` and `state`.
pub fn emit(def: &RouterDef, middleware: &[Middleware]) -> TokenStream {
    let RouterDef { attrs, vis, name, .. } = def;
    let state = def.state_type();
    let fields = middleware.iter().map(|m| {
        let (field, ty) = (&m.field, &m.def.ty);
        quote!(#field: #ty,)
    });
    let inits = middleware.iter().map(|m| {
        let (field, ty) = (&m.field, &m.def.ty);
        match &m.def.init {
            Some(init) => quote!(#field: #init,),
            None => {
                quote_spanned!(ty.span()=> #field: <#ty as ::core::default::Default>::default(),)
            }
        }
    });
    let (params, state_init, doc) = if def.state.is_some() {
        (quote!(state: #state), quote!(state), "Builds the router around its state.")
    } else {
        (quote!(), quote!(()), "Builds the router.")
    };
    // Routers mounted with `mount:`, built from the state before it moves in.
    let mount_fields = super::mount::struct_fields(def);
    let mount_inits = super::mount::struct_inits(def, &state_init);
    quote! {
        #(#attrs)*
        #vis struct #name {
            state: #state,
            #(#fields)*
            #(#mount_fields)*
        }

        impl #name {
            #[doc = #doc]
            ///
            /// Middleware listed as a bare type is built with `Default`.
            pub fn new(#params) -> Self {
                #name { #(#mount_inits)* state: #state_init, #(#inits)* }
            }

            /// The router's state.
            pub fn state(&self) -> &#state {
                &self.state
            }
        }
    }
}
