//! Rejections: why an extractor failed, and what the client gets back.
//!
//! Each extractor has one rejection enum covering every way it can fail. Every
//! variant carries a fixed HTTP status, a fixed error code and a message, and
//! renders as the framework's JSON error body (`{"code": …, "message": "…"}`,
//! through [`error::render`](crate::error::render), so a renderer set with
//! [`error::set_renderer`](crate::error::set_renderer) applies here too).
//! Every rejection also implements [`ApiError`], so a handler that takes an
//! extractor's `Result` can inspect and re-raise it.
//!
//! # Error codes
//!
//! Every code Mambo itself produces: the one table, which the README's
//! copies (`tests/tests/error_codes.rs` checks that they agree, and that
//! each code is [reserved](crate::error::is_reserved_code)). A code is the
//! status followed by two digits; `00` is the generic error for the status,
//! and what [`Error::new`](crate::Error::new) gives.
//!
//! | code  | status | produced by | meaning |
//! |-------|--------|-------------|---------|
//! | 40000 | 400 | [`Error::new`](crate::Error::new) | a bad request, nothing more specific |
//! | 40001 | 400 | [`PathParamRejection`] | a path parameter did not decode or parse |
//! | 40002 | 400 | [`QueryRejection::Invalid`] | the query string does not deserialize into `T` |
//! | 40003 | 400 | [`JsonRejection::Syntax`] | the body is not valid JSON (the message has the line and column) |
//! | 40004 | 400 | [`FormRejection::Invalid`] | the body does not deserialize into `T` as a form |
//! | 40005 | 400 | [`StringRejection::NotUtf8`], [`MultipartError::NotUtf8`](crate::multipart::MultipartError::NotUtf8) (feature `multipart`) | the body (or a multipart field read as text) is not UTF-8 |
//! | 40006 | 400 | [`JsonRejection::Data`] | valid JSON of the wrong shape (missing field, wrong type; with line and column) |
//! | 40007 | 400 | `ReadFailed` of every body rejection | the body could not be read (connection error, client gave up) |
//! | 40008 | 400 | [`HeaderRejection::Missing`] | a required header is missing |
//! | 40009 | 400 | [`HeaderRejection::Invalid`] | a header's value does not decode |
//! | 40010 | 400 | the server | an HTTP/1.1 request without exactly one `host` header ([`Server::strict_host`](crate::Server::strict_host)) |
//! | 40011 | 400 | [`SafePath`](super::SafePath) | a path parameter that would leave its directory (`..`, absolute, NUL, backslash, drive prefix) |
//! | 40012 | 400 | [`cpu_profile`](crate::observe::pprof::cpu_profile) (feature `pprof`) | a profile parameter (`seconds`, `frequency`) is out of range |
//! | 40013 | 400 | [`MultipartRejection::InvalidBoundary`](crate::multipart::MultipartRejection::InvalidBoundary) (feature `multipart`) | the `boundary` of `multipart/form-data` is not a valid boundary (empty, over 70 characters, other characters, unparsable parameters) |
//! | 40014 | 400 | [`MultipartError::Malformed`](crate::multipart::MultipartError::Malformed) (feature `multipart`) | a multipart field's headers do not parse |
//! | 40015 | 400 | [`MultipartError::Incomplete`](crate::multipart::MultipartError::Incomplete) (feature `multipart`) | the multipart body ends before its closing boundary (cut short, or delimited by another boundary) |
//! | 40016 | 400 | [`MultipartError::TooManyFields`](crate::multipart::MultipartError::TooManyFields) (feature `multipart`) | the multipart body has more fields than its limit |
//! | 40017 | 400 | [`WebSocketRejection::NotAHandshake`](crate::ws::WebSocketRejection::NotAHandshake) (feature `ws`) | a WebSocket route got a request that is not a WebSocket handshake |
//! | 40018 | 400 | [`WebSocketRejection::BadKey`](crate::ws::WebSocketRejection::BadKey) (feature `ws`) | the `sec-websocket-key` of a WebSocket handshake is missing or not 16 bytes in base64 |
//! | 40400 | 404 | [`Error::not_found`](crate::Error::not_found), `Option::None` | no route matches, or the handler found nothing |
//! | 40500 | 405 | [`Error::method_not_allowed`](crate::Error::method_not_allowed) | the path exists, not with this method |
//! | 40800 | 408 | `TimedOut` of every body rejection, the route guard | the body arrived too slowly ([`Server::body_read_timeout`](crate::Server::body_read_timeout), [`Server::min_body_rate`](crate::Server::min_body_rate)), or the route's deadline passed while it waited for the body |
//! | 40900 | 409 | [`cpu_profile`](crate::observe::pprof::cpu_profile) (feature `pprof`) | a CPU profile is already running (one profiler per process) |
//! | 41300 | 413 | `TooLarge` of every body rejection; `FieldTooLarge`, `HeadersTooLarge` of [`MultipartError`](crate::multipart::MultipartError) (feature `multipart`) | the body is larger than the route's limit (or a multipart field, or its headers, larger than theirs) |
//! | 41500 | 415 | `UnsupportedMediaType` of [`JsonRejection`], [`FormRejection`] and [`MultipartRejection`](crate::multipart::MultipartRejection) (feature `multipart`, also its `MissingBoundary`) | missing or wrong `content-type` (or `multipart/form-data` without a `boundary`) |
//! | 42600 | 426 | [`WebSocketRejection::UnsupportedVersion`](crate::ws::WebSocketRejection::UnsupportedVersion) (feature `ws`) | a WebSocket handshake for a version other than 13 (with `sec-websocket-version: 13`) |
//! | 42900 | 429 | `RateLimit` (feature `rate-limit`) | the client used up its quota (with `Retry-After`) |
//! | 50000 | 500 | [`Error::internal`](crate::Error::internal) | a handler or middleware panicked |
//! | 50001 | 500 | [`ClientAddrRejection::Unknown`] | the peer address is not known (in-process requests) |
//! | 50002 | 500 | [`Json`](crate::extract::Json) response | the response value failed to serialize |
//! | 50003 | 500 | response headers, [`Redirect`](crate::response::Redirect) | a response header name or value is invalid |
//! | 50004 | 500 | [`ExtensionRejection::Missing`], [`RequestIdValue`](crate::middleware::RequestIdValue) | a value a middleware must provide is missing: the middleware is not listed where the route is |
//! | 50005 | 500 | [`SharedService`](crate::tower::SharedService) (feature `tower`) | a tower layer or service failed with an error it did not turn into a response |
//! | 50006 | 500 | [`metrics::ENCODING_FAILED_CODE`](crate::observe::metrics::ENCODING_FAILED_CODE) (feature `metrics`) | a metric the application registered failed to encode for the `metrics:` route |
//! | 50007 | 500 | [`cpu_profile`](crate::observe::pprof::cpu_profile), [`heap_profile`](crate::observe::pprof::heap_profile) (feature `pprof`) | the profiler could not start, or its report could not be built |
//! | 50008 | 500 | [`WebSocketRejection::NotUpgradable`](crate::ws::WebSocketRejection::NotUpgradable) (feature `ws`) | a WebSocket handshake on a connection that cannot be upgraded (the in-process test client) |
//! | 50100 | 501 | [`heap_profile`](crate::observe::pprof::heap_profile) (feature `pprof`) | heap profiling is off: no jemalloc with `prof:true` in the process (feature `pprof-heap`) |
//! | 50300 | 503 | [`Next`](crate::tower::Next) (feature `tower`) | a request reached a layer's inner service after its router was dropped |
//! | 50301 | 503 | the server | overloaded: the in-flight limit is reached ([`Server::max_in_flight`](crate::Server::max_in_flight)) |
//! | 50302 | 503 | the server | too many connections ([`Server::max_connections`](crate::Server::max_connections)) |
//! | 50303 | 503 | the server | too many connections from this client ([`Server::max_connections_per_client`](crate::Server::max_connections_per_client)) |
//! | 50304 | 503 | [`Health::ready`](crate::observe::health::Health::ready) | not ready: a readiness check failed, timed out or panicked, or the application is warming up ([`Health::set_ready`](crate::observe::health::Health::set_ready)) |
//! | 50305 | 503 | [`Health::ready`](crate::observe::health::Health::ready) | shutting down: a [linked](crate::Server::health) server started its graceful shutdown |
//! | 50306 | 503 | [`heap_profile`](crate::observe::pprof::heap_profile) (feature `pprof-heap`) | jemalloc's heap profiler is switched off (`prof.active` false) |
//! | 50400 | 504 | the route guard | the handler did not answer within its timeout |
//!
//! # Your codes
//!
//! Mambo keeps for itself every code ending in `00`, and the codes ending
//! in `01` to `19` under 400, 500 and 503, where it numbers its errors; new
//! framework errors will stay in these ranges
//! ([`is_reserved_code`](crate::error::is_reserved_code) says which). Give
//! your `ApiError`s any other code: one ending in `20` to `99` is never
//! Mambo's whatever the status (`40020`, `40420`, `50320`), and under any
//! other status `01` to `19` are yours too (`40401`, `42201`).

