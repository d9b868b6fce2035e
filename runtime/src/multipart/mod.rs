//! Multipart uploads (feature `multipart`): the [`Multipart`] body extractor
//! for `multipart/form-data` (HTML forms with files, `curl -F`), on the
//! [`multer`](https://docs.rs/multer/3) parser.
//!
//! [`Multipart::next_field`] yields the body's [`Field`]s in order, parsed
//! from the connection as the handler asks for them: nothing is read before
//! the first call, and a field's data is only read as the handler reads it,
//! [`chunk`](Field::chunk) by chunk (a large file goes to disk in constant
//! memory) or gathered with [`bytes`](Field::bytes) or
//! [`text`](Field::text) under the field's limit.
//!
//! # Limits
//!
//! Set with [`Multipart::with_limits`] before the first field (see
//! [`MultipartLimits`]):
//!
//! | limit | default | over it |
//! |---|---|---|
//! | the whole body | the route's `body_limit` (else the server's, 2 MiB by default) | 413, code 41300 |
//! | one field's data | the whole body's limit | 413, code 41300 |
//! | the number of fields | 128 | 400, code 40016 |
//! | one field's headers | 8 KiB | 413, code 41300 |
//!
//! A route for large uploads raises its body limit where it is declared:
//! `#[route(POST "/upload", body_limit = "200MiB")]`.
//!
//! # Errors
//!
//! The extractor refuses the request before reading its body with a
//! [`MultipartRejection`]; reading the fields fails with a
//! [`MultipartError`]. Both render as the framework's JSON error body
//! (`{"code": 41500, "message": "…"}`); every one is the client's (4xx):
//!
//! | status | code | when |
//! |---|---|---|
//! | 415 | 41500 | no `content-type`, not `multipart/form-data`, or no `boundary` parameter |
//! | 400 | 40013 | a `boundary` RFC 2046 does not allow (empty, over 70 characters, other characters) |
//! | 400 | 40014 | a field's headers do not parse |
//! | 400 | 40015 | the body ends before its closing boundary (cut short, or delimited by another boundary) |
//! | 400 | 40016 | more fields than the limit |
//! | 400 | 40005 | [`Field::text`] on data that is not UTF-8 |
//! | 400 | 40007 | the body could not be read (the connection failed) |
//! | 408 | 40800 | the body arrived too slowly (the server's body read limits) |
//! | 413 | 41300 | the body, a field or a field's headers over its limit |
//!
//! Returning the error with `?` answers the client with it. The limits are
//! the client's too: a 413 after part of the body was handled (a file
//! already written) is for the handler to clean up after.
//!
//! # Examples
//!
//! ```
//! use mambo::multipart::{Multipart, MultipartError};
//! use mambo::prelude::*;
//! use mambo::test::TestClient;
//!
//! /// Stores the `file` field, chunk by chunk; answers with its size.
//! #[route(POST "/upload", body_limit = "200MiB")]
//! async fn upload(mut multipart: Multipart) -> Result<String, MultipartError> {
//!     let mut title = String::new();
//!     let mut size = 0;
//!     while let Some(mut field) = multipart.next_field().await? {
//!         match field.name() {
//!             Some("title") => title = field.text().await?,
//!             Some("file") => {
//!                 while let Some(chunk) = field.chunk().await? {
//!                     size += chunk.len(); // write `chunk` to a file here
//!                 }
//!             }
//!             _ => {} // skipped
//!         }
//!     }
//!     Ok(format!("{title}: {size} bytes"))
//! }
//!
//! mambo::router! {
//!     struct App {
//!         routes: [upload],
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let body = "--b\r\n\
//!     content-disposition: form-data; name=\"title\"\r\n\r\n\
//!     notes\r\n\
//!     --b\r\n\
//!     content-disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\n\
//!     hello, world\r\n\
//!     --b--\r\n";
//! let client = TestClient::new(App::new());
//! let response = client
//!     .post("/upload")
//!     .header("content-type", "multipart/form-data; boundary=b")
//!     .body(body)
//!     .send()
//!     .await;
//! assert_eq!(response.text(), "notes: 12 bytes");
//!
//! // Not multipart: 415 with the framework's JSON error.
//! let response = client.post("/upload").header("content-type", "text/plain").body("x").send().await;
//! assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
//! assert_eq!(response.json::<serde_json::Value>()["code"], 41500);
//! # });
//! ```

