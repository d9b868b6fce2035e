//! The hot path allocates nothing that raw hyper does not: allocations per
//! request on the server side of a real hyper HTTP/1.1 connection, Mambo's
//! server serving the hello app vs a raw hyper service doing the same work.
//! How the counting works: `mambo_tests::alloc_harness`.
//!
//! `cargo test -p mambo-tests --test alloc -- --nocapture` prints the numbers.

use std::hint::black_box;

use mambo_tests::alloc_harness::{self, CountingAllocator, ENDPOINTS, WARMUP};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Measured requests per endpoint and server.
const REQUESTS: usize = 1_000;

#[test]
fn mambo_allocates_no_more_per_request_than_raw_hyper() {
    let mut worse = Vec::new();
    println!("{:<10} {:>10} {:>14} {:>14}", "endpoint", "server", "allocs/req", "bytes/req");
    for endpoint in ENDPOINTS {
        let c = alloc_harness::compare(endpoint, REQUESTS);
        for (server, m) in [("mambo", &c.mambo), ("raw hyper", &c.raw_hyper)] {
            println!(
                "{:<10} {:>10} {:>14.2} {:>14.1}   (allocs, requests): {:?}, {} excluded",
                endpoint.name,
                server,
                m.counts.allocs_per_request(),
                m.counts.bytes_per_request(),
                m.histogram,
                m.excluded,
            );
        }

        // Both served the same thing, and the right thing.
        let mambo = alloc_harness::parse(&c.mambo.first_response);
        let raw = alloc_harness::parse(&c.raw_hyper.first_response);
        assert_eq!(mambo, raw, "{}: Mambo and raw hyper answered differently", endpoint.name);
        assert_eq!(mambo.status_line, "HTTP/1.1 200 OK", "{}", endpoint.name);
        assert_eq!(mambo.content_type.as_deref(), Some(endpoint.content_type), "{}", endpoint.name);
        assert_eq!(mambo.body, endpoint.body, "{}", endpoint.name);

        if c.mambo.counts.allocs_per_request() > c.raw_hyper.counts.allocs_per_request() {
            worse.push(format!(
                "{}: Mambo {} vs raw hyper {}",
                endpoint.name, c.mambo.counts, c.raw_hyper.counts
            ));
        }
    }
    assert!(
        worse.is_empty(),
        "Mambo allocates more per request than raw hyper (MAMBO_ALLOC_TRACE=N prints where):\n{}",
        worse.join("\n")
    );
}

#[test]
fn the_counter_counts_allocations_and_bytes() {
    let ((), counts) = alloc_harness::count(|| {
        drop(black_box(Box::new([0u8; 100])));
        let mut v: Vec<u64> = black_box(Vec::with_capacity(4));
        v.extend(0..5); // grows: one realloc
        drop(black_box(v));
    });
    assert_eq!(counts.allocs, 3, "{counts}");
    assert!(counts.bytes >= 100 + 32 + 40, "{counts}");

    let ((), none) = alloc_harness::count(|| black_box(()));
    assert_eq!(none.allocs, 0, "{none}");
}

/// The harness sees an allocation the server makes per request, and only
/// the server's: raw hyper plus one 64-byte box per request measures exactly
/// one allocation and 64 bytes per request more than raw hyper.
#[test]
fn the_harness_sees_one_extra_allocation_per_request() {
    async fn leaky(io: tokio::io::DuplexStream) {
        let service = hyper::service::service_fn(|request| {
            drop(black_box(Box::new([0u8; 64])));
            alloc_harness::raw_hyper_service(request)
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(io), service)
            .await;
    }
    let request = ENDPOINTS[0].request();
    let raw = alloc_harness::measure_server(alloc_harness::serve_raw_hyper, &request, WARMUP, 300);
    let leaky = alloc_harness::measure_server(leaky, &request, WARMUP, 300);
    assert_eq!(
        leaky.counts.allocs,
        raw.counts.allocs + 300,
        "raw: {}, leaky: {}",
        raw.counts,
        leaky.counts
    );
    assert_eq!(
        leaky.counts.bytes,
        raw.counts.bytes + 300 * 64,
        "raw: {}, leaky: {}",
        raw.counts,
        leaky.counts
    );
    assert!(
        raw.counts.allocs > 0,
        "raw hyper's own per-request allocations were not seen: {}",
        raw.counts
    );
}

/// The xtask entry point measures what `compare` does.
#[test]
fn measure_by_name() {
    let (mambo, raw) = alloc_harness::measure("plaintext", 100);
    assert_eq!((mambo.requests, raw.requests), (100, 100));
    assert!(mambo.allocs_per_request() <= raw.allocs_per_request(), "mambo {mambo}, raw {raw}");
}
