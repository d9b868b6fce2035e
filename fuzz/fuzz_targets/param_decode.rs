//! `cargo fuzz run param_decode`: see [`mambo_fuzz::param_decode`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mambo_fuzz::param_decode::check(data));
