//! `#[derive(ApiError)]`.
//!
//! Stages, one module each: [`parse`] reads the `#[api(...)]`, `#[source]`
//! and `#[from]` attributes into the [`model`]; [`check`] applies the rules
//! (one function per rule); [`expand`] generates the impls from the model
//! alone. Every problem found is collected before stopping, and a fallback
//! that compiles is emitted beside the errors, so one typo gives one error,
//! not one per use of the type.
//!
//! For
//!
//! ```text
//! #[derive(Debug, ApiError)]
//! enum AppError {
//!     #[api(code = 40401, message = "user {0} not found")]
//!     UserNotFound(u64),
//!     #[api(code = 50320, message = "database unavailable")]
//!     Db(#[from] DbError),
//! }
//! ```
//!
//! the derive implements `mambo::ApiError` (code, message, status derived at
//! compile time), `Display` (the message), `std::error::Error` (with
//! `source`), `mambo::IntoResponse` (the JSON error body, with the source
//! chain in the 5xx's report) and, for each `#[from]` field, `From`.

mod check;
mod expand;
mod message;
mod model;
mod parse;

use proc_macro2::TokenStream;

/// Collects errors, like serde's `Ctxt`: every stage pushes what it finds and
/// the derive stops once, at the end, with all of them.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records an error at `span`.
    pub(crate) fn error(&mut self, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error spanning all of `tokens` (an attribute: the span
    /// of its first token alone would point at the `#`).
    pub(crate) fn spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        message: impl std::fmt::Display,
    ) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// How many errors were recorded.
    pub(crate) fn count(&self) -> usize {
        self.0.as_ref().map_or(0, |errors| errors.into_iter().count())
    }

    /// The errors recorded, combined; `None` when there are none.
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}

/// The derive's entry point.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let mut errors = Errors::default();
    let model = parse::parse(&input, &mut errors);
    if let Some(model) = &model {
        check::check(model, &mut errors);
    }
    match (&model, errors.into_error()) {
        (Some(model), None) => expand::expand(model),
        (_, error) => {
            let error = error.map(|err| err.to_compile_error());
            let fallback = expand::fallback(&input, model.as_ref());
            quote::quote!(#error #fallback)
        }
    }
}
