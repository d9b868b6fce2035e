//! Mounting costs no allocation: a route answered through a parent router
//! (the request head handed to the child's context and back, the child's
//! context box from the same per-thread pool) allocates exactly what the
//! same route does in the child router alone.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use mambo::{Body, ConnInfo};
use mambo_tests::alloc_harness::{self, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// A middleware on each side, so that both context handovers run under
/// middleware that read and write the request.
#[derive(Default)]
struct Touch;

impl<S: Sync> Middleware<S> for Touch {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        black_box(cx.raw_param(0));
        Flow::Continue
    }
}

#[derive(Clone)]
struct ParentState(ChildState);

#[derive(Clone, Copy)]
struct ChildState(u64);

impl FromRef<ParentState> for ChildState {
    fn from_ref(state: &ParentState) -> ChildState {
        state.0
    }
}

mod child {
    use mambo::prelude::*;

    use super::{ChildState, Touch};

    #[route(GET "/posts/:post")]
    fn post(post: u64, State(state): State<ChildState>) -> StatusCode {
        if post == state.0 { StatusCode::OK } else { StatusCode::NOT_FOUND }
    }

    /// Allocates its answer: shows that the counting counts.
    #[route(GET "/names/:name")]
    fn name(name: &str) -> String {
        format!("hello {name}")
    }

    mambo::router! {
        pub struct Child {
            state: ChildState,
            middleware: [Touch],
            routes: [post, name],
        }
    }
}

mambo::router! {
    struct Parent {
        state: ParentState,
        middleware: [Touch],
        scope "/orgs/:org" {
            middleware: [Touch],
            mount: child::Child,
        },
    }
}

/// Runs one request to its end in a counted scope; the request is built
/// and the response dropped outside it.
fn allocations(router: &impl Router, path: &str) -> u64 {
    let request = http::Request::get(path).body(Body::Empty).unwrap();
    let (response, counts) = alloc_harness::count(|| {
        let mut future = pin!(router.handle(request, ConnInfo::default()));
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(response) = future.as_mut().poll(&mut cx) {
                break response;
            }
        }
    });
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    drop(response);
    counts.allocs
}

#[test]
fn a_mounted_route_allocates_what_it_does_alone() {
    let parent = Parent::new(ParentState(ChildState(7)));
    let alone = child::Child::new(ChildState(7));
    // Warm-up: fills this thread's pool of context boxes.
    for _ in 0..3 {
        allocations(&parent, "/orgs/rust/posts/7");
        allocations(&alone, "/posts/7");
    }
    for (path, expected) in [("/posts/7", "none"), ("/names/ada", "some")] {
        let mounted: u64 =
            (0..100).map(|_| allocations(&parent, &format!("/orgs/rust{path}"))).sum();
        let direct: u64 = (0..100).map(|_| allocations(&alone, path)).sum();
        println!("{path}: {mounted} allocations in 100 requests mounted, {direct} alone");
        assert_eq!(mounted, direct, "{path}: 100 requests mounted vs alone");
        assert_eq!(if direct == 0 { "none" } else { "some" }, expected, "{path}");
    }
}
