use mambo::prelude::*;

#[route(GET "/u/:id")]
async fn user(id: u64) -> String {
    id.to_string()
}

#[route(GET "/u/:name/x")]
async fn user_x(name: &str) -> String {
    name.to_owned()
}

mambo::router! {
    struct Api {
        routes: [user, user_x],
    }
}

fn main() {}
