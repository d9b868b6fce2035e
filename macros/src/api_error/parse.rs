//! Tokens → [`model`](super::model): reads `#[api(...)]`, `#[source]` and
//! `#[from]`.
//!
//! Parsing records every malformed attribute in [`Errors`] and goes on, so the
//! checks still run on the rest of the type.

use quote::ToTokens as _;
use syn::spanned::Spanned as _;
use syn::{Attribute, Data, DeriveInput, Fields, LitInt, LitStr, Member};

use super::Errors;
use super::message;
use super::model::{ApiAttr, Case, ErrorType, Field, Kind, Message, Spanned, Style};

/// Reads the derive input; `None` when it cannot be an `ApiError` at all (a
/// union).
pub(crate) fn parse<'a>(input: &'a DeriveInput, errors: &mut Errors) -> Option<ErrorType<'a>> {
    let (kind, cases, misplaced_api) = match &input.data {
        Data::Struct(data) => {
            let case = parse_case(&input.ident, None, &input.attrs, &data.fields, errors);
            (Kind::Struct, vec![case], Vec::new())
        }
        Data::Enum(data) => {
            let cases = data
                .variants
                .iter()
                .map(|variant| {
                    parse_case(
                        &variant.ident,
                        Some(&variant.ident),
                        &variant.attrs,
                        &variant.fields,
                        errors,
                    )
                })
                .collect();
            let misplaced = api_attrs(&input.attrs).map(Attribute::to_token_stream).collect();
            for attr in source_attrs(&input.attrs) {
                errors.spanned(attr, "`#[source]` goes on a field, not on the enum");
            }
            (Kind::Enum, cases, misplaced)
        }
        Data::Union(data) => {
            errors.error(
                data.union_token.span,
                "`ApiError` cannot be derived for a union; use a struct or an enum",
            );
            return None;
        }
    };
    // On a struct, `#[from]` above it is the struct's case's business.
    let misplaced_from = match kind {
        Kind::Enum => from_attrs(&input.attrs).map(Attribute::to_token_stream).collect(),
        Kind::Struct => Vec::new(),
    };
    Some(ErrorType {
        ident: &input.ident,
        generics: &input.generics,
        kind,
        cases,
        misplaced_api,
        misplaced_from,
    })
}

fn api_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("api"))
}

fn source_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("source"))
}

fn from_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("from"))
}

/// The tokens of `attrs` named `name`, each checked to take no arguments.
fn flag_attrs<'a>(
    attrs: impl Iterator<Item = &'a Attribute>,
    name: &str,
    errors: &mut Errors,
) -> Vec<proc_macro2::TokenStream> {
    attrs
        .map(|attr| {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                errors.spanned(
                    &attr.meta,
                    format!("`#[{name}]` takes no arguments; write `#[{name}]`"),
                );
            }
            attr.to_token_stream()
        })
        .collect()
}

fn parse_case<'a>(
    ident: &'a syn::Ident,
    variant: Option<&'a syn::Ident>,
    attrs: &'a [Attribute],
    fields: &'a Fields,
    errors: &mut Errors,
) -> Case<'a> {
    let mut api_attrs = api_attrs(attrs);
    let api = api_attrs.next().map(|attr| parse_api(attr, errors));
    let duplicate_api = api_attrs.map(Attribute::to_token_stream).collect();
    for attr in source_attrs(attrs) {
        let place = if variant.is_some() { "variant" } else { "struct" };
        errors.spanned(attr, format!("`#[source]` goes on a field, not on the {place}"));
    }
    let style = match fields {
        Fields::Unit => Style::Unit,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Named(_) => Style::Named,
    };
    let misplaced_from = from_attrs(attrs).map(Attribute::to_token_stream).collect();
    let fields = fields
        .iter()
        .enumerate()
        .map(|(index, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index { index: index as u32, span: field.ty.span() }),
            },
            ty: field.ty.clone(),
            source: flag_attrs(source_attrs(&field.attrs), "source", errors),
            from: flag_attrs(from_attrs(&field.attrs), "from", errors),
            misplaced_api: api_attrs_of(&field.attrs),
        })
        .collect();
    Case { ident, variant, style, fields, api, duplicate_api, misplaced_from }
}

