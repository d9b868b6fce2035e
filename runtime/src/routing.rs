//! Types produced by the generated router: route metadata, lookup answers and
//! path parameters.
//!
//! The `router!` macro emits a `lookup` function per router that walks the
//! request path with a `match` tree. Everything here is plain data: no heap,
//! no trait objects.

use std::time::Duration;

/// Static description of one route, as declared with `#[route]`.
///
/// Every router has `ROUTES: &'static [RouteInfo]`, in the order the routes are
/// listed in `router!` (scopes flattened depth-first).
///
/// # Examples
///
/// ```
/// use mambo::RouteInfo;
///
/// const INFO: RouteInfo = RouteInfo {
///     index: 0,
///     methods: &["GET"],
///     pattern: "/users/:id",
///     handler: "users::get_user",
///     params: &["id"],
///     body_limit: None,
///     timeout: None,
/// };
/// assert_eq!(INFO.pattern, "/users/:id");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// Position of the route in `ROUTES`; the `route` of [`Lookup::Found`].
    pub index: usize,
    /// Methods the route answers, upper case, as written (`"GET"`, `"PURGE"`).
    pub methods: &'static [&'static str],
    /// Full pattern, scope prefixes included (`"/admin/users/:id"`).
    pub pattern: &'static str,
    /// The handler path as written in `router!` (`"users::get_user"`).
    pub handler: &'static str,
    /// Names of the path parameters, in path order.
    pub params: &'static [&'static str],
    /// Request body limit in bytes (`body_limit = "64KiB"`), if the route sets one.
    pub body_limit: Option<u64>,
    /// Handler deadline (`timeout = "2s"`), if the route sets one.
    pub timeout: Option<Duration>,
}

/// Which way a trailing-slash redirect goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailingSlash {
    /// The route exists with one more `/` at the end.
    Add,
    /// The route exists without the final `/`.
    Remove,
}

/// The answer of a generated router's `lookup` for one method and path.
///
/// `N` is the largest number of path parameters of any route of the router,
/// so the parameters live inline and a lookup never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'p, const N: usize> {
    /// A route matched the path and the method.
    Found {
        /// Index of the route in the router's `ROUTES`.
        route: usize,
        /// The route's path parameters, raw (still percent-encoded) slices of the path.
        params: Params<'p, N>,
    },
    /// Some route matches the path, none the method. `allow` is the value of
    /// the `Allow` header, computed at compile time (`"GET, HEAD, OPTIONS"`).
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: &'static str,
    },
    /// No route matches, but one would with the trailing slash added or
    /// removed; only when the router is built with `trailing_slash: redirect`.
    Redirect(TrailingSlash),
    /// No route matches the path.
    NotFound,
}

/// Path parameters of a matched route: names from the pattern, values borrowed
/// from the request path.
///
/// Values are raw: `%2F` stays `%2F` here, and is decoded when a handler
/// argument is extracted (so a decoded `/` never splits a segment).
///
/// # Examples
///
/// ```
/// use mambo::Params;
///
/// let params = Params::new(&["owner", "repo"], ["rust-lang", "rust"]);
/// assert_eq!(params.get("repo"), Some("rust"));
/// assert_eq!(params.iter().count(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params<'p, const N: usize> {
    names: &'static [&'static str],
    values: [&'p str; N],
}

impl<'p, const N: usize> Params<'p, N> {
    /// Builds a parameter list; `names.len()` values of `values` are used.
    ///
    /// # Panics
    ///
    /// Panics if there are more names than values.
    pub const fn new(names: &'static [&'static str], values: [&'p str; N]) -> Self {
        assert!(names.len() <= N, "more parameter names than values");
        Params { names, values }
    }

    /// Number of parameters of the matched route.
    pub const fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the matched route has no parameters.
    pub const fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The raw value of the parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The raw value of the `index`-th parameter, in path order.
    pub fn get_index(&self, index: usize) -> Option<&'p str> {
        (index < self.names.len()).then(|| self.values[index])
    }

    /// `(name, raw value)` pairs in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'p str)> + '_ {
        self.names.iter().copied().zip(self.values.iter().copied())
    }
}

/// Most path parameters a route may have: `router!` refuses more at compile
/// time, so the dispatcher keeps them inline.
pub const MAX_PARAMS: usize = 16;

/// Where a matched route's parameters are in the request path: byte ranges,
/// kept inline by [`RequestContext`](crate::RequestContext) so it can own
/// them while the request is lent to middleware and extractors.
///
/// Offsets are `u16`: `http::Uri` refuses URIs longer than 65 534 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParamSlots {
    ranges: [(u16, u16); MAX_PARAMS],
    len: u8,
}

