//! `router!`: gathers the routes of the listed handlers and generates the
//! dispatcher.
//!
//! Stages: [`parse`] the definition, [`chain`] the carrier macros to gather
//! the payloads, then in `__router_impl`: [`model`], [`check`] and [`tree`]
//! (which reports conflicts), and [`expand`].

mod chain;
mod check;
mod expand;
mod fallback;
mod gather;
mod model;
mod mount;
mod parse;
mod tree;

use proc_macro2::TokenStream;
use quote::quote;

use self::gather::Carried;

/// `router! { .. }`: the struct now, the rest once the routes are gathered.
pub fn expand(input: TokenStream) -> TokenStream {
    let def: parse::RouterDef = match syn::parse2(input.clone()) {
        Ok(def) => def,
        Err(err) => return err.into_compile_error(),
    };
    let model = model::without_routes(&def);
    let structure = expand::structure(&def, &model);
    let mount = expand::mount::structure(&def);
    let chain = chain::emit(&def, &input);
    quote! {
        #structure
        #mount
        #chain
    }
}

/// `__router_impl! { [ ] [ { router input } payloads.. ] }`.
pub fn finish(input: TokenStream) -> TokenStream {
    match finish_inner(input) {
        Ok(tokens) => tokens,
        Err(err) => err.into_compile_error(),
    }
}

fn finish_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let end: chain::ChainEnd = syn::parse2(input)?;
    let gathered: Gathered = syn::parse2(end.gathered)?;
    let mut errors = Vec::new();
    let sorted = gather::sort(&gathered.def, gathered.payloads, &mut errors);
    let all_valid = sorted.valid;
    let router = model::build(gathered.def, sorted, &mut errors);
    check::routes(&router.routes, &mut errors);
    fallback::check(&router, &mut errors);
    let tree = tree::build(&router.routes, &mut errors);
    if errors.is_empty() && all_valid {
        return Ok(expand::router(&router, &tree));
    }
    let fallback = expand::fallback(&router);
    let errors = errors.into_iter().map(syn::Error::into_compile_error);
    Ok(quote! {
        #(#errors)*
        #fallback
    })
}

/// `__stash_chunk! { [ ] [ (name) payloads.. ] }`.
pub fn stash(input: TokenStream) -> TokenStream {
    chain::stash(input).unwrap_or_else(syn::Error::into_compile_error)
}

/// `__not_a_router! { [ [next] .. ] [ payloads.. ] }`: see [`mount`].
pub fn not_a_router(input: TokenStream) -> TokenStream {
    mount::not_a_router(input).unwrap_or_else(syn::Error::into_compile_error)
}

/// The router definition followed by the payloads (routes', fallbacks'
/// and, for `mount:`, routers').
struct Gathered {
    def: parse::RouterDef,
    payloads: Vec<Carried>,
}

impl syn::parse::Parse for Gathered {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::braced!(content in input);
        let def = content.parse()?;
        let mut payloads = Vec::new();
        while !input.is_empty() {
            payloads.push(input.parse()?);
        }
        Ok(Gathered { def, payloads })
    }
}
