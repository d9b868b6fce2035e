use mambo::prelude::*;

#[route(GRAB "/users")]
async fn users() -> &'static str {
    "users"
}

#[route(get "/items")]
async fn items() -> &'static str {
    "items"
}

fn main() {}
