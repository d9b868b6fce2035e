//! Why a multipart body was refused: [`MultipartRejection`] when the
//! extractor is built, [`MultipartError`] while the fields are read.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

use crate::body::{BodyTimedOut, BoxError};
use crate::error::ApiError;
use crate::extract::rejection::define_rejection;
use crate::response::{IntoResponse, Response};

define_rejection! {
    /// Why the [`Multipart`](super::Multipart) extractor refused the request,
    /// before reading any of its body.
    pub enum MultipartRejection {
        /// The `content-type` is missing, or is not `multipart/form-data`.
        UnsupportedMediaType => (
            UNSUPPORTED_MEDIA_TYPE,
            41500,
            "expected a request body with `content-type: multipart/form-data; boundary=..`"
        ),
        /// The `content-type` is `multipart/form-data` without a `boundary`
        /// parameter: without it the body cannot be split, so the media type
        /// is as unusable as a wrong one.
        MissingBoundary => (
            UNSUPPORTED_MEDIA_TYPE,
            41500,
            "`content-type: multipart/form-data` has no `boundary` parameter"
        ),
        /// The `boundary` parameter is present but is not a valid boundary
        /// (RFC 2046: 1 to 70 characters, digits, letters and `'()+_,-./:=?`
        /// and spaces, not ending in a space), or the parameters of
        /// `multipart/form-data` do not parse (an unclosed quote).
        InvalidBoundary => (
            BAD_REQUEST,
            40013,
            "the `boundary` of `content-type: multipart/form-data` is not valid: 1 to 70 characters among letters, digits, spaces and '()+_,-./:=?"
        ),
        /// `content-length` says the body is larger than the route's body
        /// limit; nothing was read.
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
    }
}

define_rejection! {
    /// Why reading a multipart body failed, in
    /// [`Multipart::next_field`](super::Multipart::next_field) or a
    /// [`Field`](super::Field)'s reads. Return it with `?`: every variant is
    /// the client's doing (a 4xx), never a 500.
    pub enum MultipartError {
        /// The body does not parse as multipart: a field's headers are not
        /// valid headers (or more than 32 of them).
        Malformed {
            /// What the parser found.
            reason: String,
        } => (BAD_REQUEST, 40014, "malformed multipart body: {reason}"),
        /// The body ended before its closing boundary: cut short, or
        /// delimited with another boundary than the `content-type`'s.
        Incomplete => (
            BAD_REQUEST,
            40015,
            "the multipart body ended before its closing boundary (cut short, or not delimited by the `content-type`'s boundary)"
        ),
        /// The body has more fields than
        /// [`MultipartLimits::max_fields`](super::MultipartLimits::max_fields).
        TooManyFields {
            /// The limit.
            limit: usize,
        } => (BAD_REQUEST, 40016, "the multipart body has more than {limit} fields"),
        /// The whole body is larger than its limit (the route's `body_limit`,
        /// or [`MultipartLimits::total`](super::MultipartLimits::total)).
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
        /// One field's data is larger than
        /// [`MultipartLimits::field_size`](super::MultipartLimits::field_size).
        FieldTooLarge {
            /// The field's name (empty when it has none).
            name: String,
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "field `{name}` is larger than the limit of {limit} bytes"),
        /// One field's headers are larger than
        /// [`MultipartLimits::header_size`](super::MultipartLimits::header_size).
        HeadersTooLarge {
            /// The limit in bytes.
            limit: usize,
        } => (
            PAYLOAD_TOO_LARGE,
            41300,
            "the headers of a multipart field are larger than the limit of {limit} bytes"
        ),
        /// [`Field::text`](super::Field::text) on data that is not UTF-8.
        NotUtf8 {
            /// The field's name (empty when it has none).
            name: String,
        } => (BAD_REQUEST, 40005, "field `{name}` is not valid UTF-8"),
        /// The body could not be read.
        ReadFailed {
            /// What the body stream reported.
            error: BoxError,
        } => (BAD_REQUEST, 40007, "failed to read the request body: {error}"),
        /// The client sent the body too slowly: it left the handler waiting
        /// longer than the server's body read timeout, or sent below its
        /// minimum rate.
        TimedOut => (REQUEST_TIMEOUT, 40800, "the request body arrived too slowly"),
    }
}

impl From<multer::Error> for MultipartError {
    fn from(error: multer::Error) -> Self {
        use multer::Error as E;
        match error {
            E::IncompleteStream | E::IncompleteFieldData { .. } | E::IncompleteHeaders => {
                MultipartError::Incomplete
            }
            E::FieldSizeExceeded { limit, field_name } => {
                MultipartError::FieldTooLarge { name: field_name.unwrap_or_default(), limit }
            }
            E::StreamSizeExceeded { limit } => MultipartError::TooLarge { limit },
            E::StreamReadFailed(error) if error.is::<BodyTimedOut>() => MultipartError::TimedOut,
            E::StreamReadFailed(error) => MultipartError::ReadFailed { error },
            // The rest are the parser's view of the bytes: header lines
            // that do not parse, names or values that are not valid header
            // text. `LockFailure` cannot happen (a `Field` borrows its
            // `Multipart` mutably) and the content-type ones are checked by
            // the extractor; mapped here all the same, as the client's.
            other => MultipartError::Malformed { reason: other.to_string() },
        }
    }
}

/// Whether `boundary` is a boundary RFC 2046 allows: 1 to 70 `bchars`, the
/// last not a space.
pub(crate) fn valid_boundary(boundary: &str) -> bool {
    let bchar = |b: u8| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b);
    (1..=70).contains(&boundary.len()) && boundary.bytes().all(bchar) && !boundary.ends_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(valid_boundary("------------------------d74496d66958873e"));
        assert!(valid_boundary("a'()+_,-./:=? b"));
        assert!(!valid_boundary(""));
        assert!(!valid_boundary(&"x".repeat(71)));
        assert!(!valid_boundary("ends "));
        assert!(!valid_boundary("semi;colon"));
        assert!(!valid_boundary("quote\"d"));
    }

    #[test]
    fn parser_errors_are_the_clients() {
        let cases: Vec<(multer::Error, u16, u32)> = vec![
            (multer::Error::IncompleteStream, 400, 40015),
            (multer::Error::IncompleteHeaders, 400, 40015),
            (
                multer::Error::DecodeHeaderName { name: "a b".into(), cause: "space".into() },
                400,
                40014,
            ),
            (multer::Error::StreamSizeExceeded { limit: 5 }, 413, 41300),
            (multer::Error::FieldSizeExceeded { limit: 5, field_name: None }, 413, 41300),
            (multer::Error::StreamReadFailed("reset".into()), 400, 40007),
            (multer::Error::StreamReadFailed(Box::new(BodyTimedOut)), 408, 40800),
            (multer::Error::LockFailure, 400, 40014),
        ];
        for (error, status, code) in cases {
            let shown = error.to_string();
            let error = MultipartError::from(error);
            assert_eq!((error.status().as_u16(), error.code()), (status, code), "{shown}");
        }
    }
}
