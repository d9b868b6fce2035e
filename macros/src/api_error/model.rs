//! What `#[derive(ApiError)]` knows about the type, after parsing. Each
//! piece keeps the span of the tokens it came from, for the checks' errors.

use proc_macro2::{Span, TokenStream};
use syn::{Generics, Ident, LitStr, Member};

/// The type being derived.
pub(crate) struct ErrorType<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// Its generics, copied onto every impl.
    pub(crate) generics: &'a Generics,
    /// A struct is one [`Case`]; an enum has one per variant.
    pub(crate) kind: Kind,
    /// The cases in declaration order.
    pub(crate) cases: Vec<Case<'a>>,
    /// `#[api]` attributes on the enum itself, which have no effect there.
    pub(crate) misplaced_api: Vec<TokenStream>,
    /// `#[from]` attributes on the enum itself, which belong on a field.
    pub(crate) misplaced_from: Vec<TokenStream>,
}

/// Whether the type is a struct or an enum.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `struct`: the one case is the struct itself.
    Struct,
    /// `enum`: one case per variant.
    Enum,
}

/// A struct, or one variant of an enum: something that is one error.
pub(crate) struct Case<'a> {
    /// The variant's name, or the struct's.
    pub(crate) ident: &'a Ident,
    /// `None` for a struct (the case is `Self`), `Some(variant)` for a variant.
    pub(crate) variant: Option<&'a Ident>,
    /// How the fields are written.
    pub(crate) style: Style,
    /// The fields in declaration order.
    pub(crate) fields: Vec<Field>,
    /// The `#[api(...)]` attribute; `None` when there is none.
    pub(crate) api: Option<ApiAttr>,
    /// Extra `#[api]` attributes (only one is allowed).
    pub(crate) duplicate_api: Vec<TokenStream>,
    /// `#[from]` attributes on the variant or struct itself, which belong
    /// on its field.
    pub(crate) misplaced_from: Vec<TokenStream>,
}

/// How a case's fields are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Style {
    /// No fields: `Timeout`.
    Unit,
    /// Positional fields: `NotFound(u64)`.
    Tuple,
    /// Named fields: `Conflict { name: String }`.
    Named,
}

/// One field of a case.
pub(crate) struct Field {
    /// `name` or `0`.
    pub(crate) member: Member,
    /// Its type, for the `From` impl of a `#[from]` field.
    pub(crate) ty: syn::Type,
    /// Its `#[source]` attributes.
    pub(crate) source: Vec<TokenStream>,
    /// Its `#[from]` attributes: the field is the source, and the type gets
    /// `From<field type>`.
    pub(crate) from: Vec<TokenStream>,
    /// `#[api]` attributes on it, which are not allowed.
    pub(crate) misplaced_api: Vec<TokenStream>,
}

impl Field {
    /// Whether `Error::source` returns this field: `#[source]` or `#[from]`.
    pub(crate) fn is_source(&self) -> bool {
        !self.source.is_empty() || !self.from.is_empty()
    }

    /// The field's type as the user would write it (`std::io::Error`,
    /// `Box<dyn Error + Send>`), for messages and to compare `#[from]`
    /// types.
    pub(crate) fn type_text(&self) -> String {
        let text = quote::ToTokens::to_token_stream(&self.ty).to_string();
        [(" :: ", "::"), (":: ", "::"), (" < ", "<"), (" <", "<"), ("< ", "<"), (" >", ">")]
            .into_iter()
            .chain([(" ,", ","), ("& ", "&")])
            .fold(text, |text, (from, to)| text.replace(from, to))
    }
}

/// `#[api(code = .., message = "..", status = ..)]` as written; every key is
/// optional here, the checks say which are required.
pub(crate) struct ApiAttr {
    /// The whole attribute, for errors about a missing key.
    pub(crate) tokens: TokenStream,
    /// Whether a key failed to parse; a key that is then missing has
    /// already been reported.
    pub(crate) malformed: bool,
    /// `code = 40401`.
    pub(crate) code: Option<Spanned<u32>>,
    /// `message = "..."`.
    pub(crate) message: Option<Message>,
    /// `status = 503`.
    pub(crate) status: Option<Spanned<u32>>,
}

/// A number and the span of the literal it was written as.
#[derive(Clone, Copy)]
pub(crate) struct Spanned<T> {
    /// The value.
    pub(crate) value: T,
    /// The literal's span.
    pub(crate) span: Span,
}

/// The `message` format string, split into text and field references.
pub(crate) struct Message {
    /// The literal as written.
    pub(crate) lit: LitStr,
    /// Its pieces, in order.
    pub(crate) pieces: Vec<Piece>,
}

/// A piece of a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text, with `{{` and `}}` already unescaped.
    Text(String),
    /// `{field}` or `{0}` (or `{}`), with its format spec (`:?`, `:>8`), if any.
    Field {
        /// Which field.
        field: FieldRef,
        /// What follows the `:`, without it; empty when there is none.
        spec: String,
    },
}

/// How a message names a field.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(crate) enum FieldRef {
    /// `{0}`, or the n-th `{}`.
    Index(usize),
    /// `{name}`.
    Named(String),
}

impl Case<'_> {
    /// The field a message refers to, if the case has it.
    pub(crate) fn field(&self, field: &FieldRef) -> Option<&Field> {
        self.fields.iter().find(|candidate| match (&candidate.member, field) {
            (Member::Named(ident), FieldRef::Named(name)) => ident == name,
            (Member::Unnamed(index), FieldRef::Index(n)) => index.index as usize == *n,
            _ => false,
        })
    }

    /// The field marked `#[source]` or `#[from]`, if any.
    pub(crate) fn source(&self) -> Option<&Field> {
        self.fields.iter().find(|field| field.is_source())
    }

    /// The field marked `#[from]`, if any.
    pub(crate) fn field_with_from(&self) -> Option<&Field> {
        self.fields.iter().find(|field| !field.from.is_empty())
    }

    /// `Foo` for a struct, `Foo::Bar` for a variant: how errors name the case.
    pub(crate) fn display_name(&self, ty: &Ident) -> String {
        match self.variant {
            Some(variant) => format!("{ty}::{variant}"),
            None => ty.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_text_reads_like_the_source() {
        let rows = [
            ("std::io::Error", "std::io::Error"),
            (
                "Box<dyn std::error::Error + Send + Sync>",
                "Box<dyn std::error::Error + Send + Sync>",
            ),
            ("Result<u8, String>", "Result<u8, String>"),
            ("&'static str", "&'static str"),
            ("Vec<Vec<u8>>", "Vec<Vec<u8>>"),
        ];
        for (written, expected) in rows {
            let field = Field {
                member: Member::Unnamed(syn::Index::from(0)),
                ty: syn::parse_str(written).unwrap(),
                source: Vec::new(),
                from: Vec::new(),
                misplaced_api: Vec::new(),
            };
            assert_eq!(field.type_text(), expected, "{written}");
        }
    }
}
