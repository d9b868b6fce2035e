use mambo::prelude::*;

struct User;

#[route(GET "/user")]
async fn user() -> User {
    User
}

mambo::router! {
    struct Api {
        routes: [user],
    }
}

fn main() {}
