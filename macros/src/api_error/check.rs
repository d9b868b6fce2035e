//! The rules a derived `ApiError` must follow, one function per rule. Each
//! records its errors and lets the others run, so one build reports them all.

use quote::ToTokens as _;

use super::Errors;
use super::model::{Case, ErrorType, Kind, Piece, Style};

/// Runs every rule.
pub(crate) fn check(ty: &ErrorType<'_>, errors: &mut Errors) {
    api_is_on_structs_and_variants_only(ty, errors);
    from_is_on_a_field(ty, errors);
    for case in &ty.cases {
        every_case_has_api(ty, case, errors);
        api_is_not_repeated(case, errors);
        code_and_message_are_given(ty, case, errors);
        code_maps_to_an_error_status(case, errors);
        status_is_an_error_status(case, errors);
        message_names_existing_fields(ty, case, errors);
        at_most_one_source(case, errors);
        from_field_is_alone(ty, case, errors);
    }
    from_types_are_distinct(ty, errors);
}

/// The HTTP status a code stands for: a 3-digit code is the status, a 5-digit
/// code's first three digits are; only 4xx and 5xx are error statuses.
///
/// Mirrors `mambo::error::status_from_code`, which falls back to 500 at run
/// time for a code that does not map; here, such a code is refused instead.
pub(crate) fn status_of_code(code: u32) -> Option<u32> {
    match code {
        400..=599 => Some(code),
        40_000..=59_999 => Some(code / 100),
        _ => None,
    }
}

/// `#[api]` only means something on a struct or a variant: one on an enum
/// or a field would be silently ignored, which hides a mistake.
fn api_is_on_structs_and_variants_only(ty: &ErrorType<'_>, errors: &mut Errors) {
    for attr in &ty.misplaced_api {
        errors.spanned(
            attr,
            "`#[api(...)]` on an enum has no effect; put one on each variant instead",
        );
    }
    for field in ty.cases.iter().flat_map(|case| &case.fields) {
        for attr in &field.misplaced_api {
            let place = if ty.kind == Kind::Enum { "variant" } else { "struct" };
            errors.spanned(attr, format!("`#[api(...)]` goes on the {place}, not on a field"));
        }
    }
}

/// Every error needs its code and message; there is no sensible default.
fn every_case_has_api(ty: &ErrorType<'_>, case: &Case<'_>, errors: &mut Errors) {
    if case.api.is_some() {
        return;
    }
    let what = match case.variant {
        Some(_) => format!("variant `{}`", case.display_name(ty.ident)),
        None => format!("`{}`", ty.ident),
    };
    errors.error(
        case.ident.span(),
        format!(
            "{what} has no `#[api(...)]`; add `#[api(code = 40420, message = \"...\")]` above it"
        ),
    );
}

/// Two `#[api]` on one case would leave it unclear which one counts.
fn api_is_not_repeated(case: &Case<'_>, errors: &mut Errors) {
    for attr in &case.duplicate_api {
        errors.spanned(attr, "a second `#[api(...)]` on the same item; merge it into the first");
    }
}

/// `code` and `message` are both required; `status` is optional.
fn code_and_message_are_given(ty: &ErrorType<'_>, case: &Case<'_>, errors: &mut Errors) {
    let Some(api) = &case.api else { return };
    if api.malformed {
        return;
    }
    let name = case.display_name(ty.ident);
    if api.code.is_none() {
        errors.spanned(&api.tokens, format!("`#[api]` of `{name}` has no `code`; add `code = 40420` (the status, then two digits of your own)"));
    }
    if api.message.is_none() {
        errors.spanned(
            &api.tokens,
            format!("`#[api]` of `{name}` has no `message`; add `message = \"...\"`"),
        );
    }
}

/// The status is derived from the code, so a code must name a 4xx or 5xx
/// status, unless the status is given explicitly.
fn code_maps_to_an_error_status(case: &Case<'_>, errors: &mut Errors) {
    let Some(api) = &case.api else { return };
    let (Some(code), None) = (api.code, api.status) else { return };
    if status_of_code(code.value).is_none() {
        errors.error(
            code.span,
            format!(
                "code `{}` does not map to a 4xx or 5xx status; write the status (`404`) or the status followed by two digits (`40401`), or give the status with `status = 404`",
                code.value
            ),
        );
    }
}

/// An explicit status must be an error status: a 2xx "error" would reach
/// clients as success.
fn status_is_an_error_status(case: &Case<'_>, errors: &mut Errors) {
    let Some(status) = case.api.as_ref().and_then(|api| api.status) else { return };
    if !(400..=599).contains(&status.value) {
        errors.error(
            status.span,
            format!(
                "`status = {}` is not an error status; use a status from 400 to 599",
                status.value
            ),
        );
    }
}

