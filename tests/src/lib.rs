//! Integration tests live in `tests/`; this library holds what several test
//! binaries and the benchmarks share.
#![deny(missing_docs)]

pub mod alloc_harness;
pub mod served;
pub mod trace;
