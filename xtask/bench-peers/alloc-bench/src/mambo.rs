//! The Mambo rows: the hello app's service on one connection, through the
//! runtime's real connection code. See README.md, "Hooks".

pub use mambo_bench_app::serve_connection;
