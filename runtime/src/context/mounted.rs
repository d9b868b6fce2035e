//! The context a mounted router's code runs with: the parent router's
//! request, seen through the child router's state, route and parameters.
//!
//! When a router mounts another (`mount: users::UsersApi` in `router!`), the
//! parent's dispatcher matches the child's routes itself and then calls into
//! the child, whose middleware and extractors expect a
//! `RequestContext<'_, ChildState>` describing the child's own route. A
//! [`Mounted`] lends the parent's request head to such a context for the
//! length of the call: the head moves (a few pointer-sized fields, no
//! allocation), the child's context takes a box from the same per-thread
//! pool as every context, and on drop the head, with whatever the child's
//! middleware changed in it, goes back to the parent's context, so the
//! parent's middleware sees it in `after`. Drop also runs when the request's
//! future is dropped mid-way (a deadline, a closed connection).

use super::RequestContext;
use super::pool::Pooled;
use crate::routing::RouteInfo;

/// A child router's context, holding the parent's request head until it is
/// dropped.
///
/// Built by the code `router!` generates for a mounted router; not meant to
/// be used by hand.
#[derive(Debug)]
pub struct Mounted<'p, 'a, 'c, P, C> {
    parent: &'p mut RequestContext<'a, P>,
    child: RequestContext<'c, C>,
}

impl<'p, 'a, 'c, P, C> Mounted<'p, 'a, 'c, P, C> {
    /// Moves the request head out of `parent` into a context with the child
    /// router's `state` and `route` (`None` for its fallback), whose
    /// parameters are the parent's without the first `skip` (the parameters
    /// of the prefix the child is mounted under, which the child's patterns
    /// do not have).
    #[inline]
    pub fn new(
        parent: &'p mut RequestContext<'a, P>,
        state: &'c C,
        route: Option<&'static RouteInfo>,
        skip: usize,
    ) -> Self {
        let parts = parent.data.take_parts();
        let mut data = Pooled::new(parts, parent.data.conn, route);
        data.params = parent.data.params.skip(skip);
        Mounted { parent, child: RequestContext { data, state } }
    }

    /// The child router's context.
    #[inline]
    pub fn context(&mut self) -> &mut RequestContext<'c, C> {
        &mut self.child
    }
}

impl<P, C> Drop for Mounted<'_, '_, '_, P, C> {
    fn drop(&mut self) {
        self.parent.data.parts = self.child.data.take_parts();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnInfo;
    use crate::routing::{ParamSlots, Params};

    const CHILD_ROUTE: RouteInfo = RouteInfo {
        index: 0,
        methods: &["GET"],
        pattern: "/posts/:post",
        handler: "posts::get",
        params: &["post"],
        body_limit: Some(64),
        timeout: None,
    };

    fn parent_context<'s>(path: &str, state: &'s u8) -> RequestContext<'s, u8> {
        let (parts, ()) = http::Request::get(path).body(()).unwrap().into_parts();
        // `/orgs/:org/posts/:post`, mounted under `/orgs/:org`.
        let params = Params::new(&["org", "post"], [&path[6..10], &path[17..]]);
        let slots = ParamSlots::from_params(&params, path);
        RequestContext::new(parts, state, ConnInfo::default(), None).with_params(slots)
    }

    #[test]
    fn the_child_sees_its_own_state_route_and_parameters() {
        let (parent_state, child_state) = (1u8, "child");
        let mut parent = parent_context("/orgs/rust/posts/42", &parent_state);
        let mut mounted = Mounted::new(&mut parent, &child_state, Some(&CHILD_ROUTE), 1);
        let child = mounted.context();
        assert_eq!(*child.state(), "child");
        assert_eq!(child.path(), "/orgs/rust/posts/42");
        assert_eq!(child.raw_param(0), Some("42"));
        assert_eq!(child.raw_param_named("post"), Some("42"));
        assert_eq!(child.raw_param(1), None);
        assert_eq!(child.body_limit(), 64);
    }

    #[test]
    fn the_head_goes_back_to_the_parent_with_the_childs_changes() {
        let state = 0u8;
        let mut parent = parent_context("/orgs/rust/posts/42", &state);
        {
            let mut mounted = Mounted::new(&mut parent, &(), Some(&CHILD_ROUTE), 1);
            let child = mounted.context();
            child.headers_mut().insert("x-child", "yes".parse().unwrap());
            child.extensions_mut().insert(7u32);
        }
        assert_eq!(parent.path(), "/orgs/rust/posts/42");
        assert_eq!(parent.headers()["x-child"], "yes");
        assert_eq!(parent.extensions().get::<u32>(), Some(&7));
        assert_eq!(parent.raw_param(0), Some("rust"), "the parent keeps its parameters");
    }

    #[test]
    fn a_forgotten_child_context_still_gives_the_head_back() {
        let state = 0u8;
        let mut parent = parent_context("/orgs/rust/posts/42", &state);
        let mounted = Mounted::new(&mut parent, &(), Some(&CHILD_ROUTE), 1);
        // What a dropped future does: the value goes without `context` ever
        // being awaited to the end.
        drop(mounted);
        assert_eq!(parent.path(), "/orgs/rust/posts/42");
    }
}