use std::future::Future;

use http::HeaderMap;
use http::header::CONTENT_TYPE;
use http_body_util::BodyDataStream;

use crate::body::Body;
use crate::context::RequestContext;
use crate::extract::FromRequest;

mod field;
mod limits;
mod rejection;

pub use field::Field;
pub use limits::MultipartLimits;
pub use rejection::{MultipartError, MultipartRejection};

/// A `multipart/form-data` request body, read field by field.
///
/// A body extractor: the last argument of its handler. Extraction checks
/// the `content-type` and its `boundary`, and `content-length` against the
/// route's body limit; it reads nothing. The fields are parsed as
/// [`next_field`](Self::next_field) asks for them.
///
/// # Errors
///
/// [`MultipartRejection`]: 415 (code 41500) without `content-type:
/// multipart/form-data; boundary=..`, 400 (code 40013) for an invalid
/// boundary, 413 (code 41300) when `content-length` is over the route's
/// body limit.
///
/// # Examples
///
/// See the [module](self) for a complete handler, and [`Field`] for what a
/// field holds.
///
/// ```
/// use mambo::multipart::{Multipart, MultipartError};
/// use mambo::prelude::*;
///
/// /// Every text field, as `name=value` lines.
/// #[route(POST "/form")]
/// async fn form(mut multipart: Multipart) -> Result<String, MultipartError> {
///     let mut lines = Vec::new();
///     while let Some(field) = multipart.next_field().await? {
///         let name = field.name().unwrap_or_default().to_owned();
///         lines.push(format!("{name}={}", field.text().await?));
///     }
///     Ok(lines.join("\n"))
/// }
/// ```
#[derive(Debug)]
pub struct Multipart {
    state: State,
    limits: MultipartLimits,
    /// The route's body limit.
    route_limit: u64,
    /// The request's `content-length`, when it is a number.
    content_length: Option<u64>,
    /// The fields yielded so far.
    fields: usize,
}

#[derive(Debug)]
enum State {
    /// Before the first field: the parser is built then, under the limits
    /// set by that time.
    Waiting {
        body: Body,
        boundary: String,
    },
    Parsing(multer::Multipart<'static>),
}

impl Multipart {
    /// Parses the body under `limits` instead of the defaults (see
    /// [`MultipartLimits`]).
    ///
    /// # Panics
    ///
    /// When a field was already asked for: the limits apply to the whole
    /// body, so they are set before it is read.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::multipart::{Multipart, MultipartError, MultipartLimits};
    /// use mambo::prelude::*;
    ///
    /// #[route(POST "/small")]
    /// async fn small(multipart: Multipart) -> Result<String, MultipartError> {
    ///     let mut multipart = multipart.with_limits(MultipartLimits::new().max_fields(2));
    ///     let mut names = Vec::new();
    ///     while let Some(field) = multipart.next_field().await? {
    ///         names.push(field.name().unwrap_or_default().to_owned());
    ///     }
    ///     Ok(names.join(","))
    /// }
    ///
    /// mambo::router! {
    ///     struct App {
    ///         routes: [small],
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let field = |name: &str| format!("--b\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\nx\r\n");
    /// let body = format!("{}{}{}--b--\r\n", field("a"), field("b"), field("c"));
    /// let client = mambo::test::TestClient::new(App::new());
    /// let response = client
    ///     .post("/small")
    ///     .header("content-type", "multipart/form-data; boundary=b")
    ///     .body(body)
    ///     .send()
    ///     .await;
    /// assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    /// assert_eq!(response.json::<serde_json::Value>()["code"], 40016);
    /// # });
    /// ```
    pub fn with_limits(mut self, limits: MultipartLimits) -> Self {
        assert!(
            matches!(self.state, State::Waiting { .. }),
            "`Multipart::with_limits` after `next_field`: set the limits before reading the body"
        );
        self.limits = limits;
        self
    }

    /// The limits the body is parsed under (before the route's body limit
    /// is applied to them).
    pub fn limits(&self) -> &MultipartLimits {
        &self.limits
    }

