//! Heap profiles: jemalloc's sampling profiler, dumped by `jemalloc_pprof`.

use std::ffi::c_char;
use std::io::Read as _;

use http::StatusCode;
use pprof::protos::{Message as _, Profile};

use super::{
    HEAP_PROFILING_INACTIVE_CODE, HEAP_PROFILING_OFF_CODE, blocking, forget_symbols, gzip,
    pprof_response, profiler_failed,
};
use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// Makes jemalloc the global allocator of the program, with its heap
/// profiler on, so that [`heap_profile`](super::heap_profile) has a profile
/// to answer. Write it once, at the top level of the binary crate (a
/// library must leave the allocator to the program):
///
/// ```no_run
/// mambo::observe::pprof::jemalloc_heap_profiling!();
/// # fn main() {}
/// ```
///
/// It expands to the two items jemalloc profiling needs:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
///
/// // jemalloc's configuration, read once at startup; exported under both
/// // names jemalloc may look it up by (`_rjem_` is tikv-jemallocator's
/// // prefix, absent with its `unprefixed_malloc_on_supported_platforms`).
/// #[unsafe(export_name = "_rjem_malloc_conf")]
/// static CONF: MallocConf = MallocConf::new("prof:true,prof_active:true,lg_prof_sample:19\0");
/// #[unsafe(export_name = "malloc_conf")]
/// static CONF_UNPREFIXED: MallocConf = MallocConf::new("prof:true,prof_active:true,lg_prof_sample:19\0");
/// ```
///
/// `lg_prof_sample:19` samples one allocation per 2^19 bytes (512 KiB)
/// allocated, on average: jemalloc's default, cheap enough to leave on in
/// production (a sampled allocation records its stack). Give another
/// configuration as a string literal, in jemalloc's `malloc_conf` syntax
/// (`prof:true` is needed; `prof_active:false` starts with the profiler
/// off):
///
/// ```no_run
/// mambo::observe::pprof::jemalloc_heap_profiling!("prof:true,prof_active:true,lg_prof_sample:17");
/// # fn main() {}
/// ```
///
/// The environment variable `_RJEM_MALLOC_CONF` (`MALLOC_CONF` when
/// unprefixed) overrides it at run time.
///
/// # A program that already chose jemalloc
///
/// A program that installs tikv-jemallocator 0.7 as its global allocator
/// itself (behind a feature of its own, say) needs only the
/// configuration; Mambo's `pprof-heap` turns on tikv-jemallocator's
/// `profiling` feature for the whole build:
///
/// ```no_run
/// use mambo::observe::pprof::MallocConf;
///
/// #[global_allocator]
/// static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
///
/// #[unsafe(export_name = "_rjem_malloc_conf")]
/// static MALLOC_CONF: MallocConf = MallocConf::new("prof:true,prof_active:true,lg_prof_sample:19\0");
/// # fn main() {}
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! __jemalloc_heap_profiling {
    () => {
        $crate::__jemalloc_heap_profiling!("prof:true,prof_active:true,lg_prof_sample:19");
    };
    ($conf:literal) => {
        #[global_allocator]
        static __MAMBO_JEMALLOC: $crate::__private::Jemalloc = $crate::__private::Jemalloc;

        const _: () = {
            #[unsafe(export_name = "_rjem_malloc_conf")]
            static PREFIXED: $crate::observe::pprof::MallocConf =
                $crate::observe::pprof::MallocConf::new(::core::concat!($conf, "\0"));
            #[unsafe(export_name = "malloc_conf")]
            static UNPREFIXED: $crate::observe::pprof::MallocConf =
                $crate::observe::pprof::MallocConf::new(::core::concat!($conf, "\0"));
        };
    };
}

#[doc(inline)]
pub use crate::__jemalloc_heap_profiling as jemalloc_heap_profiling;

/// jemalloc's configuration string as jemalloc reads it at startup: the
/// `const char *malloc_conf` it looks up by name. Built by
/// [`jemalloc_heap_profiling!`]; there is no other use for it.
#[repr(transparent)]
#[derive(Debug)]
pub struct MallocConf(*const c_char);

// SAFETY: the pointer is to a `'static` string that nothing writes.
unsafe impl Sync for MallocConf {}

