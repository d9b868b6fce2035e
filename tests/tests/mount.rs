//! Routers mounted in routers (`mount:`): one dispatcher for the whole
//! tree, the child's state taken from the parent's, middleware nested
//! parent outside, child inside.

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use mambo::test::TestClient;
use mambo_tests::trace::Trace;

/// The order middleware runs in, per test (by `x-trace` value).
static TRACE: Trace = Trace::new();

fn trace<S>(cx: &RequestContext<'_, S>, event: &str) {
    TRACE.record(cx, event);
}

fn traced(test: &str) -> Vec<String> {
    TRACE.of(test)
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

/// Tells, in `x-route`, the route and first parameter the middleware's
/// context describes: in a mounted router, its own.
#[derive(Default)]
struct Route;

impl<S: Sync> Middleware<S> for Route {
    type Local = Option<String>;

    async fn before(&self, cx: &mut RequestContext<'_, S>, seen: &mut Option<String>) -> Flow {
        let route = cx.route().map_or("none", |route| route.pattern);
        *seen = Some(format!("{route} {}", cx.raw_param(0).unwrap_or("-")));
        // Left in the request for the parent's middleware to find.
        cx.extensions_mut().insert(ChildWasHere);
        cx.headers_mut().insert("x-child-added", "yes".parse().unwrap());
        Flow::Continue
    }

    async fn after(
        &self,
        _: &RequestContext<'_, S>,
        seen: &mut Option<String>,
        response: &mut Response,
    ) {
        let seen = seen.take().unwrap_or_default();
        response.headers_mut().insert("x-route", seen.parse().unwrap());
    }
}

#[derive(Clone)]
struct ChildWasHere;

/// Reports, after the handler, what the request looks like to the parent:
/// its path, and what the child's middleware left in it.
#[derive(Default)]
struct Handback;

impl<S: Sync> Middleware<S> for Handback {
    type Local = ();

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
        let seen = format!(
            "{} {} {} {}",
            cx.path(),
            cx.route().map_or("none", |route| route.pattern),
            cx.extensions().get::<ChildWasHere>().is_some(),
            cx.headers().contains_key("x-child-added"),
        );
        response.headers_mut().insert("x-handback", seen.parse().unwrap());
    }
}

/// Answers 401 unless `x-member: yes`; reads the parent's `:org`.
#[derive(Default)]
struct RequireMember;

impl<S: Sync> Middleware<S> for RequireMember {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        trace(cx, "RequireMember before");
        if cx.headers().get("x-member").is_some_and(|v| v == "yes") {
            let org = cx.raw_param_named("org").unwrap_or("?").to_owned();
            cx.headers_mut().insert("x-org", org.parse().unwrap());
            Flow::Continue
        } else {
            Flow::Respond(Error::new(StatusCode::UNAUTHORIZED, "members only").into_response())
        }
    }
}

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
    fn stats() -> &'static str {
        "stats"
    }

    #[route(GET "/panic")]
    async fn panics() -> &'static str {
        panic!("child handler exploded")
    }

    #[route(GET "/slow", timeout = "50ms")]
    async fn slow() -> &'static str {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        "too late"
    }

    #[route(POST "/echo", body_limit = "8B")]
    async fn echo(body: String) -> String {
        body
    }

    mambo::router! {
        pub struct UsersApi {
            state: UsersState,
            middleware: [ChildGlobal, super::Route],
            routes: [get_user, list, delete_user, post, panics, slow, echo],
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
    fn member(member: &str, headers: HeaderMap) -> String {
        let org = headers.get("x-org").map_or("-", |v| v.to_str().unwrap());
        format!("member {member} of {org}")
    }

    #[route(GET "/")]
    fn org() -> &'static str {
        "the org"
    }

    mambo::router! {
        pub struct Orgs {
            routes: [member, org],
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
        middleware: [ParentGlobal, Handback],
        routes: [index],
        mount: health::Health,
        scope "/users" {
            middleware: [ParentScope],
            mount: users::UsersApi,
        },
        scope "/orgs/:org" {
            middleware: [RequireMember],
            mount: [orgs::Orgs],
        },
    }
}

// The same routers mounted in a router that redirects trailing slashes.
mambo::router! {
    struct Redirecting {
        state: AppState,
        trailing_slash: redirect,
        scope "/users" {
            mount: users::UsersApi,
        },
        scope "/orgs/:org" {
            mount: orgs::Orgs,
        },
    }
}

fn state() -> AppState {
    AppState { users: UsersState { prefix: "user #" }, name: "the api" }
}

fn client() -> TestClient<Api> {
    TestClient::new(Api::new(state()))
}

#[tokio::test]
async fn mounted_routes_answer_under_their_prefix_with_the_childs_state() {
    let client = client();
    assert_eq!(client.get("/").send().await.text(), "the api");
    assert_eq!(client.get("/health").send().await.text(), "ok");
    assert_eq!(client.get("/users/7").send().await.text(), "user #7");
    assert_eq!(client.get("/users").send().await.text(), "all users", "the child's `/`");
    assert_eq!(client.delete("/users/7").send().await.text(), "deleted 7");
    assert_eq!(client.get("/users/7/posts/a/b%20c").send().await.text(), "user 7, post a/b c");
    assert_eq!(client.post("/users/echo").body("hi").send().await.text(), "hi");
}

#[tokio::test]
async fn parameters_of_the_child_come_after_those_of_the_prefix() {
    let client = client();
    let response = client.get("/orgs/rust/members/ada").header("x-member", "yes").send().await;
    assert_eq!(response.text(), "member ada of rust");
    assert_eq!(client.get("/orgs/rust").header("x-member", "yes").send().await.text(), "the org");
    let response = client.get("/users/7/posts/x").send().await;
    assert_eq!(response.header("x-route"), Some("/:id/posts/*rest 7"), "the child's own route");
    let response = client.get("/users/abc").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "the child's parameter parse");
    assert!(response.text().contains("`id`"), "{}", response.text());
}

