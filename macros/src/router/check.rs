//! Checks on single routes that need the full pattern (scope prefixes
//! included), so they run in `router!` rather than in `#[route]`.

use quote::ToTokens;

use super::model::{Route, unraw};

/// Runs every check on every route.
pub fn routes(routes: &[Route], errors: &mut Vec<syn::Error>) {
    for route in routes {
        every_param_has_an_argument(route, errors);
        param_names_are_unique(route, errors);
    }
}

/// A parameter with no argument would be matched and thrown away; almost
/// always a typo in the pattern or the argument name.
fn every_param_has_an_argument(route: &Route, errors: &mut Vec<syn::Error>) {
    for name in route.pattern.param_names() {
        if route.arg(name).is_some() {
            continue;
        }
        let args: Vec<String> = route
            .payload
            .args
            .iter()
            .filter_map(|arg| arg.name.as_ref().map(unraw))
            .collect();
        let hint = match args.as_slice() {
            [] => String::new(),
            names => format!(" (the handler's arguments are {})", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
        };
        let mut err = syn::Error::new(
            route.path_lit().span(),
            format!(
                "route parameter `:{name}` of `{}` has no matching argument{hint}: add an argument `{name}: T` to `{}`, or rename the parameter",
                route.pattern.to_text(),
                route.payload.name,
            ),
        );
        let signature_span = match route.payload.args.first() {
            Some(first) => first.ty.to_token_stream().into_iter().next().map_or(route.payload.name.span(), |t| t.span()),
            None => route.payload.name.span(),
        };
        err.combine(syn::Error::new(signature_span, format!("note: expected an argument named `{name}` here")));
        errors.push(err);
    }
}

/// Two parameters of one name would both want the same argument.
fn param_names_are_unique(route: &Route, errors: &mut Vec<syn::Error>) {
    let names: Vec<&str> = route.pattern.param_names().collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            errors.push(syn::Error::new(
                route.path_lit().span(),
                format!(
                    "route parameter `{name}` appears twice in `{}`: give each parameter its own name",
                    route.pattern.to_text()
                ),
            ));
        }
    }
}
