use mambo::prelude::*;

#[route(GET "/a")]
async fn a() -> &'static str {
    "a"
}

mambo::router! {
    struct Api {
        routes: [a],
        metrics_buckets: [0.01, 0.1, 1],
    }
}

fn main() {}
