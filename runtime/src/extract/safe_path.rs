//! `SafePath`: a path parameter that is safe to use as a relative file path.

use std::fmt;
use std::path::{Path, PathBuf};

use super::param::{FromParam, ParamError};

/// The code of a path parameter refused by [`SafePath`].
const UNSAFE_PATH_CODE: u32 = 40011;

/// A path parameter (usually a `*rest` catch-all) checked to stay inside the
/// directory it is joined to: no `..` segment, not absolute, no NUL byte, no
/// backslash, no Windows drive prefix.
///
/// Parameters arrive **percent-decoded**, so a client that sends
/// `/files/%2e%2e%2fsecret` hands a `&str` parameter the value `../secret`.
/// Take `SafePath` instead of `&str` or `String` for any parameter that
/// becomes a file path, and build the path with
/// [`join_under`](Self::join_under).
///
/// Refused (400, code `40011`, the message says which rule), after decoding:
///
/// - a `..` segment anywhere (`../x`, `a/../../x`, `a/..`);
/// - an absolute path: a leading `/` (`/etc/passwd`, from `//etc/passwd`
///   or `%2Fetc%2Fpasswd`);
/// - a NUL byte (`%00`), which C-based file APIs read as the end;
/// - a backslash, a path separator on Windows (`..\x`, `\\server\share`);
/// - a segment that starts with a drive letter and a colon (`C:`, `c:x`),
///   a Windows prefix that replaces the base it is joined to;
/// - an empty value.
///
/// `.` and empty segments (`a/./b`, `a//b`) are allowed: they stay where
/// they are.
///
/// `SafePath` checks the text; it does not touch the file system. A
/// symbolic link inside the base directory can still point outside it:
/// keep links you do not control out of directories you serve.
///
/// # Examples
///
/// ```
/// use mambo::extract::SafePath;
/// use mambo::prelude::*;
///
/// #[route(GET "/files/*path")]
/// async fn serve_file(path: SafePath<'_>) -> String {
///     // Read `path.join_under("/srv/files")` here.
///     path.join_under("/srv/files").display().to_string()
/// }
///
/// mambo::router! {
///     struct App {
///         routes: [serve_file],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(App::new());
/// assert_eq!(client.get("/files/docs/a%20b.txt").send().await.text(), "/srv/files/docs/a b.txt");
///
/// let response = client.get("/files/%2e%2e%2fetc/passwd").send().await;
/// assert_eq!(response.status(), StatusCode::BAD_REQUEST);
/// assert!(response.text().starts_with(r#"{"code":40011,"#));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SafePath<'a>(&'a str);

impl<'a> SafePath<'a> {
    /// Checks `value` (already percent-decoded) against the rules above.
    ///
    /// # Errors
    ///
    /// A [`ParamError`] with code `40011` naming the rule `value` breaks.
    pub fn new(value: &'a str) -> Result<Self, ParamError> {
        match unsafe_part(value) {
            None => Ok(SafePath(value)),
            Some(reason) => Err(ParamError::with_code(UNSAFE_PATH_CODE, reason)),
        }
    }

    /// The path as text, as the client sent it (decoded).
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The path as a relative [`Path`].
    pub fn as_path(&self) -> &'a Path {
        Path::new(self.0)
    }

    /// `base` with this path under it: `base.join(self)`, which the checks
    /// make sure stays inside `base` (for the text; see the type's note on
    /// symbolic links).
    pub fn join_under(&self, base: impl AsRef<Path>) -> PathBuf {
        base.as_ref().join(self.0)
    }
}

/// Why `value` is not a safe relative path, as what it must be instead;
/// `None` when it is one.
fn unsafe_part(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("a non-empty relative path");
    }
    if value.starts_with('/') {
        return Some("a relative path (it starts with `/`)");
    }
    if value.contains('\0') {
        return Some("a path without NUL bytes");
    }
    if value.contains('\\') {
        return Some("a path without backslashes");
    }
    for segment in value.split('/') {
        if segment == ".." {
            return Some("a path without `..` segments");
        }
        if let [letter, b':', ..] = segment.as_bytes() {
            if letter.is_ascii_alphabetic() {
                return Some("a path without a drive prefix (`C:`)");
            }
        }
    }
    None
}

impl<'a> FromParam<'a> for SafePath<'a> {
    fn from_param(value: &'a str) -> Result<Self, ParamError> {
        SafePath::new(value)
    }
}

impl AsRef<Path> for SafePath<'_> {
    fn as_ref(&self) -> &Path {
        self.as_path()
    }
}

impl AsRef<str> for SafePath<'_> {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for SafePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths() {
        for value in
            ["a", "a/b.txt", "a/./b", "a//b", ".hidden", "a..b/..c", "...", "ab:c", "a/1:2"]
        {
            assert_eq!(SafePath::new(value).map(|p| p.as_str()), Ok(value), "{value:?}");
        }
    }

    /// Each row is one way out of the base directory, and the rule that
    /// stops it.
    #[test]
    fn refuses_every_way_out() {
        let rows = [
            ("", "a non-empty relative path"),
            ("..", "a path without `..` segments"),
            ("../etc/passwd", "a path without `..` segments"),
            ("a/../../etc", "a path without `..` segments"),
            ("a/..", "a path without `..` segments"),
            ("/etc/passwd", "a relative path (it starts with `/`)"),
            ("//etc", "a relative path (it starts with `/`)"),
            ("a\0.txt", "a path without NUL bytes"),
            ("..\\windows", "a path without backslashes"),
            ("\\\\server\\share", "a path without backslashes"),
            ("C:", "a path without a drive prefix (`C:`)"),
            ("c:windows", "a path without a drive prefix (`C:`)"),
            ("a/D:/x", "a path without a drive prefix (`C:`)"),
        ];
        for (value, expected) in rows {
            let error = SafePath::new(value).unwrap_err();
            assert_eq!((error.expected(), error.code()), (expected, 40011), "{value:?}");
        }
    }

    #[test]
    fn joins_under_the_base() {
        let path = SafePath::new("docs/a.txt").unwrap();
        assert_eq!(path.join_under("/srv"), Path::new("/srv/docs/a.txt"));
        assert_eq!(path.as_path(), Path::new("docs/a.txt"));
        assert_eq!(path.to_string(), "docs/a.txt");
    }
}
