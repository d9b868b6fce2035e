//! Mambo's example services, as a library so that tests and benchmarks can
//! load the same routers the binaries in `src/bin/` serve.
#![deny(missing_docs)]

pub mod alloc;
pub mod bookmarks;
pub mod chat;
pub mod hello;
pub mod server_env;
pub mod socket_activation;
pub mod todo;
