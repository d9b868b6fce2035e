//! [`MultipartLimits`]: how much a multipart body may hold.

/// The limits a [`Multipart`](super::Multipart) body is parsed under.
///
/// | limit | default | over it |
/// |---|---|---|
/// | [`total`](Self::total): the whole body, boundaries and headers included | the route's `body_limit` (else the server's, 2 MiB by default) | 413, code 41300 |
/// | [`field_size`](Self::field_size): the data of one field | the total | 413, code 41300 |
/// | [`max_fields`](Self::max_fields): the number of fields | 128 | 400, code 40016 |
/// | [`header_size`](Self::header_size): the headers of one field, in bytes | 8 KiB | 413, code 41300 |
///
/// The total can only be lowered here: the route's `body_limit` is the most
/// a route accepts, so a route for large uploads says so in its attribute
/// (`#[route(POST "/upload", body_limit = "200MiB")]`), where it is seen
/// next to the path.
///
/// A field's headers are checked once they are parsed; while they are read
/// they are held in memory under the total only. Each field has at most 32
/// headers (the parser's own bound; more is a 400, code 40014).
///
/// # Examples
///
/// ```
/// use mambo::multipart::{Multipart, MultipartLimits};
/// use mambo::prelude::*;
///
/// #[route(POST "/avatar", body_limit = "4MiB")]
/// async fn avatar(multipart: Multipart) -> Result<String, mambo::multipart::MultipartError> {
///     let limits = MultipartLimits::new().max_fields(4).field_size(1024 * 1024);
///     let mut multipart = multipart.with_limits(limits);
///     let mut sizes = Vec::new();
///     while let Some(field) = multipart.next_field().await? {
///         sizes.push(field.bytes().await?.len().to_string());
///     }
///     Ok(sizes.join(","))
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct MultipartLimits {
    pub(crate) total: Option<u64>,
    pub(crate) field_size: Option<u64>,
    pub(crate) max_fields: usize,
    pub(crate) header_size: usize,
}

impl MultipartLimits {
    /// The default number of fields: 128.
    pub const DEFAULT_MAX_FIELDS: usize = 128;

    /// The default size of one field's headers: 8 KiB.
    pub const DEFAULT_HEADER_SIZE: usize = 8 * 1024;

    /// The defaults (see the [table](Self)).
    pub const fn new() -> Self {
        MultipartLimits {
            total: None,
            field_size: None,
            max_fields: Self::DEFAULT_MAX_FIELDS,
            header_size: Self::DEFAULT_HEADER_SIZE,
        }
    }

    /// The most bytes the whole body may hold. Only lowers the route's
    /// `body_limit`: a larger value is the route's limit.
    pub const fn total(mut self, bytes: u64) -> Self {
        self.total = Some(bytes);
        self
    }

    /// The most bytes of data one field may hold (its headers apart). Over
    /// it, reading the field fails with 413; [`Field::bytes`](super::Field::bytes)
    /// and [`Field::text`](super::Field::text) never buffer more than this.
    pub const fn field_size(mut self, bytes: u64) -> Self {
        self.field_size = Some(bytes);
        self
    }

    /// The most fields the body may have; the next one fails with 400.
    pub const fn max_fields(mut self, fields: usize) -> Self {
        self.max_fields = fields;
        self
    }

    /// The most bytes one field's headers may take, counted as
    /// `name: value\r\n` per header.
    pub const fn header_size(mut self, bytes: usize) -> Self {
        self.header_size = bytes;
        self
    }

    /// The limits in force on a route whose body limit is `route_limit`:
    /// `(total, field_size)`.
    pub(crate) fn resolve(&self, route_limit: u64) -> (u64, u64) {
        let total = self.total.map_or(route_limit, |total| total.min(route_limit));
        let field = self.field_size.map_or(total, |field| field.min(total));
        (total, field)
    }
}

impl Default for MultipartLimits {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_limit_bounds_the_total_and_the_total_the_field() {
        assert_eq!(MultipartLimits::new().resolve(100), (100, 100));
        assert_eq!(MultipartLimits::new().total(1000).resolve(100), (100, 100));
        assert_eq!(MultipartLimits::new().total(50).field_size(80).resolve(100), (50, 50));
        assert_eq!(MultipartLimits::new().field_size(10).resolve(100), (100, 10));
    }
}
