//! The generated `lookup`: one function per tree node, each a `match` on
//! the next path segment, with fallback to the parameter and catch-all
//! branches when a static branch fails deeper down.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::router::model::{ANY_METHOD, Route, Router};
use crate::router::parse::TrailingSlashMode;
use crate::router::tree::Node;

/// Emits `lookup`, `__mambo_find` and the node functions (items of `impl Api`).
pub fn emit(router: &Router, tree: &Node, max_params: usize) -> TokenStream {
    let n = Literal::usize_unsuffixed(max_params);
    let mut nodes = Vec::new();
    let mut next_id = 0;
    emit_node(tree, "", &router.routes, &mut next_id, &mut nodes);
    let redirect = match router.trailing_slash {
        TrailingSlashMode::Strict => quote!(::mambo::Lookup::NotFound),
        TrailingSlashMode::Redirect => quote! {
            match ::mambo::__private::trailing_slash_alternative(path, |alternative| {
                Self::__mambo_find(method, alternative).is_some()
            }) {
                Some(direction) => ::mambo::Lookup::Redirect(direction),
                None => ::mambo::Lookup::NotFound,
            }
        },
    };
    quote! {
        /// Finds the route for `method` and `path` (no query string).
        ///
        /// Pure and allocation-free: parameters are slices of `path`, still
        /// percent-encoded, in an inline array.
        pub fn lookup<'p>(&self, method: &::mambo::Method, path: &'p str) -> ::mambo::Lookup<'p, #n> {
            match Self::__mambo_find(method, path) {
                Some((Ok(route), values)) => ::mambo::Lookup::Found {
                    route,
                    params: ::mambo::Params::new(Self::ROUTES[route].params, values),
                },
                Some((Err(allow), _)) => ::mambo::Lookup::MethodNotAllowed { allow },
                None => #redirect,
            }
        }

        #[doc(hidden)]
        #[inline]
        fn __mambo_find<'p>(
            method: &::mambo::Method,
            path: &'p str,
        ) -> Option<(Result<usize, &'static str>, [&'p str; #n])> {
            let mut params: [&'p str; #n] = [""; #n];
            let rest = path.strip_prefix('/')?;
            Self::__mambo_node_0_root(method, rest, &mut params).map(|hit| (hit, params))
        }

        #(#nodes)*
    }
}

/// The function name of a node: a number for uniqueness, then the path
/// matched so far (`__mambo_node_7_repos_owner_repo`), for the reader.
fn node_name(id: usize, prefix: &str) -> syn::Ident {
    let mut label: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    label = label.trim_matches('_').to_owned();
    while label.contains("__") {
        label = label.replace("__", "_");
    }
    label.truncate(48);
    if label.is_empty() {
        label.push_str("root");
    }
    format_ident!("__mambo_node_{}_{}", id, label.trim_end_matches('_'))
}

/// Emits the function for `node` (reached by `prefix`) and its descendants;
/// returns its name.
fn emit_node(
    node: &Node,
    prefix: &str,
    routes: &[Route],
    next_id: &mut usize,
    out: &mut Vec<TokenStream>,
) -> syn::Ident {
    let id = *next_id;
    *next_id += 1;
    let name = node_name(id, prefix);
    let mut body = TokenStream::new();
    body.extend(match_statics(node, prefix, routes, next_id, out));
    let slot = Literal::usize_unsuffixed(node.params_above);
    if let Some((param, child)) = &node.param {
        let descend = descend(child, &format!("{prefix}/:{param}"), routes, next_id, out);
        let _ = param;
        body.extend(quote! {
            if !segment.is_empty() {
                params[#slot] = segment;
                #descend
            }
        });
    }
    if let Some((param, leaf)) = &node.catch_all {
        let hit = leaf_hit(leaf, routes);
        let _ = param;
        body.extend(quote! {
            if !rest.is_empty() {
                params[#slot] = rest;
                return Some(#hit);
            }
        });
    }
    let unused = if node.param.is_none() && node.catch_all.is_none() {
        quote!(let _ = &params;)
    } else {
        quote!()
    };
    let tail_unused = if node.statics.is_empty() && node.param.is_none() {
        quote!(let _ = tail;)
    } else {
        quote!()
    };
    let below: Vec<String> = subtree_patterns(node, routes);
    let doc = format!("Routes below this point: {}", below.join(", "));
    out.push(quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(unused_doc_comments)]
        fn #name<'p>(
            method: &::mambo::Method,
            rest: &'p str,
            params: &mut [&'p str],
        ) -> Option<Result<usize, &'static str>> {
            let (segment, tail) = ::mambo::split_segment(rest);
            #unused
            #tail_unused
            #body
            let _ = method;
            None
        }
    });
    name
}

/// Below this many static children a plain string `match` is as fast as the
/// integer switch.
const SWITCH_FROM: usize = 3;