    /// The next field, or `None` after the last one.
    ///
    /// The data of the previous field that the handler did not read is
    /// skipped first.
    ///
    /// # Errors
    ///
    /// [`MultipartError`], all 4xx: a malformed or cut-short body (400), more
    /// fields than the limit (400), the body or a field's headers over their
    /// limit (413), a body that could not be read (400) or arrived too
    /// slowly (408).
    pub async fn next_field(&mut self) -> Result<Option<Field<'_>>, MultipartError> {
        let parser = match &mut self.state {
            State::Parsing(parser) => parser,
            State::Waiting { .. } => {
                let (total, field) = self.limits.resolve(self.route_limit);
                if self.content_length.is_some_and(|len| len > total) {
                    return Err(MultipartError::TooLarge { limit: total });
                }
                let State::Waiting { body, boundary } = std::mem::replace(
                    &mut self.state,
                    State::Waiting { body: Body::Empty, boundary: String::new() },
                ) else {
                    unreachable!("matched above")
                };
                let sizes = multer::SizeLimit::new().whole_stream(total).per_field(field);
                let constraints = multer::Constraints::new().size_limit(sizes);
                let stream = BodyDataStream::new(body);
                self.state = State::Parsing(multer::Multipart::with_constraints(
                    stream,
                    boundary,
                    constraints,
                ));
                let State::Parsing(parser) = &mut self.state else { unreachable!("set above") };
                parser
            }
        };
        let Some(field) = parser.next_field().await? else { return Ok(None) };
        self.fields += 1;
        if self.fields > self.limits.max_fields {
            return Err(MultipartError::TooManyFields { limit: self.limits.max_fields });
        }
        if header_size(field.headers()) > self.limits.header_size {
            return Err(MultipartError::HeadersTooLarge { limit: self.limits.header_size });
        }
        Ok(Some(Field::new(field, self)))
    }

    fn from_head(
        headers: &HeaderMap,
        route_limit: u64,
        body: Body,
    ) -> Result<Self, MultipartRejection> {
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let Some(content_type) = content_type else {
            return Err(MultipartRejection::UnsupportedMediaType);
        };
        let boundary = match multer::parse_boundary(content_type) {
            Ok(boundary) => boundary,
            Err(multer::Error::NoBoundary) => return Err(MultipartRejection::MissingBoundary),
            // `multipart/form-data` whose parameters do not parse
            // (`boundary=a{b}`): the right type, a broken boundary.
            Err(multer::Error::DecodeContentType(_)) if is_form_data(content_type) => {
                return Err(MultipartRejection::InvalidBoundary);
            }
            Err(_) => return Err(MultipartRejection::UnsupportedMediaType),
        };
        if !rejection::valid_boundary(&boundary) {
            return Err(MultipartRejection::InvalidBoundary);
        }
        let content_length = crate::extract::body::content_length(headers);
        if content_length.is_some_and(|len| len > route_limit) {
            return Err(MultipartRejection::TooLarge { limit: route_limit });
        }
        Ok(Multipart {
            state: State::Waiting { body, boundary },
            limits: MultipartLimits::new(),
            route_limit,
            content_length,
            fields: 0,
        })
    }
}

fn is_form_data(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence.trim().eq_ignore_ascii_case("multipart/form-data")
}

/// A field's headers as sent, `name: value\r\n` each.
fn header_size(headers: &HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum()
}

/// The request body as [`Multipart`]; see the type for what is checked.
impl<S> FromRequest<S> for Multipart {
    type Rejection = MultipartRejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Multipart::from_head(cx.headers(), cx.body_limit(), body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::body::tests::Chunked;
    use bytes::Bytes;
    use http::HeaderValue;
    use http::header::CONTENT_LENGTH;

    fn multipart(content_type: &str, body: Body) -> Result<Multipart, MultipartRejection> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        Multipart::from_head(&headers, 1024, body)
    }

    fn code(result: Result<Multipart, MultipartRejection>) -> u32 {
        result.unwrap_err().code()
    }

