//! `cargo fuzz run lookup`: see [`mambo_fuzz::lookup`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mambo_fuzz::lookup::check(data));
