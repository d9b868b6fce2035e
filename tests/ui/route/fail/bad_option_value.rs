use mambo::prelude::*;

#[route(POST "/users", body_limit = "64 parsecs", timeout = "soon")]
async fn create() -> &'static str {
    "created"
}

fn main() {}