    #[test]
    fn content_types() {
        assert_eq!(code(Multipart::from_head(&HeaderMap::new(), 64, Body::Empty)), 41500);
        assert_eq!(code(multipart("application/json", Body::Empty)), 41500);
        assert_eq!(code(multipart("multipart/mixed; boundary=b", Body::Empty)), 41500);
        assert_eq!(code(multipart("multipart/form-data", Body::Empty)), 41500);
        assert_eq!(code(multipart("multipart/form-data; boundary=\"\"", Body::Empty)), 40013);
        assert_eq!(code(multipart("multipart/form-data; boundary=a{b", Body::Empty)), 40013);
        assert_eq!(code(multipart("multipart/form-data; boundary=a{b}", Body::Empty)), 40013);
        assert_eq!(code(multipart("multipart/form-data; boundary=\"a", Body::Empty)), 40013);
        assert!(multipart("multipart/form-data; boundary=\"a b\"", Body::Empty).is_ok());
        assert!(multipart("Multipart/Form-Data; charset=utf-8; boundary=x", Body::Empty).is_ok());
    }

    #[tokio::test]
    async fn fields_in_chunks_split_anywhere() {
        let body = Body::boxed(Chunked::new(&[
            "--b\r\ncontent-dispo",
            "sition: form-data; name=\"a\"\r\n\r\nhel",
            "lo\r\n--",
            "b\r\ncontent-disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n",
            "content-type: application/octet-stream\r\n\r\n\0\x01\r\n--b--",
        ]));
        let mut parts = multipart("multipart/form-data; boundary=b", body).unwrap();
        let field = parts.next_field().await.unwrap().unwrap();
        assert_eq!(field.name(), Some("a"));
        assert_eq!(field.text().await.unwrap(), "hello");
        let field = parts.next_field().await.unwrap().unwrap();
        assert_eq!((field.name(), field.file_name()), (Some("f"), Some("x.bin")));
        assert_eq!(field.content_type(), Some("application/octet-stream"));
        assert_eq!(&field.bytes().await.unwrap()[..], b"\0\x01");
        assert!(parts.next_field().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_field_over_its_limit() {
        let body = Body::from(
            "--b\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n0123456789\r\n--b--",
        );
        let parts = multipart("multipart/form-data; boundary=b", body).unwrap();
        let mut parts = parts.with_limits(MultipartLimits::new().field_size(4));
        let field = parts.next_field().await.unwrap().unwrap();
        let error = field.bytes().await.unwrap_err();
        assert_eq!((error.status().as_u16(), error.code()), (413, 41300));
        assert_eq!(error.message(), "field `a` is larger than the limit of 4 bytes");
    }

    #[tokio::test]
    async fn headers_over_their_limit() {
        let body = Body::from(
            "--b\r\ncontent-disposition: form-data; name=\"a\"\r\nx-long: 0123456789\r\n\r\n1\r\n--b--",
        );
        let parts = multipart("multipart/form-data; boundary=b", body).unwrap();
        let mut parts = parts.with_limits(MultipartLimits::new().header_size(40));
        let error = parts.next_field().await.unwrap_err();
        assert_eq!((error.status().as_u16(), error.code()), (413, 41300));
    }

    #[tokio::test]
    async fn text_that_is_not_utf8() {
        let body = Body::Full(Bytes::from_static(
            b"--b\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--b--",
        ));
        let mut parts = multipart("multipart/form-data; boundary=b", body).unwrap();
        let field = parts.next_field().await.unwrap().unwrap();
        let error = field.text().await.unwrap_err();
        assert_eq!((error.status().as_u16(), error.code()), (400, 40005));
    }

    #[tokio::test]
    async fn a_lowered_total_checks_content_length_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("multipart/form-data; boundary=b"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("50"));
        let chunked = Chunked::new(&["never read"]);
        let polled = chunked.polled.clone();
        let parts = Multipart::from_head(&headers, 64, Body::boxed(chunked)).unwrap();
        let mut parts = parts.with_limits(MultipartLimits::new().total(10));
        let error = parts.next_field().await.unwrap_err();
        assert!(matches!(error, MultipartError::TooLarge { limit: 10 }), "{error:?}");
        assert_eq!(polled.load(std::sync::atomic::Ordering::Relaxed), 0);
        // Over the route's limit: refused by the extractor itself.
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("65"));
        let error = Multipart::from_head(&headers, 64, Body::Empty).unwrap_err();
        assert!(matches!(error, MultipartRejection::TooLarge { limit: 64 }), "{error:?}");
    }
}
