//! Checks on single routes that need the full pattern (scope prefixes
//! included), so they run in `router!` rather than in `#[route]`.

use quote::ToTokens;

use super::model::{Route, unraw};

/// Runs every check on every route.
pub fn routes(routes: &[Route], errors: &mut Vec<syn::Error>) {
    for route in routes {
        // A service reads the path itself; a mounted router checked its own
        // routes' arguments (the parameters of the prefix it is mounted under
        // are not its handlers' business).
        if route.service.is_none() && route.mounted.is_none() {
            every_param_has_an_argument(route, errors);
        }
        param_names_are_unique(route, errors);
        at_most_max_params(route, errors);
    }
}

/// Must equal `mambo::MAX_PARAMS`.
const MAX_PARAMS: usize = 16;

/// The dispatcher keeps parameter positions inline, so their number is
/// bounded; no real route comes near it.
fn at_most_max_params(route: &Route, errors: &mut Vec<syn::Error>) {
    let count = route.pattern.param_names().count();
    if count > MAX_PARAMS {
        errors.push(syn::Error::new(
            route.path_lit().span(),
            format!(
                "`{}` has {count} parameters; a route may have at most {MAX_PARAMS}: take the rest as a catch-all `*rest` and split it in the handler",
                route.pattern.to_text()
            ),
        ));
    }
}

/// A parameter with no argument would be matched and thrown away; almost
/// always a typo in the pattern or the argument name.
fn every_param_has_an_argument(route: &Route, errors: &mut Vec<syn::Error>) {
    for name in route.pattern.param_names() {
        if route.arg(name).is_some() {
            continue;
        }
        let args: Vec<String> =
            route.payload.args.iter().filter_map(|arg| arg.name.as_ref().map(unraw)).collect();
        let hint = match args.as_slice() {
            [] => String::new(),
            names => format!(
                " (the handler's arguments are {})",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut err = syn::Error::new(
            route.path_lit().span(),
            format!(
                "route parameter `:{name}` of `{}` has no matching argument{hint}: add an argument `{name}: T` to `{}`, or rename the parameter",
                route.pattern.to_text(),
                route.payload.name,
            ),
        );
        let closest = route
            .payload
            .args
            .iter()
            .filter_map(|arg| arg.name.as_ref())
            .filter(|arg| !route.pattern.param_names().any(|p| p == unraw(arg)))
            .map(|arg| (edit_distance(&unraw(arg), name), arg))
            .filter(|(distance, _)| *distance <= 2)
            .min_by_key(|(distance, _)| *distance);
        let note = match closest {
            Some((_, arg)) => syn::Error::new(
                arg.span(),
                format!("note: did you mean `{name}`? `{}` is taken as an extractor", unraw(arg)),
            ),
            None => {
                let span = route.payload.args.first().map_or(route.payload.name.span(), |first| {
                    first.name.as_ref().map_or_else(
                        || {
                            first
                                .ty
                                .to_token_stream()
                                .into_iter()
                                .next()
                                .map_or(route.payload.name.span(), |t| t.span())
                        },
                        |n| n.span(),
                    )
                });
                syn::Error::new(
                    span,
                    format!("note: expected an argument named `{name}` among these"),
                )
            }
        };
        err.combine(note);
        errors.push(err);
    }
}

/// Levenshtein distance, for "did you mean" notes.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
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

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distances() {
        for (a, b, d) in [
            ("slug", "slg", 1),
            ("id", "id", 0),
            ("id", "name", 4),
            ("owner", "ownr", 1),
            ("", "ab", 2),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
    }
}