/// The `match` over the static children of `node`.
///
/// With a few children, a string `match`. With more, a switch on the
/// segment's length and first 8 bytes read as one integer, which LLVM turns
/// into a jump table or a binary search; longer segments then compare their
/// remaining bytes.
fn match_statics(
    node: &Node,
    prefix: &str,
    routes: &[Route],
    next_id: &mut usize,
    out: &mut Vec<TokenStream>,
) -> TokenStream {
    if node.statics.is_empty() {
        return quote!();
    }
    if node.statics.len() < SWITCH_FROM {
        let arms = node.statics.iter().map(|(text, child)| {
            let descend = descend(child, &format!("{prefix}/{text}"), routes, next_id, out);
            quote!(#text => { #descend })
        });
        return quote! {
            match segment {
                #(#arms)*
                _ => {}
            }
        };
    }
    let arms = node.statics.iter().map(|(text, child)| {
        let descend = descend(child, &format!("{prefix}/{text}"), routes, next_id, out);
        let len = Literal::usize_unsuffixed(text.len());
        let mut head = [0u8; 8];
        let n = text.len().min(8);
        head[..n].copy_from_slice(&text.as_bytes()[..n]);
        let word = Literal::u64_unsuffixed(u64::from_le_bytes(head));
        let guard = if text.len() > 8 {
            let tail = &text[8..];
            quote!(if &segment[8..] == #tail)
        } else {
            quote!()
        };
        quote! {
            #[doc = #text]
            (#len, #word) #guard => { #descend }
        }
    });
    quote! {
        match (segment.len(), ::mambo::__private::word8(segment)) {
            #(#arms)*
            _ => {}
        }
    }
}

/// Code that continues the match into `child` after its segment matched.
fn descend(
    child: &Node,
    prefix: &str,
    routes: &[Route],
    next_id: &mut usize,
    out: &mut Vec<TokenStream>,
) -> TokenStream {
    let on_end = if child.leaf.is_empty() {
        quote!()
    } else {
        let hit = leaf_hit(&child.leaf, routes);
        quote!(if tail.is_none() { return Some(#hit); })
    };
    let on_more = if child.has_children() {
        let name = emit_node(child, prefix, routes, next_id, out);
        quote! {
            if let Some(tail) = tail {
                if let Some(hit) = Self::#name(method, tail, params) {
                    return Some(hit);
                }
            }
        }
    } else {
        quote!()
    };
    quote!(#on_end #on_more)
}

/// The method dispatch at a leaf: the route for the method, or `Allow`.
fn leaf_hit(leaf: &[usize], routes: &[Route]) -> TokenStream {
    let mut arms: Vec<(String, usize)> = Vec::new();
    // A service route that answers every method takes what no other route
    // of the leaf answers: no 405 here.
    let mut any = None;
    for &index in leaf {
        for method in &routes[index].methods {
            if method == ANY_METHOD {
                any = Some(index);
            } else {
                arms.push((method.clone(), index));
            }
        }
    }
    let has_head = arms.iter().any(|(m, _)| m == "HEAD");
    if !has_head {
        if let Some(&(_, get)) = arms.iter().find(|(m, _)| m == "GET") {
            arms.push(("HEAD".to_owned(), get));
        }
    }
    let mut allow: Vec<String> = arms.iter().map(|(m, _)| m.clone()).collect();
    if !allow.iter().any(|m| m == "OPTIONS") {
        allow.push("OPTIONS".to_owned());
    }
    allow.sort_by_key(|m| crate::method::allow_rank(m));
    allow.dedup();
    let allow = allow.join(", ");
    // One `match` on the method: standard methods are constants of
    // `http::Method`, so this is a switch on its discriminant; extension
    // methods are compared by name in a guard.
    let mut standard: Vec<(usize, Vec<String>)> = Vec::new();
    let mut extension: Vec<(usize, String)> = Vec::new();
    for (method, index) in arms {
        if crate::method::STANDARD.contains(&method.as_str()) {
            match standard.iter_mut().find(|(i, _)| *i == index) {
                Some((_, methods)) => methods.push(method),
                None => standard.push((index, vec![method])),
            }
        } else {
            extension.push((index, method));
        }
    }
    let standard_arms = standard.iter().map(|(index, methods)| {
        let patterns = methods.iter().map(|m| {
            let ident = format_ident!("{}", m);
            quote!(::mambo::Method::#ident)
        });
        let comment = routes[*index].summary();
        let index = Literal::usize_unsuffixed(*index);
        quote! {
            #[doc = #comment]
            #(#patterns)|* => Ok(#index),
        }
    });
    let extension_arms = extension.iter().map(|(index, method)| {
        let comment = routes[*index].summary();
        let index = Literal::usize_unsuffixed(*index);
        quote! {
            #[doc = #comment]
            _ if method.as_str() == #method => Ok(#index),
        }
    });
    let otherwise = match any {
        Some(index) => {
            let comment = routes[index].summary();
            let index = Literal::usize_unsuffixed(index);
            quote! {
                #[doc = #comment]
                _ => Ok(#index),
            }
        }
        None => quote!(_ => Err(#allow),),
    };
    quote! {
        match *method {
            #(#standard_arms)*
            #(#extension_arms)*
            #otherwise
        }
    }
}

fn subtree_patterns(node: &Node, routes: &[Route]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    fn walk(node: &Node, routes: &[Route], out: &mut Vec<String>) {
        for &i in node.leaf.iter().chain(node.catch_all.iter().flat_map(|(_, leaf)| leaf)) {
            let text = routes[i].pattern.to_text();
            if !out.contains(&text) {
                out.push(text);
            }
        }
        for child in node.statics.values() {
            walk(child, routes, out);
        }
        if let Some((_, child)) = &node.param {
            walk(child, routes, out);
        }
    }
    walk(node, routes, &mut out);
    if out.len() > 6 {
        let more = out.len() - 5;
        out.truncate(5);
        out.push(format!("and {more} more"));
    }
    out
}
