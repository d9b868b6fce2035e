//! The continuation-passing chain that gathers route payloads.
//!
//! A proc macro sees one item at a time, so `router!` cannot read the
//! `#[route]` attributes of its handlers. Instead it calls each handler's
//! carrier macro with the list of macros still to call; each appends its
//! payload and calls the next, and the last call goes to `__router_impl`,
//! which sees every route at once.
//!
//! Every macro call in a chain nests one level deeper, and rustc stops at
//! `recursion_limit` (128 by default). So routes are gathered in chunks of
//! [`CHUNK`]: each chunk's chain ends in `__stash_chunk`, which defines a
//! `macro_rules!` holding that chunk's payloads; a final chain then calls the
//! chunk macros in order. The depth stays near `CHUNK + routes / CHUNK`,
//! far below the limit even for thousands of routes.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Path;

use super::parse::RouterDef;

/// Routes per chunk.
const CHUNK: usize = 64;

/// Emits the calls that end in `__router_impl!` with `{ input } payloads..`.
pub fn emit(def: &RouterDef, input: &TokenStream) -> TokenStream {
    if super::mount::has_mounts(def) {
        return super::mount::emit_chain(def, input);
    }
    emit_links(def, &super::gather::link_paths(def), input, true)
}

/// The chain over `routes`; `at_module_level` is `false` inside the blocks
/// of a router with mounts, where the chunk macros are named without
/// `self::` (which would name the enclosing module, not the block).
pub(super) fn emit_links(
    def: &RouterDef,
    routes: &[&Path],
    input: &TokenStream,
    at_module_level: bool,
) -> TokenStream {
    let finish = quote!(::mambo::__private::router_impl);
    if routes.len() <= CHUNK {
        return call_chain(routes, finish, quote!({ #input }));
    }
    let mut out = TokenStream::new();
    let mut chunk_macros = Vec::new();
    for (index, chunk) in routes.chunks(CHUNK).enumerate() {
        let name = format_ident!("__mambo_{}_chunk_{}", def.name, index, span = Span::call_site());
        out.extend(call_chain(chunk, quote!(::mambo::__private::stash_chunk), quote!((#name))));
        chunk_macros.push(if at_module_level { quote!(self::#name) } else { quote!(#name) });
    }
    let first = &chunk_macros[0];
    let rest = &chunk_macros[1..];
    out.extend(quote! {
        #first ! { [ #( [ #rest ] )* [ #finish ] ] [ { #input } ] }
    });
    out
}

/// Macros of the standard prelude. A handler named like one of them must be
/// called as `self::name!`: a macro-expanded name may not shadow a prelude
/// macro, so the bare name would be ambiguous.
const PRELUDE_MACROS: [&str; 34] = [
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "compile_error",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "thread_local",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
];

/// How a listed handler's carrier is called: as written, except a bare name
/// that is also a prelude macro (`file`, `line`, `vec`), which becomes
/// `self::name`. Bare names stay bare otherwise, because rustc's error for a
/// bare name that is no macro says that it is a function, which is the hint
/// the user needs (add `#[route]`).
fn carrier_path(path: &Path) -> TokenStream {
    match path.get_ident().filter(|ident| PRELUDE_MACROS.contains(&ident.to_string().as_str())) {
        Some(ident) => {
            let this = syn::Ident::new("self", ident.span());
            quote!(#this::#ident)
        }
        None => quote!(#path),
    }
}

/// `first! { [ [second] .. [last] [finish] ] [ head ] }`
fn call_chain(routes: &[&Path], finish: TokenStream, head: TokenStream) -> TokenStream {
    let routes: Vec<TokenStream> = routes.iter().map(|path| carrier_path(path)).collect();
    match routes.split_first() {
        None => quote!( #finish ! { [ ] [ #head ] } ),
        Some((first, rest)) => quote! {
            #first ! { [ #( [ #rest ] )* [ #finish ] ] [ #head ] }
        },
    }
}

/// `__stash_chunk! { [ ] [ (name) payloads.. ] }`: defines `name!` as a
/// chain link that appends all those payloads at once.
pub fn stash(input: TokenStream) -> syn::Result<TokenStream> {
    let parsed: ChainEnd = syn::parse2(input)?;
    let mut tokens = parsed.gathered.into_iter();
    let name = match tokens.next() {
        Some(proc_macro2::TokenTree::Group(group)) => group.stream(),
        _ => return Err(syn::Error::new(Span::call_site(), "malformed chunk: missing its name")),
    };
    let payloads: TokenStream = tokens.collect();
    Ok(quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            ( [ [ $($next:tt)* ] $( [ $($rest:tt)* ] )* ] [ $($acc:tt)* ] ) => {
                $($next)* ! { [ $( [ $($rest)* ] )* ] [ $($acc)* #payloads ] }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        use #name;
    })
}

/// The input of the last link of a chain: `[ ] [ gathered.. ]`.
pub struct ChainEnd {
    pub gathered: TokenStream,
}

impl syn::parse::Parse for ChainEnd {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let rest;
        syn::bracketed!(rest in input);
        if !rest.is_empty() {
            return Err(rest.error("malformed route chain: links left over"));
        }
        let gathered;
        syn::bracketed!(gathered in input);
        Ok(ChainEnd { gathered: gathered.parse()? })
    }
}
