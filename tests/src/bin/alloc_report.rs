//! Allocations and bytes per request, Mambo (without and with one tower
//! layer) vs raw hyper, per hello endpoint, through hyper's real HTTP/1.1
//! connection code: the `cargo xtask bench alloc` suite. Prints
//! tab-separated rows: `server, endpoint, requests, allocs/request,
//! bytes/request`.
//!
//! `alloc_report [--requests N]` (default 10 000).

use mambo_tests::alloc_harness::{self, CountingAllocator, ENDPOINTS};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut requests = 10_000;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|n| n.parse().ok())) {
            ("--requests", Some(n)) => requests = n,
            _ => {
                eprintln!("usage: alloc_report [--requests N]");
                std::process::exit(2);
            }
        }
    }
    println!("server\tendpoint\trequests\tallocs/request\tbytes/request");
    for endpoint in ENDPOINTS {
        for (server, counts) in alloc_harness::measure(endpoint.name, requests) {
            println!(
                "{server}\t{}\t{}\t{:.2}\t{:.1}",
                endpoint.name,
                counts.requests,
                counts.allocs_per_request(),
                counts.bytes_per_request()
            );
        }
    }
}
