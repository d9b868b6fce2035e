//! HTTP methods named in `#[route(GET | POST "/x")]`.

use proc_macro2::Ident;

/// The methods `http::Method` has constants for, in the order `Allow` lists them.
pub const STANDARD: [&str; 9] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];

/// Position in `Allow` header order: standard methods first, then others
/// alphabetically.
pub fn allow_rank(name: &str) -> (usize, String) {
    let rank = STANDARD.iter().position(|m| *m == name).unwrap_or(STANDARD.len());
    (rank, name.to_owned())
}

/// Checks a method name: upper-case letters only (extension methods such as
/// `PURGE` are fine, as `http::Method` accepts any token).
pub fn check(ident: &Ident) -> syn::Result<()> {
    let name = ident.to_string();
    let upper = name.to_ascii_uppercase();
    if name.chars().all(|c| c.is_ascii_uppercase()) {
        return Ok(());
    }
    let hint = if STANDARD.contains(&upper.as_str()) {
        format!("write `{upper}`")
    } else {
        format!(
            "write one of {} or an upper-case extension method such as `PURGE`",
            STANDARD.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        )
    };
    Err(syn::Error::new(ident.span(), format!("unknown HTTP method `{name}`: {hint}")))
}
