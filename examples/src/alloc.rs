//! The memory allocation of the example binaries, chosen by cargo feature.
//!
//! | features | allocator |
//! |---|---|
//! | default (`malloc-trim`) | the system allocator (glibc malloc), trimmed every second |
//! | none (`--no-default-features`) | the system allocator, untouched |
//! | `mimalloc` | [mimalloc](https://crates.io/crates/mimalloc) |
//! | `jemalloc` | jemalloc, through [tikv-jemallocator](https://crates.io/crates/tikv-jemallocator) |
//!
//! # Why the default
//!
//! `cargo xtask attack --case burst-rss` sends hello 10 bursts of 9 000
//! connections from 250 loopback addresses, each answered and closed, and
//! asks that the RSS after the tenth be at most 1.2 × the RSS after the
//! first. One run each, on 2 shared cores:
//!
//! | allocator | after the first | after the tenth | ratio | peak |
//! |---|---|---|---|---|
//! | system (glibc) | 164.1 MiB | 273.8 MiB | ×1.67 | 282.6 MiB |
//! | **system + `malloc-trim`** | 4.1 MiB | 4.6 MiB | ×1.13 | 163.9 MiB |
//! | mimalloc | 267.5 MiB | 44.3 MiB (40–185 between bursts) | ×0.17 | 267.5 MiB |
//! | jemalloc | 193.6 MiB | 483.2 MiB | ×2.50 | 547.8 MiB |
//!
//! glibc hands memory back to the kernel by itself only from the top of a
//! heap, and the buffers of thousands of connections, freed in any order
//! on several worker threads' arenas, leave free pages in the middle.
//! `malloc_trim(0)` also releases those (glibc ≥ 2.8), so the trimmed
//! server settles near its idle size (3.5 MiB) after every burst. mimalloc
//! gives memory back slowly and unevenly between bursts; jemalloc, with its
//! default decay, kept growing here. (An earlier three-run measurement sent
//! every burst from one address, so the per-client connection limit
//! answered most of them 503 and the figures were a few MiB; the ranking of
//! glibc and the trim was the same.)
//!
//! Speed is the same: instructions per hello `GET /plaintext` under
//! callgrind were 9 417–9 483 (system), 9 410–9 420 (trimmed), 9 100
//! (mimalloc) and 9 027 (jemalloc); `wrk -t1 -c50 -d10s` medians of five
//! runs, 144–162 k req/s, varied more between runs on this shared 2-core
//! machine than between allocators.
//!
//! # Installing it
//!
//! Each binary installs [`Chosen`] and starts the trimming itself:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;
//!
//! fn main() {
//!     mambo_examples::alloc::start_trimming();
//!     // …
//! }
//! ```
//!
//! The `#[global_allocator]` static lives in the binaries, not in this
//! library, because `mambo-tests` links the library into binaries that
//! install a counting allocator of their own, and cargo unifies a
//! dependency's features across the packages of one build
//! (`cargo test --workspace`): an allocator installed here would clash
//! with theirs at link time.
//!
//! Mambo itself (`mambo`, `runtime/`) installs no allocator and trims
//! nothing: that choice belongs to applications.

use std::time::Duration;

#[cfg(all(feature = "mimalloc", feature = "jemalloc"))]
compile_error!(
    "mambo-examples: the features `mimalloc` and `jemalloc` each install a global allocator; \
     enable at most one (e.g. `--features jemalloc`)"
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

/// The selected allocator's name: `system`, `mimalloc` or `jemalloc`.
pub const NAME: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else if cfg!(feature = "jemalloc") {
    "jemalloc"
} else {
    "system"
};

/// Whether [`start_trimming`] starts a thread: feature `malloc-trim`, no
/// other allocator chosen, and glibc underneath.
pub const TRIMS: bool = cfg!(all(
    feature = "malloc-trim",
    not(any(feature = "mimalloc", feature = "jemalloc")),
    target_os = "linux",
    target_env = "gnu"
));

/// The binaries' start-up line: `system, malloc_trim every 1 s`, or the
/// allocator's name.
pub const SUMMARY: &str = if TRIMS { "system, malloc_trim every 1 s" } else { NAME };

/// How often the trimming thread calls `malloc_trim(0)`: often enough that
/// memory is back a second after a burst; an idle heap trims in
/// microseconds.
pub const TRIM_PERIOD: Duration = Duration::from_secs(1);

/// Starts a thread, `malloc-trim`, that hands the heap's free pages back to
/// the kernel every [`TRIM_PERIOD`] when [`TRIMS`]; does nothing otherwise.
///
/// Each call walks every arena's free chunks under that arena's lock, so
/// a server with a heap of gigabytes may see a request wait for it; at the
/// examples' sizes it does not show.
pub fn start_trimming() {
    if !TRIMS {
        return;
    }
    let spawned = std::thread::Builder::new().name("malloc-trim".into()).spawn(|| {
        loop {
            std::thread::sleep(TRIM_PERIOD);
            trim_now();
        }
    });
    // A process that cannot start one more thread serves just as well
    // without this one.
    if let Err(e) = spawned {
        eprintln!("malloc-trim thread not started: {e}");
    }
}

/// One `malloc_trim(0)`: whether any memory went back to the kernel
/// (always `false` when [`TRIMS`] is not).
pub fn trim_now() -> bool {
    #[cfg(all(feature = "malloc-trim", target_os = "linux", target_env = "gnu"))]
    if TRIMS {
        // SAFETY: malloc_trim takes glibc's own arena locks and touches
        // only free chunks; any thread may call it at any time. Pad 0:
        // keep nothing spare at the top of the main heap.
        return unsafe { libc::malloc_trim(0) } == 1;
    }
    false
}

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

    /// The case the default is for: freed pages between live chunks, which
    /// glibc keeps until trimmed. (The test binary allocates with glibc's
    /// malloc whatever the features choose for the example binaries.)
    #[test]
    fn trimming_releases_pages_between_live_chunks() {
        if !TRIMS {
            assert!(!trim_now());
            return;
        }
        // 16 KiB is under glibc's mmap threshold: the chunks share a heap.
        let mut chunks: Vec<Vec<u8>> = (0..2_000).map(|i| vec![i as u8; 16 * 1024]).collect();
        let kept: Vec<Vec<u8>> = chunks.iter_mut().step_by(50).map(std::mem::take).collect();
        drop(chunks);
        assert!(trim_now(), "malloc_trim released nothing");
        assert_eq!(kept.len(), 40);
    }
}
