use mambo::prelude::*;

struct Database;

#[route(GET "/users")]
async fn users(db: Database) -> &'static str {
    let _ = db;
    "users"
}

mambo::router! {
    struct Api {
        routes: [users],
    }
}

fn main() {}
