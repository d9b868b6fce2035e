//! What the framework owns in the generated dispatch, through real
//! `router!` routers: with the in-process client, and over sockets where
//! the wire matters. Every socket test bounds its own running time.

#[path = "dispatch/support.rs"]
mod support;

#[path = "dispatch/deadline.rs"]
mod deadline;
#[path = "dispatch/error_report.rs"]
mod error_report;
#[path = "dispatch/extension.rs"]
mod extension;
#[path = "dispatch/head.rs"]
mod head;
#[path = "dispatch/safe_path.rs"]
mod safe_path;
#[path = "dispatch/server_limits.rs"]
mod server_limits;
