//! The checks behind the fuzz targets, one module per target. Each
//! `check(data)` panics when the property it guards breaks; libFuzzer
//! records that input as a crash under `artifacts/<target>/`.
//!
//! The checks are a library so that `cargo test` here replays the committed
//! seeds (`corpus/<target>/`) through them without libFuzzer.
#![deny(missing_docs)]

pub mod extractors;
pub mod lookup;
pub mod param_decode;

/// Splits `METHOD rest` at the first space; without a space the method is
/// `GET` and everything is `rest`.
pub(crate) fn split_method(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b' ') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (b"GET", data),
    }
}

#[cfg(test)]
pub(crate) mod seeds {
    use std::path::Path;

    /// Runs `check` on every committed seed of `target`.
    pub(crate) fn replay(target: &str, check: fn(&[u8])) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            check(&std::fs::read(&path).unwrap());
            count += 1;
        }
        // Hand-made seeds only: a grown corpus belongs in `work/` (ignored).
        assert!((3..=32).contains(&count), "{}: {count} seeds", dir.display());
    }
}
