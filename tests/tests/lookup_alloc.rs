//! `lookup` allocates nothing: the whole GitHub set, hits and misses,
//! under a counting global allocator.
//!
//! The count is per thread: the test harness runs tests (and prints their
//! names) on other threads at the same time, and their allocations are not
//! the lookup's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mambo::{Lookup, Method};
use mambo_github_router::github::GithubApi;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts one allocation on this thread (none while the thread is being
/// torn down).
fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

/// Allocations made on this thread so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn lookup_over_the_github_set_allocates_nothing() {
    let requests: Vec<(Method, String)> = include_str!("../data/github_requests.txt")
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(method, path)| (Method::from_bytes(method.as_bytes()).unwrap(), path.to_owned()))
        .collect();
    let misses: Vec<(Method, String)> = requests
        .iter()
        .flat_map(|(_, path)| [(Method::PATCH, path.clone()), (Method::GET, format!("{path}/x/y"))])
        .collect();
    let api = GithubApi::new();

    let before = allocations();
    let mut found = 0;
    for (method, path) in &requests {
        found += usize::from(matches!(api.lookup(method, path), Lookup::Found { .. }));
    }
    let mut missed = 0;
    for (method, path) in &misses {
        missed += usize::from(!matches!(api.lookup(method, path), Lookup::Found { .. }));
    }
    let allocations = allocations() - before;

    assert_eq!(found, requests.len(), "every concrete request hits");
    assert!(missed > requests.len(), "most mutated requests miss ({missed})");
    assert_eq!(allocations, 0, "lookup allocated {allocations} times");
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(7));
    assert!(allocations() > before);
    drop(boxed);
}