#[tokio::test]
async fn middleware_runs_parent_outside_child_inside() {
    let client = client();
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
    let seen: Vec<&str> =
        response.headers().get_all("x-seen-by").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(seen, ["ChildScope", "ChildGlobal", "ParentScope", "ParentGlobal"]);
}

#[tokio::test]
async fn a_parent_scope_middleware_answers_before_the_child_runs() {
    let client = client();
    let response = client.get("/orgs/rust/members/ada").header("x-trace", "early").send().await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        traced("early"),
        ["ParentGlobal before", "RequireMember before", "ParentGlobal after"]
    );
}

#[tokio::test]
async fn the_parent_gets_the_request_back_with_what_the_child_added() {
    let client = client();
    let response = client.get("/users/7").send().await;
    assert_eq!(response.header("x-handback"), Some("/users/7 /users/:id true true"));
    // Also when the child's future is dropped at its deadline.
    let response = client.get("/users/slow").send().await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(response.header("x-handback"), Some("/users/slow /users/slow true true"));
    // And when its handler panics.
    let response = client.get("/users/panic").send().await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.header("x-handback"), Some("/users/panic /users/panic true true"));
}

#[tokio::test]
async fn the_childs_route_options_hold_in_the_parent() {
    let client = client();
    let response = client.post("/users/echo").body("far too long").send().await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let echo = Api::ROUTES.iter().find(|r| r.pattern == "/users/echo").unwrap();
    assert_eq!(echo.body_limit, Some(8));
    let slow = Api::ROUTES.iter().find(|r| r.pattern == "/users/slow").unwrap();
    assert_eq!(slow.timeout, Some(std::time::Duration::from_millis(50)));
}

#[tokio::test]
async fn misses_405_and_trailing_slashes_span_the_composition() {
    let client = client();
    assert_eq!(client.get("/users/7/nope").send().await.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get("/nope").send().await.status(), StatusCode::NOT_FOUND);
    let response = client.post("/users/7").send().await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    let response = client.options("/users/7").send().await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = client.head("/users/7").send().await;
    assert_eq!((response.status(), response.bytes().len()), (StatusCode::OK, 0));
    assert_eq!(client.get("/users/").send().await.status(), StatusCode::NOT_FOUND, "strict");

    let redirecting = TestClient::new(Redirecting::new(state()));
    let response = redirecting.get("/users/").send().await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), Some("/users"));
    let response = redirecting.get("/orgs/rust/members/ada/").send().await;
    assert_eq!(response.header("location"), Some("/orgs/rust/members/ada"));
    assert_eq!(redirecting.get("/users/7").send().await.text(), "user #7");
}