/// A message can only show the case's own fields.
fn message_names_existing_fields(ty: &ErrorType<'_>, case: &Case<'_>, errors: &mut Errors) {
    let Some(message) = case.api.as_ref().and_then(|api| api.message.as_ref()) else { return };
    let name = case.display_name(ty.ident);
    for piece in &message.pieces {
        let Piece::Field { field, .. } = piece else { continue };
        if case.field(field).is_some() {
            continue;
        }
        let text = match field {
            super::model::FieldRef::Index(index) => format!("{{{index}}}"),
            super::model::FieldRef::Named(named) => format!("{{{named}}}"),
        };
        let hint = match (case.style, case.fields.len()) {
            (Style::Unit, _) | (_, 0) => {
                format!("`{name}` has no fields; write `{{{{` for a literal brace")
            }
            (Style::Tuple, 1) => "use `{0}`".to_owned(),
            (Style::Tuple, n) => format!("use `{{0}}` to `{{{}}}`", n - 1),
            (Style::Named, _) => {
                let names = case
                    .fields
                    .iter()
                    .map(|field| match &field.member {
                        syn::Member::Named(ident) => format!("`{{{ident}}}`"),
                        syn::Member::Unnamed(index) => format!("`{{{}}}`", index.index),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("use one of {names}")
            }
        };
        errors.error(
            message.lit.span(),
            format!("`{text}` in `message` names no field of `{name}`; {hint}"),
        );
    }
}

/// `Error::source` returns one error; two `#[source]` fields would have to
/// drop one silently. A `#[from]` field is the source too; one field with
/// both attributes is one source.
fn at_most_one_source(case: &Case<'_>, errors: &mut Errors) {
    let mut sources = case.fields.iter().filter(|field| field.is_source());
    let Some(_first) = sources.next() else { return };
    for field in sources {
        let attr = field.source.first().or(field.from.first()).expect("a source field");
        errors.spanned(attr, "only one field can be the `#[source]`; remove the others");
    }
}

/// `#[from]` says which value the `From` impl takes: a field. Above a
/// variant, a struct or the enum it names nothing, and ignoring it would
/// hide the missing impl until the first `?` that needs it.
fn from_is_on_a_field(ty: &ErrorType<'_>, errors: &mut Errors) {
    for attr in &ty.misplaced_from {
        errors.spanned(
            attr,
            "`#[from]` goes on a variant's field, not on the enum; write `Variant(#[from] SourceError)`",
        );
    }
    for case in &ty.cases {
        let Some(attr) = case.misplaced_from.first() else { continue };
        let name = case.display_name(ty.ident);
        let place = if case.variant.is_some() { "variant" } else { "struct" };
        // With one field, the fix written out on that field.
        let fields = match (case.fields.as_slice(), case.style) {
            ([field], Style::Named) => {
                format!(" {{ #[from] {}: {} }}", field.member.to_token_stream(), field.type_text())
            }
            ([field], _) => format!("(#[from] {})", field.type_text()),
            _ => "(#[from] SourceError)".to_owned(),
        };
        let example = match case.variant {
            Some(variant) => format!("{variant}{fields}"),
            None => format!("struct {}{fields}", ty.ident),
        };
        let message = if case.fields.is_empty() {
            format!(
                "`#[from]` goes on the field that holds the source, and `{name}` has none; write `{example}`"
            )
        } else {
            format!(
                "`#[from]` goes on the field that holds the source, not on the {place}; write `{example}`"
            )
        };
        for attr in std::iter::once(attr).chain(&case.misplaced_from[1..]) {
            errors.spanned(attr, &message);
        }
    }
}

/// `From<T>` builds the whole value from one `T`: the other fields would
/// have no value to take.
fn from_field_is_alone(ty: &ErrorType<'_>, case: &Case<'_>, errors: &mut Errors) {
    if case.fields.len() < 2 {
        return;
    }
    let name = case.display_name(ty.ident);
    for attr in case.fields.iter().flat_map(|field| &field.from) {
        errors.spanned(
            attr,
            format!(
                "`#[from]` needs `{name}` to have exactly one field, and it has {}: `From` builds the whole value from the source alone; mark the field `#[source]` instead and build `{name}` by hand (`.map_err(|e| ...)`)",
                case.fields.len()
            ),
        );
    }
}

/// Two `#[from]` fields of one type would be two `From` impls for the same
/// type, which conflict; rustc's error would point at the derive, not at
/// the attribute to remove. Types are compared as written: `io::Error` and
/// `std::io::Error` are left to rustc.
fn from_types_are_distinct(ty: &ErrorType<'_>, errors: &mut Errors) {
    let mut seen: Vec<(String, String, &proc_macro2::TokenStream)> = Vec::new();
    for case in &ty.cases {
        for field in &case.fields {
            let Some(attr) = field.from.first() else { continue };
            let field_ty = field.type_text();
            let name = case.display_name(ty.ident);
            match seen.iter().find(|(seen_ty, ..)| *seen_ty == field_ty) {
                Some((_, first, first_attr)) => {
                    errors.spanned(
                        attr,
                        format!(
                            "`{first}` and `{name}` both have `#[from] {field_ty}`, and one type converts into `{}` one way only; keep `#[from]` on one and mark the other `#[source]`, built by hand (`.map_err({name})`)",
                            ty.ident
                        ),
                    );
                    errors.spanned(
                        *first_attr,
                        format!("note: `{first}` already converts from `{field_ty}` here"),
                    );
                }
                None => seen.push((field_ty, name, attr)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_of_code_table() {
        let rows = [
            (404, Some(404)),
            (400, Some(400)),
            (599, Some(599)),
            (40401, Some(404)),
            (40000, Some(400)),
            (59999, Some(599)),
            (50301, Some(503)),
            (200, None),
            (399, None),
            (600, None),
            (4041, None),
            (20001, None),
            (60000, None),
            (404_010, None),
            (0, None),
        ];
        for (code, status) in rows {
            assert_eq!(status_of_code(code), status, "code {code}");
        }
    }
}
