use mambo::prelude::*;

#[route("/users")]
async fn users() -> &'static str {
    "users"
}

fn main() {}