fn api_attrs_of(attrs: &[Attribute]) -> Vec<proc_macro2::TokenStream> {
    api_attrs(attrs).map(Attribute::to_token_stream).collect()
}

/// Reads `#[api(code = .., message = "..", status = ..)]`, recording every
/// problem and keeping the keys that parsed.
fn parse_api(attr: &Attribute, errors: &mut Errors) -> ApiAttr {
    let mut api = ApiAttr {
        tokens: attr.to_token_stream(),
        malformed: false,
        code: None,
        message: None,
        status: None,
    };
    let before = errors.count();
    if !matches!(attr.meta, syn::Meta::List(_)) {
        errors.spanned(
            attr,
            "`#[api]` needs a code and a message; write `#[api(code = 40401, message = \"...\")]`",
        );
        return api;
    }
    let result = attr.parse_nested_meta(|meta| {
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        match key.as_str() {
            "code" | "status" => {
                let lit = meta.value()?.parse::<syn::Lit>()?;
                let Some(number) = number(&lit, &key, errors) else { return Ok(()) };
                let slot = if key == "code" { &mut api.code } else { &mut api.status };
                if slot.is_some() {
                    errors.error(meta.path.span(), format!("`{key}` is given twice; keep one"));
                } else {
                    *slot = Some(number);
                }
            }
            "message" => {
                let value = meta.value()?;
                let lit = match value.parse::<syn::Lit>()? {
                    syn::Lit::Str(lit) => lit,
                    other => {
                        errors.error(
                            other.span(),
                            "`message` must be a string literal, like `message = \"user {0} not found\"`",
                        );
                        return Ok(());
                    }
                };
                if api.message.is_some() {
                    errors.error(meta.path.span(), "`message` is given twice; keep one");
                    return Ok(());
                }
                match parse_message(lit) {
                    Ok(message) => api.message = Some(message),
                    Err(err) => errors.push(err),
                }
            }
            _ => {
                let written = path_text(&meta.path);
                let advice = match closest_key(&written) {
                    Some(key) => format!("did you mean `{key}`?"),
                    None => "expected `code`, `message` or `status`".to_owned(),
                };
                errors.error(meta.path.span(), format!("unknown key `{written}` in `#[api(...)]`; {advice}"));
                // Skips the value so the keys after it are still read.
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                } else if meta.input.peek(syn::token::Paren) {
                    meta.parse_nested_meta(|_| Ok(()))?;
                }
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        errors.push(err);
    }
    api.malformed = errors.count() > before;
    api
}

/// The known key `written` is probably a typo of: at most two edits away.
fn closest_key(written: &str) -> Option<&'static str> {
    ["code", "message", "status"]
        .into_iter()
        .map(|key| (edit_distance(written, key), key))
        .filter(|&(distance, _)| distance <= 2)
        .min()
        .map(|(_, key)| key)
}

/// Levenshtein distance, over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

fn path_text(path: &syn::Path) -> String {
    path.segments.iter().map(|segment| segment.ident.to_string()).collect::<Vec<_>>().join("::")
}

fn number(lit: &syn::Lit, key: &str, errors: &mut Errors) -> Option<Spanned<u32>> {
    let example = if key == "code" { "code = 40401" } else { "status = 503" };
    let parsed = match lit {
        syn::Lit::Int(int) => parse_int(int),
        _ => None,
    };
    if parsed.is_none() {
        errors.error(lit.span(), format!("`{key}` must be a whole number, like `{example}`"));
    }
    parsed.map(|value| Spanned { value, span: lit.span() })
}

fn parse_int(int: &LitInt) -> Option<u32> {
    if !int.suffix().is_empty() && int.suffix() != "u32" {
        return None;
    }
    int.base10_parse().ok()
}

fn parse_message(lit: LitStr) -> syn::Result<Message> {
    match message::parse(&lit.value()) {
        Ok(pieces) => Ok(Message { lit, pieces }),
        Err(reason) => Err(syn::Error::new(lit.span(), reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        let rows = [
            ("mesage", Some("message")),
            ("satus", Some("status")),
            ("cod", Some("code")),
            ("Code", Some("code")),
            ("error", None),
            ("msg", None),
        ];
        for (written, expected) in rows {
            assert_eq!(closest_key(written), expected, "{written}");
        }
    }
}
