//! [`Field`]: one part of a multipart body.

use bytes::Bytes;
use http::HeaderMap;

use super::{Multipart, MultipartError};

/// One field of a multipart body, from [`Multipart::next_field`].
///
/// Its data is read in order, from the connection, as it arrives:
/// [`chunk`](Self::chunk) streams it piece by piece (a file upload of any
/// size in constant memory); [`bytes`](Self::bytes) and [`text`](Self::text)
/// gather it, never more than
/// [`MultipartLimits::field_size`](super::MultipartLimits::field_size).
///
/// A field borrows its [`Multipart`] mutably, so the next field can only be
/// asked for once this one is dropped; the data it did not read is then
/// skipped (still counted against the total).
///
/// # Examples
///
/// ```
/// use mambo::multipart::{Multipart, MultipartError};
/// use mambo::prelude::*;
///
/// /// Each field as `name (file name, content type): size`.
/// #[route(POST "/describe")]
/// async fn describe(mut multipart: Multipart) -> Result<String, MultipartError> {
///     let mut lines = Vec::new();
///     while let Some(mut field) = multipart.next_field().await? {
///         let name = field.name().unwrap_or_default().to_owned();
///         let file = field.file_name().unwrap_or("-").to_owned();
///         let kind = field.content_type().unwrap_or("-").to_owned();
///         let mut size = 0;
///         while let Some(chunk) = field.chunk().await? {
///             size += chunk.len();
///         }
///         lines.push(format!("{name} ({file}, {kind}): {size}"));
///     }
///     Ok(lines.join("\n"))
/// }
///
/// mambo::router! {
///     struct App {
///         routes: [describe],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let body = "--XYZ\r\n\
///     content-disposition: form-data; name=\"title\"\r\n\r\n\
///     Holidays\r\n\
///     --XYZ\r\n\
///     content-disposition: form-data; name=\"photo\"; filename=\"beach.png\"\r\n\
///     content-type: image/png\r\n\r\n\
///     not really a PNG\r\n\
///     --XYZ--\r\n";
/// let client = mambo::test::TestClient::new(App::new());
/// let response = client
///     .post("/describe")
///     .header("content-type", "multipart/form-data; boundary=XYZ")
///     .body(body)
///     .send()
///     .await;
/// assert_eq!(response.text(), "title (-, -): 8\nphoto (beach.png, image/png): 16");
/// # });
/// ```
#[derive(Debug)]
pub struct Field<'a> {
    inner: multer::Field<'static>,
    /// Holds the `Multipart` so that no other field can be asked for while
    /// this one is alive (multer would fail at run time; this fails at
    /// compile time).
    _multipart: &'a mut Multipart,
}

impl<'a> Field<'a> {
    pub(super) fn new(inner: multer::Field<'static>, multipart: &'a mut Multipart) -> Self {
        Field { inner, _multipart: multipart }
    }

    /// The field's name: the `name` of its `content-disposition` header.
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The file name the client gave, for a file field: the `filename` of
    /// its `content-disposition` header.
    ///
    /// It comes from the client as is: never use it as a path without
    /// checking it (see [`SafePath`](crate::extract::SafePath)), or better,
    /// store the file under a name of your own.
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// The field's `content-type` (`image/png`), as the client sent it;
    /// `None` when it sent none (the type is then `text/plain`).
    pub fn content_type(&self) -> Option<&str> {
        self.headers().get(http::header::CONTENT_TYPE)?.to_str().ok()
    }

    /// Every header of the field.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The next piece of the field's data, as it arrives from the
    /// connection; `None` at the end of the field. Nothing is gathered: a
    /// handler that writes each chunk out holds one chunk at a time.
    ///
    /// # Errors
    ///
    /// [`MultipartError`]: 413 past the field's or the body's limit, 400 on a
    /// body cut short, 408 on a body that arrives too slowly.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        Ok(self.inner.chunk().await?)
    }

    /// The whole of the field's data, gathered up to
    /// [`MultipartLimits::field_size`](super::MultipartLimits::field_size).
    ///
    /// # Errors
    ///
    /// As [`chunk`](Self::chunk); over the field's limit, 413 as soon as the
    /// limit is passed, without gathering more.
    pub async fn bytes(self) -> Result<Bytes, MultipartError> {
        Ok(self.inner.bytes().await?)
    }

    /// The whole of the field's data as UTF-8 text, gathered up to
    /// [`MultipartLimits::field_size`](super::MultipartLimits::field_size).
    /// Any `charset` the field declares is ignored: browsers send form
    /// fields in the page's encoding, UTF-8 for any page that says so.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes), and 400 (code 40005) when the data is not
    /// UTF-8.
    pub async fn text(self) -> Result<String, MultipartError> {
        let name = self.name().unwrap_or_default().to_owned();
        let bytes = self.bytes().await?;
        String::from_utf8(Vec::from(bytes)).map_err(|_| MultipartError::NotUtf8 { name })
    }
}