use std::borrow::Cow;
use std::fmt;

use http::{HeaderName, StatusCode};

use crate::body::BoxError;
use crate::error::ApiError;
use crate::response::{IntoResponse, Response};

pub use super::param::PathParamRejection;

/// Builds a rejection message: borrowed when the table's message has no
/// fields in it, formatted (allocating, on this error path only) otherwise.
macro_rules! rejection_message {
    ($message:literal) => {
        ::std::borrow::Cow::Borrowed($message)
    };
    ($message:literal, $($field:ident),+) => {
        ::std::borrow::Cow::Owned(format!($message))
    };
}

/// Declares a rejection enum as a table: each variant with its doc, its
/// fields, and `=> (STATUS, code, "message")`. The message may name the
/// variant's fields (`{limit}`).
///
/// Generates the enum (`#[non_exhaustive]`), `status`, `code`, `message`,
/// `Display`, `std::error::Error`, [`ApiError`] and [`IntoResponse`].
macro_rules! define_rejection {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident $({
                    $( $(#[doc = $field_doc:literal])* $field:ident : $ty:ty ),+ $(,)?
                })? => ($status:ident, $code:literal, $message:literal),
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Status `", stringify!($status), "`, code `", stringify!($code), "`.")]
                $variant $({ $( $(#[doc = $field_doc])* $field: $ty ),+ })?,
            )+
        }

        impl $name {
            /// The HTTP status the client gets.
            pub fn status(&self) -> StatusCode {
                match self {
                    $( Self::$variant { .. } => StatusCode::$status, )+
                }
            }

            /// The error code in the JSON body (see the [table](crate::extract::rejection)).
            pub fn code(&self) -> u32 {
                match self {
                    $( Self::$variant { .. } => $code, )+
                }
            }

            /// The message in the JSON body.
            pub fn message(&self) -> Cow<'static, str> {
                match self {
                    $(
                        #[allow(unused_variables)]
                        Self::$variant $({ $($field),+ })? => {
                            $crate::extract::rejection::rejection_message!($message $(, $($field),+)?)
                        }
                    )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.message())
            }
        }

        impl std::error::Error for $name {}

        impl ApiError for $name {
            fn code(&self) -> u32 {
                $name::code(self)
            }

            fn message(&self) -> Cow<'_, str> {
                $name::message(self)
            }

            fn status(&self) -> StatusCode {
                $name::status(self)
            }
        }

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                crate::error::render(&self)
            }
        }
    };
}

