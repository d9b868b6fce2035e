//! `cargo fuzz run extractors`: see [`mambo_fuzz::extractors`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mambo_fuzz::extractors::check(data));
