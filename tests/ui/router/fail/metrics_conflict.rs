use mambo::prelude::*;

#[route(GET "/metrics")]
async fn mine() -> &'static str {
    "mine"
}

mambo::router! {
    struct Api {
        routes: [mine],
        metrics: "/metrics",
    }
}

fn main() {}
