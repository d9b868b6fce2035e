use mambo::prelude::*;

#[fallback]
async fn api_not_found() -> &'static str {
    "no such endpoint"
}

#[fallback]
async fn admin_not_found() -> &'static str {
    "no such page"
}

mambo::router! {
    struct Api {
        scope "/api" {
            fallback: api_not_found,
        },
        scope "/api" {
            fallback: admin_not_found,
        },
    }
}

fn main() {}
