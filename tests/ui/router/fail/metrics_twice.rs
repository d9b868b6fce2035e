use mambo::prelude::*;

#[route(GET "/a")]
async fn a() -> &'static str {
    "a"
}

mambo::router! {
    struct Api {
        routes: [a],
        metrics: "/metrics",
        scope "/admin" {
            metrics: "/metrics",
        },
    }
}

fn main() {}