// Path-addressable for the rejections of feature modules (`multipart`).
#[allow(unused_imports)]
pub(crate) use {define_rejection, rejection_message};

/// Why reading a request body failed; converted into each body extractor's
/// own rejection.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than `limit` bytes, by `content-length` or as read.
    TooLarge { limit: u64 },
    /// The body stream failed.
    Read(BoxError),
    /// The client sent the body too slowly for the server's body read
    /// limits ([`BodyTimedOut`](crate::body::BodyTimedOut)).
    TimedOut,
}

impl BodyError {
    /// The error of a failed body read: a timeout, or anything else.
    pub(crate) fn read(error: BoxError) -> Self {
        if error.is::<crate::body::BodyTimedOut>() {
            BodyError::TimedOut
        } else {
            BodyError::Read(error)
        }
    }
}

/// Implements `From<BodyError>` for a rejection with `TooLarge`,
/// `ReadFailed` and `TimedOut` variants.
macro_rules! from_body_error {
    ($($name:ident),+) => {$(
        impl From<BodyError> for $name {
            fn from(err: BodyError) -> Self {
                match err {
                    BodyError::TooLarge { limit } => $name::TooLarge { limit },
                    BodyError::Read(error) => $name::ReadFailed { error },
                    BodyError::TimedOut => $name::TimedOut,
                }
            }
        }
    )+};
}

