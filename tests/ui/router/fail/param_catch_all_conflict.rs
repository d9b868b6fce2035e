use mambo::prelude::*;

#[route(GET "/src/:id")]
async fn source(id: u64) -> String {
    id.to_string()
}

#[route(GET "/src/*path")]
async fn any_source(path: &str) -> String {
    path.to_owned()
}

mambo::router! {
    struct Api {
        routes: [source, any_source],
    }
}

fn main() {}
