use mambo::prelude::*;

#[route(GET "/users/{id}")]
async fn user(id: u64) -> String {
    id.to_string()
}

#[route(GET "/files/a:b")]
async fn file() -> &'static str {
    "file"
}

#[route(GET "users")]
async fn no_slash() -> &'static str {
    "users"
}

fn main() {}
