//! What the generated dispatcher needs for `fallback:` in `router!`.

use crate::routing::split_segment;

/// Whether `path` lies under a scope prefix given as its segments, where
/// `":"` stands for a parameter (any non-empty segment; no static segment
/// holds a `:`): `/admin`, `/admin/` and `/admin/x` lie under `["admin"]`,
/// `/administrator` does not. The empty prefix holds every path.
///
/// Segments are compared raw (percent-encoded), as the lookup compares
/// them.
pub fn under_prefix(path: &str, prefix: &[&str]) -> bool {
    let Some(mut rest) = path.strip_prefix('/') else { return prefix.is_empty() };
    for (position, expected) in prefix.iter().enumerate() {
        let (segment, tail) = split_segment(rest);
        let matches = if *expected == ":" { !segment.is_empty() } else { segment == *expected };
        if !matches {
            return false;
        }
        match tail {
            Some(tail) => rest = tail,
            None => return position + 1 == prefix.len(),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::under_prefix;

    #[test]
    fn paths_under_prefixes() {
        let rows: &[(&str, &[&str], bool)] = &[
            ("/admin", &["admin"], true),
            ("/admin/", &["admin"], true),
            ("/admin/x/y", &["admin"], true),
            ("/administrator", &["admin"], false),
            ("/", &["admin"], false),
            ("/x", &[], true),
            ("/", &[], true),
            ("/orgs/rust/x", &["orgs", ":"], true),
            ("/orgs/rust", &["orgs", ":"], true),
            ("/orgs/", &["orgs", ":"], false),
            ("/orgs//x", &["orgs", ":"], false),
            ("/orgs", &["orgs", ":"], false),
            ("/a/b", &["a", "b", "c"], false),
            ("/caf%C3%A9/x", &["caf%C3%A9"], true),
        ];
        for (path, prefix, expected) in rows {
            assert_eq!(under_prefix(path, prefix), *expected, "{path} under {prefix:?}");
        }
    }
}