impl MallocConf {
    /// Points at `conf`, which must end with a NUL byte.
    ///
    /// # Panics
    ///
    /// When `conf` does not end with `\0` (at compile time, in a static).
    pub const fn new(conf: &'static str) -> Self {
        assert!(
            !conf.is_empty() && conf.as_bytes()[conf.len() - 1] == 0,
            "jemalloc's configuration must end with a NUL byte"
        );
        MallocConf(conf.as_ptr().cast())
    }
}

pub(super) async fn heap_profile() -> Response {
    match dump().await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn dump() -> Result<Response, Error> {
    // `None` when jemalloc's `opt.prof` is off: no `prof:true` in its
    // configuration (jemalloc itself is linked in either way).
    let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
        return Err(Error::with_code(
            StatusCode::NOT_IMPLEMENTED,
            HEAP_PROFILING_OFF_CODE,
            "heap profiling is off: the program must run jemalloc with `prof:true` \
             (`mambo::observe::pprof::jemalloc_heap_profiling!()`)",
        ));
    };
    let mut ctl = ctl.clone().lock_owned().await;
    if !ctl.activated() {
        return Err(Error::with_code(
            StatusCode::SERVICE_UNAVAILABLE,
            HEAP_PROFILING_INACTIVE_CODE,
            "jemalloc's heap profiler is switched off (`prof.active` is false)",
        ));
    }
    // jemalloc writes the dump to a temporary file, which is read back,
    // symbolized and gzipped: blocking work.
    let gzipped = blocking("the heap profile could not be built", move || {
        let dumped = ctl.dump_pprof();
        drop(ctl);
        forget_symbols();
        let dumped =
            dumped.map_err(|error| profiler_failed("the heap profile", format!("{error:#}")))?;
        with_allocator_frames_dropped(&dumped)
    })
    .await??;
    Ok(pprof_response(gzipped, "attachment; filename=\"heap.pb.gz\""))
}

/// The frames of the allocator itself, from the Rust side's entry into it
/// down to jemalloc's own stack walk: the `drop_frames` of the profile, a
/// regular expression that pprof matches against whole function names,
/// cutting each stack at the first (outermost) match. Without it every
/// stack's leaf would be jemalloc's `prof_backtrace_impl`, and `-top`
/// would say nothing. Go's own heap profiles have their allocator frames
/// removed the same way.
const ALLOCATOR_FRAMES: &str = concat!(
    // The global allocator's shims and `alloc::alloc`.
    r"__rust_(alloc|alloc_zeroed|realloc)|__rustc::__rust_(alloc|alloc_zeroed|realloc)",
    r"|__rg_(alloc|alloc_zeroed|realloc)|<tikv_jemallocator::Jemalloc as core::alloc::.*",
    r"|alloc::alloc::.*|<alloc::alloc::Global as core::alloc::Allocator>::.*",
    // jemalloc: its entry points (prefixed or not), what they inline, and
    // its profiler.
    r"|_rjem_.*|je_.*|do_rallocx|imalloc.*|prof_backtrace.*",
    r"|malloc|calloc|realloc|mallocx|rallocx|posix_memalign|aligned_alloc",
);

/// Adds [`ALLOCATOR_FRAMES`] to jemalloc_pprof's gzipped profile.
fn with_allocator_frames_dropped(gzipped: &[u8]) -> Result<Vec<u8>, Error> {
    let failed = |error: &dyn std::fmt::Display| profiler_failed("the heap profile", error);
    let mut proto = Vec::new();
    flate2::read::GzDecoder::new(gzipped).read_to_end(&mut proto).map_err(|e| failed(&e))?;
    let mut profile = Profile::decode(proto.as_slice()).map_err(|e| failed(&e))?;
    profile.drop_frames = i64::try_from(profile.string_table.len()).map_err(|e| failed(&e))?;
    profile.string_table.push(ALLOCATOR_FRAMES.to_owned());
    gzip(&profile.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_points_at_its_text() {
        let conf = MallocConf::new("prof:true\0");
        // SAFETY: the pointer is to the `'static` literal above, NUL-ended.
        let text = unsafe { std::ffi::CStr::from_ptr(conf.0) };
        assert_eq!(text.to_str().unwrap(), "prof:true");
    }

    #[test]
    #[should_panic(expected = "must end with a NUL byte")]
    fn conf_without_nul_panics() {
        let _ = MallocConf::new("prof:true");
    }
}
