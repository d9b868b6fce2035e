//! Route options: `#[route(POST "/users", body_limit = "64KiB", timeout = "2s")]`.

use proc_macro2::Span;
use syn::{Ident, LitStr};

/// The options a route may set, with what each takes.
pub const KNOWN: [(&str, &str); 2] = [
    ("body_limit", "a size such as \"64KiB\", \"2MiB\" or \"1000\" (bytes)"),
    ("timeout", "a duration such as \"500ms\", \"2s\" or \"1m\""),
];

/// Validated options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Request body limit in bytes.
    pub body_limit: Option<u64>,
    /// Handler deadline in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// Applies `name = value` to `options`.
pub fn apply(options: &mut Options, name: &Ident, value: &LitStr) -> syn::Result<()> {
    let text = value.value();
    let bad_value = |what: &str| {
        syn::Error::new(value.span(), format!("invalid `{name}` value \"{text}\": expected {what}"))
    };
    let duplicate = || syn::Error::new(name.span(), format!("option `{name}` is given twice"));
    match name.to_string().as_str() {
        "body_limit" => {
            if options.body_limit.is_some() {
                return Err(duplicate());
            }
            options.body_limit = Some(parse_size(&text).ok_or_else(|| bad_value(KNOWN[0].1))?);
        }
        "timeout" => {
            if options.timeout_ms.is_some() {
                return Err(duplicate());
            }
            options.timeout_ms =
                Some(parse_duration_ms(&text).ok_or_else(|| bad_value(KNOWN[1].1))?);
        }
        _ => return Err(unknown(name.span(), &name.to_string())),
    }
    Ok(())
}

fn unknown(span: Span, name: &str) -> syn::Error {
    let known = KNOWN
        .iter()
        .map(|(option, takes)| format!("`{option}` ({takes})"))
        .collect::<Vec<_>>()
        .join(", ");
    syn::Error::new(span, format!("unknown route option `{name}`: the options are {known}"))
}

fn split_number(text: &str) -> Option<(u64, &str)> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let number = text[..digits].parse().ok()?;
    Some((number, text[digits..].trim()))
}

/// `"64KiB"` → 65536. Units: none/`B`, `KB`/`MB`/`GB` (powers of 1000),
/// `KiB`/`MiB`/`GiB` (powers of 1024). Zero is refused.
pub fn parse_size(text: &str) -> Option<u64> {
    let (number, unit) = split_number(text)?;
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor).filter(|n| *n > 0)
}

/// `"2s"` → 2000. Units: `ms`, `s`, `m`, `h`. Zero is refused.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let (number, unit) = split_number(text)?;
    let factor: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    number.checked_mul(factor).filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let rows = [
            ("64KiB", Some(65_536)),
            ("2MiB", Some(2 << 20)),
            ("1000", Some(1000)),
            ("10 KB", Some(10_000)),
            ("1GiB", Some(1 << 30)),
            ("0", None),
            ("12XB", None),
            ("KiB", None),
            ("-1", None),
            ("99999999999999999999GiB", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_size(text), expected, "{text}");
        }
    }

    #[test]
    fn durations() {
        let rows = [
            ("500ms", Some(500)),
            ("2s", Some(2000)),
            ("1m", Some(60_000)),
            ("1h", Some(3_600_000)),
            ("2", None),
            ("0s", None),
            ("1d", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_duration_ms(text), expected, "{text}");
        }
    }
}
