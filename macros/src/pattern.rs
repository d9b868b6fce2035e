//! Route patterns: `"/users/:id/files/*path"` → segments.
//!
//! The grammar: a pattern starts with `/`; segments are separated by `/`; a
//! segment is static text, `:name` (one whole segment) or `*name` (the rest
//! of the path, last segment only). A final `/` is a segment of its own (the
//! empty static segment), so `/users` and `/users/` are different routes.

use proc_macro2::Span;
use syn::LitStr;

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// Text that must match exactly; empty only for a trailing slash or `/`.
    Static(String),
    /// `:name`: one non-empty segment.
    Param(String),
    /// `*name`: the non-empty rest of the path, slashes included.
    CatchAll(String),
}

impl Segment {
    /// The parameter name, for `:name` and `*name`.
    pub fn param_name(&self) -> Option<&str> {
        match self {
            Segment::Static(_) => None,
            Segment::Param(name) | Segment::CatchAll(name) => Some(name),
        }
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::Static(text) => f.write_str(text),
            Segment::Param(name) => write!(f, ":{name}"),
            Segment::CatchAll(name) => write!(f, "*{name}"),
        }
    }
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Segments in path order; never empty (`/` is one empty static segment).
    pub segments: Vec<Segment>,
}

impl Pattern {
    /// Whether the last segment is a catch-all `*name`.
    pub fn ends_in_catch_all(&self) -> bool {
        matches!(self.segments.last(), Some(Segment::CatchAll(_)))
    }

    /// Names of the parameters in path order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(Segment::param_name)
    }

    /// The pattern as text, in the user's syntax.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for segment in &self.segments {
            text.push('/');
            text.push_str(&segment.to_string());
        }
        text
    }

    /// This pattern under a scope prefix (`"/admin"` + `"/users"`).
    ///
    /// A scope prefix never ends with a trailing-slash segment (parse_prefix
    /// rejects it), and a route's `/` under a scope means the scope itself.
    pub fn prefixed(&self, prefix: &Pattern) -> Pattern {
        if prefix.segments.is_empty() {
            return self.clone();
        }
        let mut segments = prefix.segments.clone();
        if self.segments != [Segment::Static(String::new())] {
            segments.extend(self.segments.iter().cloned());
        }
        Pattern { segments }
    }
}

/// A pattern error: the message and the span to report it at.
#[derive(Debug)]
pub struct PatternError {
    pub message: String,
}

/// Characters a static segment may hold without escaping (RFC 3986 `pchar`
/// minus `%`, `:` and `*`, which have a meaning here).
fn is_static_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()+,;=@".contains(c)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Parses a route pattern.
pub fn parse(text: &str) -> Result<Pattern, PatternError> {
    let err = |message: String| Err(PatternError { message });
    let Some(rest) = text.strip_prefix('/') else {
        return err(format!("route pattern must start with `/`: write \"/{}\"", text));
    };
    let pieces: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(pieces.len());
    for (index, piece) in pieces.iter().enumerate() {
        let last = index + 1 == pieces.len();
        let segment = if let Some(name) = piece.strip_prefix(':') {
            check_name(name, ':')?;
            Segment::Param(name.to_owned())
        } else if let Some(name) = piece.strip_prefix('*') {
            check_name(name, '*')?;
            if !last {
                return err(format!(
                    "catch-all `*{name}` must be the last segment: it matches the rest of the path, slashes included"
                ));
            }
            Segment::CatchAll(name.to_owned())
        } else if piece.is_empty() {
            if !last {
                return err(format!(
                    "empty segment in route pattern: remove the extra `/` in \"{text}\""
                ));
            }
            Segment::Static(String::new())
        } else {
            check_static(piece)?;
            Segment::Static((*piece).to_owned())
        };
        segments.push(segment);
    }
    Ok(Pattern { segments })
}

/// Parses a scope prefix: a pattern without a trailing slash, or empty.
pub fn parse_prefix(text: &str) -> Result<Pattern, PatternError> {
    if text.is_empty() {
        return Ok(Pattern { segments: Vec::new() });
    }
    let pattern = parse(text)?;
    match pattern.segments.last() {
        Some(Segment::Static(last)) if last.is_empty() => Err(PatternError {
            message: format!(
                "scope prefix must not end with `/`: write \"{}\"",
                text.trim_end_matches('/')
            ),
        }),
        Some(Segment::CatchAll(name)) => Err(PatternError {
            message: format!(
                "scope prefix cannot end with catch-all `*{name}`: routes would never be reached"
            ),
        }),
        _ => Ok(pattern),
    }
}