impl ParamSlots {
    /// The slots of `params`, which must be slices of `path`.
    ///
    /// Parameters past [`MAX_PARAMS`], or outside `path`, are left out
    /// (`router!` makes neither happen).
    pub fn from_params<const N: usize>(params: &Params<'_, N>, path: &str) -> Self {
        let base = path.as_ptr() as usize;
        let mut slots = ParamSlots::default();
        for (_, value) in params.iter().take(MAX_PARAMS) {
            let start = (value.as_ptr() as usize).wrapping_sub(base);
            let end = start.wrapping_add(value.len());
            let (Ok(start16), Ok(end16)) = (u16::try_from(start), u16::try_from(end)) else {
                break;
            };
            if end > path.len() {
                break;
            }
            slots.ranges[usize::from(slots.len)] = (start16, end16);
            slots.len += 1;
        }
        slots
    }

    /// The `index`-th range, in path order.
    pub fn get(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let &(start, end) = self.ranges[..usize::from(self.len)].get(index)?;
        Some(usize::from(start)..usize::from(end))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// These slots without the first `n`: a mounted router's parameters,
    /// without those of the prefix it is mounted under.
    pub(crate) fn skip(&self, n: usize) -> Self {
        let n = n.min(usize::from(self.len));
        let mut slots = ParamSlots::default();
        slots.ranges[..usize::from(self.len) - n]
            .copy_from_slice(&self.ranges[n..usize::from(self.len)]);
        slots.len = self.len - n as u8;
        slots
    }
}

/// Splits the next segment off a path: `("users", Some("1/posts"))` for
/// `"users/1/posts"`, `("users", None)` for `"users"`.
///
/// Generated lookups call this at every level. It reads 8 bytes at a time
/// and finds a `/` among them with integer arithmetic (no SIMD needed):
/// `str::split` costs more than the whole match tree.
#[inline(always)]
pub fn split_segment(rest: &str) -> (&str, Option<&str>) {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        // Bytes equal to `/` become zero; the classic "has zero byte" test
        // then sets the high bit of the first of them (lower bytes first,
        // since the word is little-endian).
        let x = word ^ 0x2f2f_2f2f_2f2f_2f2f;
        let found = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
        if found != 0 {
            return cut(rest, i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while i < bytes.len() {
        if bytes[i] == b'/' {
            return cut(rest, i);
        }
        i += 1;
    }
    (rest, None)
}

/// Whether `segment` holds a `%`: whether it needs percent-decoding.
///
/// Path parameters are short: this reads them 8 bytes at a time, as
/// [`split_segment`] does, where `<[u8]>::contains` goes byte by byte below
/// 16 bytes (about 4 instructions a byte).
#[inline(always)]
pub fn has_percent(segment: &str) -> bool {
    // Bytes equal to `%` become zero; see `split_segment`.
    let has = |word: u64| {
        let x = word ^ 0x2525_2525_2525_2525;
        x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
    };
    let bytes = segment.as_bytes();
    let n = bytes.len();
    if n >= 8 {
        let mut i = 0;
        while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            if has(u64::from_le_bytes(*chunk)) {
                return true;
            }
            i += 8;
        }
        // The last bytes, in one word that overlaps the one before.
        bytes.last_chunk::<8>().is_some_and(|tail| has(u64::from_le_bytes(*tail)))
    } else if n >= 4 {
        let low = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let high = u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
        has(u64::from(low) | u64::from(high) << 32)
    } else {
        bytes.contains(&b'%')
    }
}

#[inline(always)]
fn cut(rest: &str, slash: usize) -> (&str, Option<&str>) {
    debug_assert_eq!(rest.as_bytes()[slash], b'/');
    // SAFETY: `slash` indexes an ASCII `/`, so both `..slash` and
    // `slash + 1..` fall on char boundaries of `rest`.
    unsafe { (rest.get_unchecked(..slash), Some(rest.get_unchecked(slash + 1..))) }
}

/// The first 8 bytes of a segment as a little-endian integer, zero-padded.
///
/// Generated lookups match `(segment.len(), word8(segment))` against
/// constants: one integer switch instead of one string comparison per
/// static child.
#[inline(always)]
pub fn word8(segment: &str) -> u64 {
    let bytes = segment.as_bytes();
    let n = bytes.len();
    // Shorter segments are read with two overlapping loads (the first and
    // the last 4 or 2 bytes) rather than copied into a padded buffer: the
    // copy's byte stores stall the 8-byte reload that follows.
    if let Some(head) = bytes.first_chunk::<8>() {
        u64::from_le_bytes(*head)
    } else if n >= 4 {
        let low = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let high = u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
        u64::from(low) | u64::from(high) << ((n - 4) * 8)
    } else if n >= 2 {
        let low = u16::from_le_bytes([bytes[0], bytes[1]]);
        let high = u16::from_le_bytes([bytes[n - 2], bytes[n - 1]]);
        u64::from(low) | u64::from(high) << ((n - 2) * 8)
    } else {
        bytes.first().map_or(0, |&b| u64::from(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_segment_cuts_at_first_slash() {
        assert_eq!(split_segment("a/b/c"), ("a", Some("b/c")));
        assert_eq!(split_segment("a"), ("a", None));
        assert_eq!(split_segment(""), ("", None));
        assert_eq!(split_segment("/"), ("", Some("")));
        assert_eq!(split_segment("a/"), ("a", Some("")));
        assert_eq!(split_segment("é/ü"), ("é", Some("ü")));
        assert_eq!(split_segment("abcdefghij/k"), ("abcdefghij", Some("k")));
        assert_eq!(split_segment("abcdefgh/"), ("abcdefgh", Some("")));
        assert_eq!(split_segment("abcdefghijklmnopq"), ("abcdefghijklmnopq", None));
    }

    #[test]
    fn split_segment_agrees_with_split_once_everywhere() {
        // Every position of the slash, in strings around the 8-byte chunks,
        // including bytes whose value is near `/` (0x2e, 0x30) and non-ASCII.
        for len in 0..20 {
            for slash in 0..=len {
                let mut text: String = (0..len).map(|i| ['a', '.', '0', 'é', '-'][i % 5]).collect();
                if slash < len {
                    let at = text.char_indices().nth(slash).map(|(i, _)| i).unwrap();
                    text.insert(at, '/');
                }
                let expected = match text.split_once('/') {
                    Some((head, tail)) => (head, Some(tail)),
                    None => (text.as_str(), None),
                };
                assert_eq!(split_segment(&text), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn has_percent_agrees_with_contains_everywhere() {
        for len in 0..20 {
            for at in 0..=len {
                let mut text: Vec<u8> = (0..len).map(|i| [b'a', b'$', b'&', b'/'][i % 4]).collect();
                if at < len {
                    text[at] = b'%';
                }
                let text = String::from_utf8(text).unwrap();
                assert_eq!(has_percent(&text), text.contains('%'), "{text:?}");
            }
        }
        assert!(!has_percent("h\u{e9}llo-w\u{f6}rld"));
    }

    #[test]
    fn word8_pads_and_truncates() {
        assert_eq!(word8(""), 0);
        assert_eq!(word8("a"), 0x61);
        assert_eq!(word8("ab"), 0x6261);
        assert_eq!(word8("abcdefgh"), word8("abcdefghij"));
        assert_ne!(word8("abcdefgh"), word8("abcdefgi"));
        for text in ["abc", "abcd", "abcde", "abcdef", "abcdefg", "xy", "é"] {
            let mut padded = [0u8; 8];
            padded[..text.len()].copy_from_slice(text.as_bytes());
            assert_eq!(word8(text), u64::from_le_bytes(padded), "{text}");
        }
    }

    #[test]
    fn max_params_matches_the_macro_check() {
        let check = include_str!("../../macros/src/router/check.rs");
        assert!(check.contains(&format!("const MAX_PARAMS: usize = {MAX_PARAMS};")));
    }

    #[test]
    fn param_slots_point_into_the_path() {
        let path = "/repos/rust-lang/rust/events";
        let params = Params::new(&["owner", "repo"], [&path[7..16], &path[17..21]]);
        let slots = ParamSlots::from_params(&params, path);
        assert_eq!((slots.get(0), slots.get(1), slots.get(2)), (Some(7..16), Some(17..21), None));
        let elsewhere = Params::new(&["x"], ["not in the path"]);
        assert!(ParamSlots::from_params(&elsewhere, path).is_empty());
    }

    #[test]
    fn skipped_param_slots_start_after_the_prefix() {
        let path = "/repos/rust-lang/rust/events";
        let params = Params::new(&["owner", "repo"], [&path[7..16], &path[17..21]]);
        let slots = ParamSlots::from_params(&params, path);
        let child = slots.skip(1);
        assert_eq!((child.len(), child.get(0), child.get(1)), (1, Some(17..21), None));
        assert!(slots.skip(2).is_empty());
        assert!(slots.skip(5).is_empty(), "skipping more than there are leaves none");
        assert_eq!(slots.skip(0), slots);
    }

    #[test]
    fn params_get_by_name_and_index() {
        let params = Params::new(&["a"], ["x", ""]);
        assert_eq!(params.get("a"), Some("x"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get_index(1), None);
        assert_eq!(params.len(), 1);
    }
}
