use mambo::prelude::*;

#[route(GET "/health")]
async fn health() -> &'static str {
    "ok"
}

async fn forgotten() -> &'static str {
    "no #[route]"
}

mambo::router! {
    struct Api {
        routes: [health, forgotten],
    }
}

fn main() {}
