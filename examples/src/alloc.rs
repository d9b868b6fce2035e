//! The global allocator of the example binaries, chosen by cargo feature.
//!
//! | feature | allocator |
//! |---|---|
//! | neither | the system allocator (glibc malloc on Linux) |
//! | `mimalloc` | [mimalloc](https://crates.io/crates/mimalloc) |
//! | `jemalloc` | jemalloc, through [tikv-jemallocator](https://crates.io/crates/tikv-jemallocator) |
//!
//! Each binary installs [`Chosen`] itself:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;
//! ```
//!
//! The `#[global_allocator]` static lives in the binaries, not in this
//! library, because `mambo-tests` links the library into binaries that
//! install a counting allocator of their own, and cargo unifies a
//! dependency's features across the packages of one build
//! (`cargo test --workspace`): an allocator installed here would clash
//! with theirs at link time.
//!
//! Mambo itself (`mambo`, `runtime/`) installs no allocator: that choice
//! belongs to applications.

#[cfg(all(feature = "mimalloc", feature = "jemalloc"))]
compile_error!(
    "mambo-examples: the features `mimalloc` and `jemalloc` each install a global allocator; \
     enable at most one (e.g. `--no-default-features --features jemalloc`)"
);

/// The allocator type the features select.
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
pub type Chosen = mimalloc::MiMalloc;
/// The allocator type the features select.
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
pub type Chosen = tikv_jemallocator::Jemalloc;
/// The allocator type the features select.
// Both features fall back here too, so that the `compile_error!` above is
// the only error printed.
#[cfg(any(
    not(any(feature = "mimalloc", feature = "jemalloc")),
    all(feature = "mimalloc", feature = "jemalloc")
))]
pub type Chosen = std::alloc::System;

/// The value to install as `#[global_allocator]`.
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
pub const CHOSEN: Chosen = mimalloc::MiMalloc;
/// The value to install as `#[global_allocator]`.
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
pub const CHOSEN: Chosen = tikv_jemallocator::Jemalloc;
/// The value to install as `#[global_allocator]`.
#[cfg(any(
    not(any(feature = "mimalloc", feature = "jemalloc")),
    all(feature = "mimalloc", feature = "jemalloc")
))]
pub const CHOSEN: Chosen = std::alloc::System;

/// The selected allocator's name, `system`, `mimalloc` or `jemalloc`, for
/// the binaries' start-up line.
pub const NAME: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else if cfg!(feature = "jemalloc") {
    "jemalloc"
} else {
    "system"
};

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::*;

    #[test]
    fn chosen_allocates_and_frees() {
        let layout = Layout::from_size_align(4096, 64).unwrap();
        // SAFETY: a non-zero-sized layout, freed once with the same layout
        // by the allocator that returned it.
        unsafe {
            let p = CHOSEN.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % 64, 0);
            p.write_bytes(0xAB, layout.size());
            CHOSEN.dealloc(p, layout);
        }
    }
}
