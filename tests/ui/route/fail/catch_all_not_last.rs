use mambo::prelude::*;

#[route(GET "/static/*path/edit")]
async fn edit(path: &str) -> String {
    path.to_owned()
}

fn main() {}
