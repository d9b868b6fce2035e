//! Routers mounted in routers (`mount:`): one dispatcher for the whole
//! tree, the child's state taken from the parent's, middleware nested
//! parent outside, child inside.

use std::sync::Mutex;

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use mambo::test::TestClient;

/// Records the order middleware runs in, per test (by `x-trace` value).
static TRACE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn trace<S>(cx: &RequestContext<'_, S>, event: &str) {
    if let Some(test) = cx.headers().get("x-trace") {
        let test = test.to_str().unwrap();
        TRACE.lock().unwrap().push(format!("{test}: {event}"));
    }
}

fn traced(test: &str) -> Vec<String> {
    let prefix = format!("{test}: ");
    TRACE
        .lock()
        .unwrap()
        .iter()
        .filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

macro_rules! tracing_middleware {
    ($($name:ident),*) => {$(
        #[derive(Default)]
        struct $name;

        impl<S: Sync> Middleware<S> for $name {
            type Local = ();

            async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
                trace(cx, concat!(stringify!($name), " before"));
                Flow::Continue
            }

            async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
                trace(cx, concat!(stringify!($name), " after"));
                response.headers_mut().append("x-seen-by", stringify!($name).parse().unwrap());
            }
        }
    )*};
}

tracing_middleware!(ParentGlobal, ParentScope, ChildGlobal, ChildScope);

/// The parent's state; the child's is a part of it.
#[derive(Clone)]
struct AppState {
    users: UsersState,
    name: &'static str,
}

#[derive(Clone)]
struct UsersState {
    prefix: &'static str,
}

impl FromRef<AppState> for UsersState {
    fn from_ref(state: &AppState) -> UsersState {
        state.users.clone()
    }
}

mod users {
    use mambo::prelude::*;

    use super::{ChildGlobal, ChildScope, UsersState};

    #[route(GET "/:id")]
    async fn get_user(id: u64, State(state): State<UsersState>) -> String {
        format!("{}{id}", state.prefix)
    }

    #[route(GET "/")]
    fn list() -> &'static str {
        "all users"
    }

    #[route(DELETE "/:id")]
    fn delete_user(id: u64) -> String {
        format!("deleted {id}")
    }

    #[route(GET "/:id/posts/*rest")]
    fn post(id: u64, rest: &str) -> String {
        format!("user {id}, post {rest}")
    }

    #[route(GET "/stats")]
    fn stats(cx_route: Option<Header<mambo::extract::UserAgent>>) -> String {
        let _ = cx_route;
        "stats".to_owned()
    }

    mambo::router! {
        pub struct UsersApi {
            state: UsersState,
            middleware: [ChildGlobal],
            routes: [get_user, list, delete_user, post],
            scope "/admin" {
                middleware: [ChildScope],
                routes: [stats],
            },
        }
    }
}

mod health {
    use mambo::prelude::*;

    #[route(GET "/health")]
    fn health() -> &'static str {
        "ok"
    }

    mambo::router! {
        /// A router without state mounts in any router.
        pub(crate) struct Health {
            routes: [health],
        }
    }
}

mod orgs {
    use mambo::prelude::*;

    #[route(GET "/members/:member")]
    fn member(member: &str) -> String {
        format!("member {member}")
    }

    mambo::router! {
        pub struct Orgs {
            routes: [member],
        }
    }
}

#[route(GET "/")]
fn index(State(state): State<AppState>) -> &'static str {
    state.name
}

mambo::router! {
    struct Api {
        state: AppState,
        middleware: [ParentGlobal],
        routes: [index],
        mount: health::Health,
        scope "/users" {
            middleware: [ParentScope],
            mount: users::UsersApi,
        },
        scope "/orgs/:org" {
            mount: [orgs::Orgs],
        },
    }
}

fn api() -> Api {
    Api::new(AppState { users: UsersState { prefix: "user #" }, name: "the api" })
}

#[tokio::test]
async fn mounted_routes_answer_under_their_prefix_with_the_childs_state() {
    let client = TestClient::new(api());
    assert_eq!(client.get("/").send().await.text(), "the api");
    assert_eq!(client.get("/health").send().await.text(), "ok");
    assert_eq!(client.get("/users/7").send().await.text(), "user #7");
    assert_eq!(client.get("/users").send().await.text(), "all users");
    assert_eq!(client.delete("/users/7").send().await.text(), "deleted 7");
    assert_eq!(client.get("/users/7/posts/a/b").send().await.text(), "user 7, post a/b");
    assert_eq!(client.get("/orgs/rust/members/ada").send().await.text(), "member ada");
}

#[tokio::test]
async fn middleware_runs_parent_outside_child_inside() {
    let client = TestClient::new(api());
    let response = client.get("/users/admin/stats").header("x-trace", "order").send().await;
    assert_eq!(response.text(), "stats");
    assert_eq!(
        traced("order"),
        [
            "ParentGlobal before",
            "ParentScope before",
            "ChildGlobal before",
            "ChildScope before",
            "ChildScope after",
            "ChildGlobal after",
            "ParentScope after",
            "ParentGlobal after",
        ]
    );
}

#[test]
fn routes_list_the_childs_routes_with_full_patterns() {
    let rows: Vec<(&str, &str)> = Api::ROUTES.iter().map(|r| (r.pattern, r.handler)).collect();
    assert_eq!(
        rows,
        [
            ("/", "index"),
            ("/health", "health::health"),
            ("/users/:id", "users::get_user"),
            ("/users", "users::list"),
            ("/users/:id", "users::delete_user"),
            ("/users/:id/posts/*rest", "users::post"),
            ("/users/admin/stats", "users::stats"),
            ("/orgs/:org/members/:member", "orgs::member"),
        ]
    );
    let child: Vec<&str> = users::UsersApi::ROUTES.iter().map(|r| r.pattern).collect();
    assert_eq!(child, ["/:id", "/", "/:id", "/:id/posts/*rest", "/admin/stats"]);
}
