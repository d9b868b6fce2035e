//! Heap profiles: this test binary runs jemalloc as its global allocator
//! with profiling on (`jemalloc_heap_profiling!`), keeps a few MiB alive
//! from a function of its own, and fetches `/debug/pprof/heap` over a real
//! socket: a gzipped pprof profile whose samples name that function.

#[path = "pprof/support.rs"]
mod support;

use std::hint::black_box;
use std::sync::Mutex;

use mambo::observe::pprof;
use mambo::prelude::*;
use support::{decode, get, serve, stacks};

mambo::observe::pprof::jemalloc_heap_profiling!();

#[route(GET "/debug/pprof/heap")]
async fn heap() -> Response {
    pprof::heap_profile().await
}

mambo::router! {
    struct App {
        routes: [heap],
    }
}

/// What the profile must find: kept alive until the process ends.
static RETAINED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// 64 blocks of 256 KiB (16 MiB): with one sample per 512 KiB allocated
/// on average, about 32 of them are sampled.
#[inline(never)]
fn retain_for_the_heap_profile() {
    let mut retained = RETAINED.lock().unwrap();
    for i in 0..64 {
        retained.push(black_box(vec![i as u8; 256 * 1024]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heap_profile_decodes_with_samples() {
    retain_for_the_heap_profile();
    let addr = serve(App::new());
    let answer = get(addr, "/debug/pprof/heap").await;

    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("application/octet-stream"));
    let profile = decode(&answer.body);
    let types: Vec<(&str, &str)> = profile
        .sample_type
        .iter()
        .map(|t| (&*profile.string_table[t.ty as usize], &*profile.string_table[t.unit as usize]))
        .collect();
    assert_eq!(types, [("inuse_space", "bytes")]);
    // The allocator's frames are named for `go tool pprof` to drop.
    let drop_frames = &profile.string_table[profile.drop_frames as usize];
    assert!(drop_frames.contains("|_rjem_.*|"), "{drop_frames}");

    let stacks = stacks(&profile);
    assert!(!stacks.is_empty(), "no samples");
    let retained: i64 = profile
        .sample
        .iter()
        .zip(&stacks)
        .filter(|(_, stack)| stack.iter().any(|name| name.contains("retain_for_the_heap_profile")))
        .map(|(sample, _)| sample.value[0])
        .sum();
    // About 16 MiB is retained; sampling makes it approximate.
    assert!(
        retained >= 4 << 20,
        "{retained} bytes under `retain_for_the_heap_profile`: {stacks:#?}"
    );
}
