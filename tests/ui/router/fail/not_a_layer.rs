use mambo::prelude::*;

#[route(GET "/")]
async fn index() -> &'static str {
    "index"
}

struct NotALayer;

mambo::router! {
    struct Api {
        middleware: [layer(NotALayer)],
        routes: [index],
    }
}

mambo::router! {
    struct Other {
        routes: [index],
        service "/files/*path" => "not a service",
    }
}

fn main() {}
