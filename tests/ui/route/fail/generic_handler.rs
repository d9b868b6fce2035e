use mambo::prelude::*;

#[route(GET "/x")]
async fn generic<T: Default>() -> &'static str {
    "x"
}

fn main() {}
