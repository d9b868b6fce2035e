use mambo::prelude::*;

#[route(GET "/users//posts")]
async fn posts() -> &'static str {
    "posts"
}

fn main() {}
