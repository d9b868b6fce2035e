//! What a router needs to be mounted in another: `mount:` in `router!`.
//!
//! `router!` implements [`Mount`] for every router it declares; the parent's
//! constructor builds each mounted router once, through it, from its own
//! state. The routes themselves reach the parent at compile time (each
//! `router!` leaves a hidden macro carrying its routes, as `#[route]` does
//! for one handler); nothing here runs per request.

/// A router that a router with state `P` can mount: it builds itself from a
/// reference to the parent's state.
///
/// `router!` implements it for every router: one without state for every
/// `P`, one with state `S` where `S: FromRef<P>`. Not meant to be
/// implemented by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a router: `mount:` takes a struct declared with `mambo::router!`",
    label = "not a `router!` struct",
    note = "list the routes to mount in `mambo::router! {{ pub struct Name {{ routes: [..] }} }}`, then mount it by the path of that struct: `mount: module::Name`"
)]
pub trait Mount<P>: Sized {
    /// Builds the router from the parent router's state.
    fn mount(parent: &P) -> Self;
}
