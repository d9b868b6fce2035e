//! The smallest Mambo service: plaintext, JSON, path parameters.
//!
//! ```text
//! cargo run --release -p mambo-examples --bin hello
//! curl localhost:8080/json
//! ```

use mambo::prelude::*;

#[route(GET "/plaintext")]
async fn plaintext() -> &'static str {
    "Hello, World!"
}

#[route(GET "/user/:id/post/:slug")]
async fn user_post(id: u64, slug: &str) -> String {
    format!("user {id} post {slug}")
}

#[route(GET | POST "/ping")]
fn ping() -> &'static str {
    "ok"
}

mambo::router! {
    pub struct Hello {
        routes: [plaintext, user_post, ping],
    }
}

fn main() {
    let app = Hello::new();
    for route in Hello::ROUTES {
        println!("{:?} {} -> {}", route.methods, route.pattern, route.handler);
    }
    println!("{:?}", app.lookup(&Method::GET, "/user/7/post/hi"));
    println!("{:?}", app.lookup(&Method::DELETE, "/user/7/post/hi"));
    println!("{:?}", app.lookup(&Method::GET, "/nope"));
}
