//! Path parameters as typed handler arguments.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// A type a path parameter can be parsed into.
///
/// Implemented for `&str`, `String`, `Cow<str>`, every integer and float
/// type, `bool`, `char` and [`SafePath`](super::SafePath) (a relative file
/// path that cannot leave its directory). The value is percent-decoded
/// before it is parsed, `*name` catch-alls included: `%2e%2e%2f` arrives
/// as `../`.
///
/// # Examples
///
/// ```
/// use mambo::extract::{FromParam, ParamError};
///
/// /// A slug: lowercase letters, digits and `-`.
/// struct Slug(String);
///
/// impl<'a> FromParam<'a> for Slug {
///     fn from_param(value: &'a str) -> Result<Self, ParamError> {
///         if value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
///             Ok(Slug(value.to_owned()))
///         } else {
///             Err(ParamError::invalid("a slug (a-z, 0-9, -)"))
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be parsed from a path parameter",
    label = "`{Self}` does not implement `FromParam`",
    note = "path parameters parse into `&str`, `String`, integers, floats, `bool`, `char`, or any type that implements `mambo::extract::FromParam`"
)]
pub trait FromParam<'a>: Sized {
    /// Parses the decoded value.
    ///
    /// # Errors
    ///
    /// A [`ParamError`] saying what was expected; the client gets a 400.
    fn from_param(value: &'a str) -> Result<Self, ParamError>;
}

/// The code of a path parameter that did not decode or parse.
const PATH_PARAM_CODE: u32 = 40001;

/// Why a path parameter did not parse: what was expected, and the error
/// code the client gets (40001 unless the type chose its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    expected: Cow<'static, str>,
    code: u32,
}

impl ParamError {
    /// The value is not `expected` (e.g. `"an unsigned integer"`); the
    /// client gets a 400 with code `40001`.
    pub fn invalid(expected: impl Into<Cow<'static, str>>) -> Self {
        ParamError { expected: expected.into(), code: PATH_PARAM_CODE }
    }

    /// The value is not `expected`, answered with a 400 whose code is `code`
    /// instead of `40001`: for a type whose refusals a client should tell
    /// apart (see [`SafePath`](super::SafePath), `40011`). Pick a code that
    /// maps to 400 and is not one of Mambo's (see the
    /// [code table](crate::extract::rejection)).
    pub fn with_code(code: u32, expected: impl Into<Cow<'static, str>>) -> Self {
        ParamError { expected: expected.into(), code }
    }

    /// What the parameter should have been.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// The error code the client gets: `40001` unless given with
    /// [`with_code`](Self::with_code).
    pub fn code(&self) -> u32 {
        self.code
    }
}

/// The 400 for the path parameter `name` that failed to parse with `error`.
pub(crate) fn reject_param(name: &'static str, error: ParamError) -> Response {
    let rejection = PathParamRejection { name, expected: error.expected };
    if error.code == PATH_PARAM_CODE {
        return rejection.into_response();
    }
    Error::with_code(http::StatusCode::BAD_REQUEST, error.code, rejection.to_string())
        .into_response()
}

/// A path parameter that failed to decode or parse, answered with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParamRejection {
    /// The parameter's name.
    pub name: &'static str,
    /// What was expected.
    pub expected: Cow<'static, str>,
}

impl fmt::Display for PathParamRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "path parameter `{}` must be {}", self.name, self.expected)
    }
}

impl IntoResponse for PathParamRejection {
    fn into_response(self) -> Response {
        Error::with_code(http::StatusCode::BAD_REQUEST, PATH_PARAM_CODE, self.to_string())
            .into_response()
    }
}

/// Percent-decodes a raw parameter. Borrows when there is nothing to decode.
///
/// # Errors
///
/// When the decoded bytes are not UTF-8.
#[inline]
pub fn decode_param(raw: &str) -> Result<Cow<'_, str>, ParamError> {
    // Without a `%` the parameter is already the `str` it decodes to
    // (percent-encoding would check its UTF-8 again).
    if !crate::routing::has_percent(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    percent_decode(raw)
}

#[cold]
fn percent_decode(raw: &str) -> Result<Cow<'_, str>, ParamError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ParamError::invalid("valid UTF-8 once percent-decoded"))
}

impl<'a> FromParam<'a> for &'a str {
    fn from_param(value: &'a str) -> Result<Self, ParamError> {
        Ok(value)
    }
}

impl<'a> FromParam<'a> for String {
    fn from_param(value: &'a str) -> Result<Self, ParamError> {
        Ok(value.to_owned())
    }
}

impl<'a> FromParam<'a> for Cow<'a, str> {
    fn from_param(value: &'a str) -> Result<Self, ParamError> {
        Ok(Cow::Borrowed(value))
    }
}

macro_rules! from_param_via_from_str {
    ($($ty:ty => $expected:literal),* $(,)?) => {$(
        impl<'a> FromParam<'a> for $ty {
            fn from_param(value: &'a str) -> Result<Self, ParamError> {
                value.parse().map_err(|_| ParamError::invalid($expected))
            }
        }
    )*};
}

from_param_via_from_str! {
    u8 => "an integer from 0 to 255",
    u16 => "an integer from 0 to 65535",
    u32 => "an integer from 0 to 4294967295",
    u64 => "an integer from 0 to 18446744073709551615",
    u128 => "a non-negative integer",
    usize => "a non-negative integer",
    i8 => "an integer from -128 to 127",
    i16 => "an integer from -32768 to 32767",
    i32 => "an integer from -2147483648 to 2147483647",
    i64 => "an integer from -9223372036854775808 to 9223372036854775807",
    i128 => "an integer",
    isize => "an integer",
    f32 => "a number",
    f64 => "a number",
    bool => "`true` or `false`",
    char => "a single character",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_borrows_when_clean() {
        assert!(matches!(decode_param("abc").unwrap(), Cow::Borrowed("abc")));
        assert_eq!(decode_param("a%2Fb%20c").unwrap(), "a/b c");
        assert!(decode_param("%FF").is_err());
    }

    #[test]
    fn parses_numbers_and_says_what_was_expected() {
        assert_eq!(u64::from_param("42"), Ok(42));
        assert_eq!(u8::from_param("300").unwrap_err().expected(), "an integer from 0 to 255");
        assert_eq!(bool::from_param("true"), Ok(true));
        assert_eq!(f64::from_param("1.5"), Ok(1.5));
    }

    #[test]
    fn rejection_message_names_the_parameter() {
        let rejection = PathParamRejection { name: "id", expected: "a number".into() };
        assert_eq!(rejection.to_string(), "path parameter `id` must be a number");
    }
}
