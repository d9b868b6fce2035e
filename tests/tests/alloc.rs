//! The hot path allocates nothing that raw hyper does not: allocations per
//! request on the server side of a real hyper HTTP/1.1 connection, Mambo's
//! server serving the hello app vs a raw hyper service doing the same work;
//! and what one tower layer adds, exactly. How the counting works:
//! `mambo_tests::alloc_harness`.
//!
//! `cargo test -p mambo-tests --test alloc -- --nocapture` prints the numbers.

use std::hint::black_box;

use mambo_tests::alloc_harness::{self, CountingAllocator, ENDPOINTS, Measured, WARMUP};

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
        for (server, m) in [
            ("mambo", &c.mambo),
            ("mambo+layer", &c.mambo_layer),
            ("mambo+metrics", &c.mambo_metrics),
            ("raw hyper", &c.raw_hyper),
        ] {
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
        let layered = alloc_harness::parse(&c.mambo_layer.first_response);
        assert_eq!(mambo, layered, "{}: Mambo answered differently behind a layer", endpoint.name);
        let metered = alloc_harness::parse(&c.mambo_metrics.first_response);
        assert_eq!(mambo, metered, "{}: Mambo answered differently with metrics", endpoint.name);

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

/// Mambo's allocations per request in steady state, by endpoint, with no
/// layer: the same as at 4ee4c70, before tower layers existed (a router that
/// lists none pays nothing for them), and as raw hyper's or fewer.
const STEADY_ALLOCS: [(&str, u64); 4] =
    [("plaintext", 4), ("json", 4), ("user-post", 7), ("ping", 4)];

/// What one tower layer costs per request, in allocations: 2 for the copy
/// of the request's headers handed to the service, 3 for its extensions
/// (the map, its table and the connection's `ConnInfo` in it), and 2 boxed
/// futures (the layer's service's and the rest of the chain's). tower-http's
/// `SetResponseHeaderLayer` itself allocates nothing: the response's header
/// map has room for one more.
const LAYER_ALLOCS: u64 = 7;

/// The allocation count most measured requests made: the steady state (on
/// `json` and `ping` about 1% of a window's requests make fewer, and the one
/// during which the wall clock's second changes makes one more, for hyper's
/// `Date` header).
fn steady(m: &Measured) -> u64 {
    m.histogram.iter().max_by_key(|(_, requests)| *requests).map_or(0, |(allocs, _)| *allocs)
}

/// A router that lists no layer allocates what it did before layers
/// existed, and one layer (`mambo-bench-server-layer`'s router: the hello
/// endpoints and the GitHub set behind tower-http's
/// `SetResponseHeaderLayer::if_not_present`) adds exactly [`LAYER_ALLOCS`],
/// on every endpoint. The layered router's routes without the layer
/// (`BenchApi`) allocate what the hello app does, so the difference is the
/// layer's.
#[test]
fn one_tower_layer_adds_a_fixed_number_of_allocations() {
    for (endpoint, (name, zero)) in ENDPOINTS.into_iter().zip(STEADY_ALLOCS) {
        assert_eq!(endpoint.name, name);
        let c = alloc_harness::compare(endpoint, REQUESTS);
        let bench = alloc_harness::measure_server(
            alloc_harness::serve_bench,
            &endpoint.request(),
            WARMUP,
            REQUESTS,
        );
        let (mambo, layer) = (steady(&c.mambo), steady(&c.mambo_layer));
        println!(
            "{name}: mambo {mambo}, bench {}, mambo+layer {layer} allocs/req; \
             bytes/req {:.1} -> {:.1}",
            steady(&bench),
            c.mambo.counts.bytes_per_request(),
            c.mambo_layer.counts.bytes_per_request()
        );
        assert_eq!(steady(&bench), mambo, "{name}: BenchApi vs Hello: {:?}", bench.histogram);
        assert_eq!(mambo, zero, "{name}: no layer: {:?}", c.mambo.histogram);
        assert_eq!(layer, zero + LAYER_ALLOCS, "{name}: one layer: {:?}", c.mambo_layer.histogram);
    }
}

/// Per-route metrics (`mambo-bench-server-metrics`'s router: the same
/// routes with `metrics:`) allocate nothing per request: the same steady
/// count as without, on every endpoint.
#[test]
fn metrics_add_no_allocation_per_request() {
    for (endpoint, (name, zero)) in ENDPOINTS.into_iter().zip(STEADY_ALLOCS) {
        let c = alloc_harness::compare(endpoint, REQUESTS);
        let metered = steady(&c.mambo_metrics);
        println!(
            "{name}: mambo {}, mambo+metrics {metered} allocs/req; bytes/req {:.1} -> {:.1}",
            steady(&c.mambo),
            c.mambo.counts.bytes_per_request(),
            c.mambo_metrics.counts.bytes_per_request()
        );
        assert_eq!(metered, zero, "{name}: with metrics: {:?}", c.mambo_metrics.histogram);
        assert!(
            c.mambo_metrics.counts.bytes_per_request() <= c.mambo.counts.bytes_per_request() + 1.0,
            "{name}: metrics allocate bytes: {} vs {}",
            c.mambo_metrics.counts,
            c.mambo.counts
        );
    }
}

/// Pipelined requests (16 per write, as wrk's pipelining and TechEmpower's
/// plaintext test send them): Mambo answers each batch with one write
/// where raw hyper makes one per response (`server/coalesce.rs`), the
/// responses are the ones sent one at a time, and holding them allocates
/// nothing per request: the steady count of requests sent one at a time.
#[test]
fn a_pipelined_batch_is_one_write_and_allocates_nothing_more() {
    use alloc_harness::pipelined::{self, measure_pipelined};
    const DEPTH: usize = 16;
    const BATCHES: usize = 100;
    for (endpoint, (name, steady_allocs)) in ENDPOINTS.into_iter().zip(STEADY_ALLOCS) {
        let request = endpoint.request();
        let mambo = measure_pipelined(pipelined::serve_mambo, &request, DEPTH, 20, BATCHES);
        let raw = measure_pipelined(pipelined::serve_raw_hyper, &request, DEPTH, 20, BATCHES);
        println!(
            "{name}: mambo {:.2} writes/batch, {}; raw hyper {:.2} writes/batch, {}",
            mambo.writes_per_batch, mambo.counts, raw.writes_per_batch, raw.counts
        );
        assert_eq!(mambo.writes_per_batch, 1.0, "{name}");
        assert_eq!(raw.writes_per_batch, DEPTH as f64, "{name}: raw hyper, the baseline");
        assert!(
            mambo.counts.allocs <= steady_allocs * mambo.counts.requests,
            "{name}: {} pipelined, steady {steady_allocs} one at a time",
            mambo.counts
        );
        assert!(
            mambo.counts.allocs_per_request() <= raw.counts.allocs_per_request(),
            "{name}: mambo {} vs raw hyper {}",
            mambo.counts,
            raw.counts
        );
        let one = alloc_harness::measure_server(alloc_harness::serve_mambo, &request, 1, 1);
        let alone = alloc_harness::parse(&one.first_response);
        let batch = String::from_utf8(mambo.first_batch).expect("UTF-8 responses");
        let responses: Vec<&str> = batch.split("HTTP/1.1 ").filter(|r| !r.is_empty()).collect();
        assert_eq!(responses.len(), DEPTH, "{name}: {batch}");
        for response in responses {
            let parsed = alloc_harness::parse(format!("HTTP/1.1 {response}").as_bytes());
            assert_eq!(parsed, alone, "{name}: a pipelined response differs from a lone one");
        }
    }
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
    let [("mambo", mambo), ("mambo+layer", layer), ("mambo+metrics", metered), ("raw-hyper", raw)] =
        alloc_harness::measure("plaintext", 100)
    else {
        panic!("servers out of order");
    };
    // Up to two requests are left out when the wall clock's second changes.
    for counts in [mambo, layer, metered, raw] {
        assert!((98..=100).contains(&counts.requests), "{counts}");
    }
    assert!(mambo.allocs_per_request() <= raw.allocs_per_request(), "mambo {mambo}, raw {raw}");
}
