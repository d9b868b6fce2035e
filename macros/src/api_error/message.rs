//! Splitting a `message = "..."` format string into text and field
//! references, so the checks can tell which fields it names and the
//! expansion can rewrite `{0}` into a binding name.

use super::model::{FieldRef, Piece};

/// Parses the format string `text`.
///
/// Follows `format!`'s syntax: `{{` and `}}` are braces, `{}` is the next
/// positional field, `{0}` a positional field, `{name}` a named one, and a
/// `:spec` after any of them is kept as is.
///
/// # Errors
///
/// A message saying what is wrong (an unclosed `{`, a stray `}`, a name that
/// is neither a number nor an identifier).
pub(crate) fn parse(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut next_implicit = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|&(_, next)| next == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|&(_, next)| next == '}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(format!(
                    "`message` has a `}}` with no `{{` at byte {at}; write `}}}}` for a literal `}}`"
                ));
            }
            '{' => {
                let rest = &text[at + 1..];
                let Some(end) = rest.find('}') else {
                    return Err(
                        "`message` has a `{` that is never closed; write `{{` for a literal `{`"
                            .to_owned(),
                    );
                };
                let inside = &rest[..end];
                for _ in 0..inside.chars().count() + 1 {
                    chars.next();
                }
                let (name, spec) = inside.split_once(':').unwrap_or((inside, ""));
                let name = name.trim();
                let field = if name.is_empty() {
                    next_implicit += 1;
                    FieldRef::Index(next_implicit - 1)
                } else if name.bytes().all(|b| b.is_ascii_digit()) {
                    FieldRef::Index(
                        name.parse().map_err(|_| {
                            format!("`{{{name}}}` in `message` is not a field index")
                        })?,
                    )
                } else if is_identifier(name) {
                    FieldRef::Named(name.to_owned())
                } else {
                    return Err(format!(
                        "`{{{inside}}}` in `message` does not name a field; write `{{0}}` for a positional field or `{{name}}` for a named one"
                    ));
                };
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field { field, spec: spec.to_owned() });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.to_owned())
    }

    fn field(field: FieldRef, spec: &str) -> Piece {
        Piece::Field { field, spec: spec.to_owned() }
    }

    #[test]
    fn splits_text_and_fields() {
        let rows: &[(&str, Vec<Piece>)] = &[
            ("plain", vec![text("plain")]),
            ("", vec![]),
            (
                "user {0} not found",
                vec![text("user "), field(FieldRef::Index(0), ""), text(" not found")],
            ),
            ("{name:?}!", vec![field(FieldRef::Named("name".into()), "?"), text("!")]),
            (
                "{} and {}",
                vec![field(FieldRef::Index(0), ""), text(" and "), field(FieldRef::Index(1), "")],
            ),
            (
                "{{literal}} {x:>8}",
                vec![text("{literal} "), field(FieldRef::Named("x".into()), ">8")],
            ),
            ("é{0}ü", vec![text("é"), field(FieldRef::Index(0), ""), text("ü")]),
        ];
        for (input, expected) in rows {
            assert_eq!(&parse(input).unwrap(), expected, "{input:?}");
        }
    }

    #[test]
    fn rejects_bad_braces_and_names() {
        let rows = [
            ("open { never closed", "never closed"),
            ("stray } brace", "with no `{`"),
            ("{not a name}", "does not name a field"),
            ("{-1}", "does not name a field"),
        ];
        for (input, expected) in rows {
            let err = parse(input).unwrap_err();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }
}
