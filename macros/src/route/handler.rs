//! The handler function: what `router!` needs from its signature, and the
//! shapes a handler may not have.

use syn::{FnArg, GenericParam, Ident, ItemFn, Pat, ReturnType};

use crate::payload::Arg;

/// What the router needs from a handler's signature.
pub struct Handler {
    pub name: Ident,
    pub is_async: bool,
    pub args: Vec<Arg>,
    pub output: ReturnType,
}

/// Reads the signature, pushing an error for every shape a handler cannot have.
pub fn check(function: &ItemFn, errors: &mut Vec<syn::Error>) -> Handler {
    let sig = &function.sig;
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(ty) => errors.push(syn::Error::new_spanned(
                ty,
                "route handlers cannot be generic: the router calls them with concrete extracted types; name the type",
            )),
            GenericParam::Const(konst) => errors.push(syn::Error::new_spanned(
                konst,
                "route handlers cannot have const generics: the router calls them with concrete arguments",
            )),
        }
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(variadic, "route handlers cannot be variadic"));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "route handlers must use the Rust ABI: remove `extern`",
        ));
    }
    let mut args = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "route handlers are free functions: remove `self` and take state with a `State<T>` argument",
            )),
            FnArg::Typed(typed) => {
                if let syn::Type::ImplTrait(_) = &*typed.ty {
                    errors.push(syn::Error::new_spanned(
                        &typed.ty,
                        "`impl Trait` arguments make a handler generic: name the argument's type",
                    ));
                }
                let name = match &*typed.pat {
                    Pat::Ident(ident) if ident.subpat.is_none() => Some(ident.ident.clone()),
                    _ => None,
                };
                args.push(Arg { name, ty: (*typed.ty).clone() });
            }
        }
    }
    Handler {
        name: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        args,
        output: sig.output.clone(),
    }
}
