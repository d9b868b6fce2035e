use mambo::prelude::*;

#[route(POST "/users", max_body = "64KiB")]
async fn create() -> &'static str {
    "created"
}

fn main() {}