fn check_name(name: &str, sigil: char) -> Result<(), PatternError> {
    if is_name(name) {
        return Ok(());
    }
    let kind = if sigil == ':' { "parameter" } else { "catch-all" };
    let message = if name.is_empty() {
        format!("{kind} needs a name: write `{sigil}name`")
    } else {
        format!(
            "invalid {kind} name `{sigil}{name}`: a name is a Rust identifier (letters, digits, `_`) and takes the whole segment"
        )
    };
    Err(PatternError { message })
}

fn check_static(piece: &str) -> Result<(), PatternError> {
    match piece.chars().find(|c| !is_static_char(*c)) {
        None => Ok(()),
        Some(c @ (':' | '*')) => Err(PatternError {
            message: format!(
                "`{c}` inside segment `{piece}`: parameters take a whole segment; write `/{c}name`"
            ),
        }),
        Some('%') => Err(PatternError {
            message: format!(
                "percent-escape in segment `{piece}`: write patterns unescaped; request paths are matched as sent"
            ),
        }),
        Some(c) => Err(PatternError {
            message: format!(
                "character {c:?} is not allowed in route segment `{piece}`: use letters, digits and `-._~!$&'()+,;=@`"
            ),
        }),
    }
}

/// The span to report a pattern error at: the whole literal.
///
/// Sub-spans of a literal are only available on nightly compilers, so a
/// stable build points at the whole string.
pub fn error_span(lit: &LitStr) -> Span {
    lit.span()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(text: &str) -> Vec<Segment> {
        parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.message)).segments
    }

    fn fails(text: &str) -> String {
        parse(text).map(|p| format!("{p:?}")).expect_err(text).message
    }

    use Segment::*;

    #[test]
    fn parses_valid_patterns() {
        let s = |x: &str| Static(x.to_owned());
        let p = |x: &str| Param(x.to_owned());
        let rows: Vec<(&str, Vec<Segment>)> = vec![
            ("/", vec![s("")]),
            ("/users", vec![s("users")]),
            ("/users/", vec![s("users"), s("")]),
            ("/users/:id", vec![s("users"), p("id")]),
            ("/users/:id/posts/:slug", vec![s("users"), p("id"), s("posts"), p("slug")]),
            ("/static/*path", vec![s("static"), CatchAll("path".into())]),
            ("/*all", vec![CatchAll("all".into())]),
            ("/a-b.c_d~e", vec![s("a-b.c_d~e")]),
            ("/v1/:_x1", vec![s("v1"), p("_x1")]),
        ];
        for (text, expected) in rows {
            assert_eq!(segs(text), expected, "{text}");
        }
    }

    #[test]
    fn rejects_invalid_patterns_with_a_fix() {
        let rows = [
            ("users", "must start with `/`: write \"/users\""),
            ("/a//b", "empty segment"),
            ("/a/*rest/b", "must be the last segment"),
            ("/a/*rest/", "must be the last segment"),
            ("/a/:", "needs a name"),
            ("/a/*", "needs a name"),
            ("/a/:1x", "invalid parameter name"),
            ("/a/:id-x", "invalid parameter name"),
            ("/a/x:id", "parameters take a whole segment"),
            ("/a/b c", "not allowed"),
            ("/a/%20", "percent-escape"),
            ("/a?b", "not allowed"),
            ("/é", "not allowed"),
        ];
        for (text, expected) in rows {
            let message = fails(text);
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn prefixes_join_with_patterns() {
        let prefix = parse_prefix("/admin/:org").unwrap();
        assert_eq!(parse("/users").unwrap().prefixed(&prefix).to_text(), "/admin/:org/users");
        assert_eq!(parse("/").unwrap().prefixed(&prefix).to_text(), "/admin/:org");
        assert_eq!(parse("/x/").unwrap().prefixed(&prefix).to_text(), "/admin/:org/x/");
        assert_eq!(parse("/x").unwrap().prefixed(&parse_prefix("").unwrap()).to_text(), "/x");
        assert!(parse_prefix("/admin/").unwrap_err().message.contains("write \"/admin\""));
        assert!(parse_prefix("/a/*x").is_err());
    }

    #[test]
    fn round_trips_to_text() {
        for text in ["/", "/a", "/a/", "/a/:b/*c", "/:x/y"] {
            assert_eq!(parse(text).unwrap().to_text(), text);
        }
    }
}
