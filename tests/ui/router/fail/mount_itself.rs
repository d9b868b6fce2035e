use mambo::prelude::*;

#[route(GET "/health")]
async fn health() -> &'static str {
    "ok"
}

mambo::router! {
    struct Api {
        routes: [health],
        scope "/v2" {
            mount: Api,
        },
    }
}

fn main() {}
