use mambo::prelude::*;

#[route(GET "/users/:id/posts/:slug")]
async fn post(id: u64, slg: String) -> String {
    format!("{id} {slg}")
}

#[route(GET "/members")]
async fn members(org: String) -> String {
    org
}

mambo::router! {
    struct Api {
        routes: [post],
        scope "/orgs/:org" {
            routes: [members],
        },
    }
}

fn main() {}