#[tokio::test]
async fn a_mounted_router_still_works_alone() {
    let alone = TestClient::new(users::UsersApi::new(UsersState { prefix: "alone #" }));
    assert_eq!(alone.get("/7").send().await.text(), "alone #7");
    assert_eq!(alone.get("/").send().await.text(), "all users");
    assert_eq!(alone.get("/users/7").send().await.status(), StatusCode::NOT_FOUND);
    let response = alone.get("/7").send().await;
    assert_eq!(response.header("x-route"), Some("/:id 7"));
    let child = users::UsersApi::new(UsersState { prefix: "" });
    assert!(matches!(child.lookup(&Method::GET, "/admin/stats"), mambo::Lookup::Found { .. }));
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
            ("/users/panic", "users::panics"),
            ("/users/slow", "users::slow"),
            ("/users/echo", "users::echo"),
            ("/users/admin/stats", "users::stats"),
            ("/orgs/:org/members/:member", "orgs::member"),
            ("/orgs/:org", "orgs::org"),
        ]
    );
    let member = Api::ROUTES.iter().find(|r| r.handler == "orgs::member").unwrap();
    assert_eq!(member.params, ["org", "member"]);
    let child: Vec<&str> = users::UsersApi::ROUTES.iter().map(|r| r.pattern).collect();
    assert_eq!(
        child,
        ["/:id", "/", "/:id", "/:id/posts/*rest", "/panic", "/slow", "/echo", "/admin/stats"]
    );
    assert_eq!(orgs::Orgs::ROUTES[0].params, ["member"]);
}

/// Enough routes for several chunks of the chain (64) and dispatch groups
/// (32), on both sides of the mount.
mod many {
    use mambo::prelude::*;

    macro_rules! routes {
        ($router:ident $vis:vis [$($name:ident $path:literal)*] $($rest:tt)*) => {
            $(
                #[route(GET $path)]
                fn $name() -> &'static str { $path }
            )*
            mambo::router! {
                $vis struct $router {
                    routes: [$($name),*],
                    $($rest)*
                }
            }
        };
    }

    routes!(Child pub(crate) [
        c0 "/c0" c1 "/c1" c2 "/c2" c3 "/c3" c4 "/c4" c5 "/c5" c6 "/c6" c7 "/c7" c8 "/c8" c9 "/c9"
        c10 "/c10" c11 "/c11" c12 "/c12" c13 "/c13" c14 "/c14" c15 "/c15" c16 "/c16" c17 "/c17"
        c18 "/c18" c19 "/c19" c20 "/c20" c21 "/c21" c22 "/c22" c23 "/c23" c24 "/c24" c25 "/c25"
        c26 "/c26" c27 "/c27" c28 "/c28" c29 "/c29" c30 "/c30" c31 "/c31" c32 "/c32" c33 "/c33"
        c34 "/c34" c35 "/c35" c36 "/c36" c37 "/c37" c38 "/c38" c39 "/c39" c40 "/c40"
    ]);

    routes!(Parent pub(crate) [
        p0 "/p0" p1 "/p1" p2 "/p2" p3 "/p3" p4 "/p4" p5 "/p5" p6 "/p6" p7 "/p7" p8 "/p8" p9 "/p9"
        p10 "/p10" p11 "/p11" p12 "/p12" p13 "/p13" p14 "/p14" p15 "/p15" p16 "/p16" p17 "/p17"
        p18 "/p18" p19 "/p19" p20 "/p20" p21 "/p21" p22 "/p22" p23 "/p23" p24 "/p24" p25 "/p25"
        p26 "/p26" p27 "/p27" p28 "/p28" p29 "/p29" p30 "/p30" p31 "/p31" p32 "/p32" p33 "/p33"
        p34 "/p34" p35 "/p35" p36 "/p36" p37 "/p37" p38 "/p38" p39 "/p39" p40 "/p40" p41 "/p41"
        p42 "/p42" p43 "/p43" p44 "/p44" p45 "/p45" p46 "/p46" p47 "/p47" p48 "/p48" p49 "/p49"
        p50 "/p50" p51 "/p51" p52 "/p52" p53 "/p53" p54 "/p54" p55 "/p55" p56 "/p56" p57 "/p57"
        p58 "/p58" p59 "/p59" p60 "/p60" p61 "/p61" p62 "/p62" p63 "/p63" p64 "/p64" p65 "/p65"
    ] scope "/child" { mount: Child });
}

#[tokio::test]
async fn large_routers_mount_across_chunks_and_groups() {
    assert_eq!(many::Parent::ROUTES.len(), 66 + 41);
    let client = TestClient::new(many::Parent::new());
    assert_eq!(client.get("/p65").send().await.text(), "/p65");
    assert_eq!(client.get("/child/c0").send().await.text(), "/c0");
    assert_eq!(client.get("/child/c40").send().await.text(), "/c40");
}
