use mambo::prelude::*;

#[route(GET "/a")]
async fn a() -> &'static str {
    "a"
}

mambo::router! {
    struct Api {
        routes: [a],
        metrics: "/metrics",
        metrics_buckets: [0.1, 0.01],
    }
}

fn main() {
    let _ = Api::new();
}
