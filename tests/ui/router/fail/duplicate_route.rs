use mambo::prelude::*;

#[route(GET "/admin/users")]
async fn list_users() -> &'static str {
    "users"
}

#[route(GET | POST "/users")]
async fn admin_users() -> &'static str {
    "admin users"
}

mambo::router! {
    struct Api {
        routes: [list_users],
        scope "/admin" {
            routes: [admin_users],
        },
    }
}

fn main() {}