define_rejection! {
    /// Why [`Bytes`](bytes::Bytes) failed to read the request body.
    pub enum BytesRejection {
        /// The body is larger than the route's body limit.
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
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

define_rejection! {
    /// Why [`String`] failed to read the request body.
    pub enum StringRejection {
        /// The body is larger than the route's body limit.
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
        /// The body could not be read.
        ReadFailed {
            /// What the body stream reported.
            error: BoxError,
        } => (BAD_REQUEST, 40007, "failed to read the request body: {error}"),
        /// The client sent the body too slowly: it left the handler waiting
        /// longer than the server's body read timeout, or sent below its
        /// minimum rate.
        TimedOut => (REQUEST_TIMEOUT, 40800, "the request body arrived too slowly"),
        /// The body is not UTF-8.
        NotUtf8 {
            /// Where the first invalid byte is.
            error: std::str::Utf8Error,
        } => (BAD_REQUEST, 40005, "request body is not valid UTF-8: {error}"),
    }
}

define_rejection! {
    /// Why [`Json`](super::Json) failed.
    pub enum JsonRejection {
        /// The `content-type` is missing, or is not `application/json` nor
        /// `application/*+json`.
        UnsupportedMediaType => (
            UNSUPPORTED_MEDIA_TYPE,
            41500,
            "expected a request body with `content-type: application/json`"
        ),
        /// The body is larger than the route's body limit.
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
        /// The body could not be read.
        ReadFailed {
            /// What the body stream reported.
            error: BoxError,
        } => (BAD_REQUEST, 40007, "failed to read the request body: {error}"),
        /// The client sent the body too slowly: it left the handler waiting
        /// longer than the server's body read timeout, or sent below its
        /// minimum rate.
        TimedOut => (REQUEST_TIMEOUT, 40800, "the request body arrived too slowly"),
        /// The body is not valid JSON (or is cut short); the message says
        /// where, by line and column.
        Syntax {
            /// serde_json's error, with the line and column.
            error: serde_json::Error,
        } => (BAD_REQUEST, 40003, "request body is not valid JSON: {error}"),
        /// The body is valid JSON that does not fit the expected type (a
        /// missing field, a wrong type); the message says where.
        Data {
            /// serde_json's error, with the line and column.
            error: serde_json::Error,
        } => (BAD_REQUEST, 40006, "request body has the wrong shape: {error}"),
    }
}

define_rejection! {
    /// Why [`Form`](super::Form) failed.
    pub enum FormRejection {
        /// The `content-type` is missing or is not
        /// `application/x-www-form-urlencoded`.
        UnsupportedMediaType => (
            UNSUPPORTED_MEDIA_TYPE,
            41500,
            "expected a request body with `content-type: application/x-www-form-urlencoded`"
        ),
        /// The body is larger than the route's body limit.
        TooLarge {
            /// The limit in bytes.
            limit: u64,
        } => (PAYLOAD_TOO_LARGE, 41300, "request body is larger than the limit of {limit} bytes"),
        /// The body could not be read.
        ReadFailed {
            /// What the body stream reported.
            error: BoxError,
        } => (BAD_REQUEST, 40007, "failed to read the request body: {error}"),
        /// The client sent the body too slowly: it left the handler waiting
        /// longer than the server's body read timeout, or sent below its
        /// minimum rate.
        TimedOut => (REQUEST_TIMEOUT, 40800, "the request body arrived too slowly"),
        /// The form does not deserialize into the expected type.
        Invalid {
            /// serde_urlencoded's error.
            error: serde_urlencoded::de::Error,
        } => (BAD_REQUEST, 40004, "invalid form body: {error}"),
    }
}

define_rejection! {
    /// Why [`Query`](super::Query) failed.
    pub enum QueryRejection {
        /// The query string does not deserialize into the expected type.
        Invalid {
            /// serde_urlencoded's error.
            error: serde_urlencoded::de::Error,
        } => (BAD_REQUEST, 40002, "invalid query string: {error}"),
    }
}

define_rejection! {
    /// Why [`Header`](super::Header) failed.
    pub enum HeaderRejection {
        /// The request has no such header.
        Missing {
            /// The header's name.
            name: HeaderName,
        } => (BAD_REQUEST, 40008, "missing request header `{name}`"),
        /// The header's value does not decode.
        Invalid {
            /// The header's name.
            name: HeaderName,
        } => (BAD_REQUEST, 40009, "request header `{name}` has an invalid value"),
    }
}

define_rejection! {
    /// Why [`ClientAddr`](super::ClientAddr) failed.
    pub enum ClientAddrRejection {
        /// The connection has no peer address: the request did not come over
        /// a socket (the in-process test client, an adapter). This is the
        /// server's setup, not the client's fault, hence a 500. Take
        /// `Option<ClientAddr>` to handle it.
        Unknown => (
            INTERNAL_SERVER_ERROR,
            50001,
            "the client address is not known for this connection"
        ),
    }
}

define_rejection! {
    /// Why [`Extension<T>`](super::Extension) failed.
    pub enum ExtensionRejection {
        /// No middleware inserted a `T` into this request's extensions: the
        /// middleware that provides it is not listed where this route is, or
        /// left it out. The router's setup, not the client, is at fault,
        /// hence a 500. Take `Option<Extension<T>>` when the middleware may
        /// leave it out on purpose.
        Missing {
            /// The type that was asked for, as [`std::any::type_name`] gives it.
            type_name: &'static str,
        } => (
            INTERNAL_SERVER_ERROR,
            50004,
            "no `{type_name}` in the request extensions: the middleware that provides it must be listed in the router's (or this route's scope's) `middleware: [..]` and insert it with `cx.extensions_mut().insert(..)` in its `before`"
        ),
    }
}

impl ExtensionRejection {
    /// The rejection for a missing `T`.
    pub(crate) fn missing<T>() -> Self {
        ExtensionRejection::Missing { type_name: std::any::type_name::<T>() }
    }
}

from_body_error!(BytesRejection, StringRejection, JsonRejection, FormRejection);

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::CONTENT_TYPE;

    #[test]
    fn table_gives_status_code_and_message() {
        let rejection = JsonRejection::TooLarge { limit: 10 };
        assert_eq!(rejection.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(rejection.code(), 41300);
        assert_eq!(rejection.message(), "request body is larger than the limit of 10 bytes");
        assert!(matches!(JsonRejection::UnsupportedMediaType.message(), Cow::Borrowed(_)));
    }

    #[test]
    fn renders_the_json_error_body() {
        let response =
            HeaderRejection::Missing { name: HeaderName::from_static("x-api-key") }.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":40008,"message":"missing request header `x-api-key`"}"#
        );
    }

    #[test]
    fn body_errors_map_to_each_rejection() {
        let rejection = StringRejection::from(BodyError::Read("reset".into()));
        assert_eq!(rejection.code(), 40007);
        assert_eq!(rejection.message(), "failed to read the request body: reset");
        let rejection = FormRejection::from(BodyError::TooLarge { limit: 1 });
        assert_eq!(rejection.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
