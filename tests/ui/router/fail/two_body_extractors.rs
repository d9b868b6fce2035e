use mambo::prelude::*;

#[derive(serde::Deserialize)]
struct NewUser {
    name: String,
}

#[route(POST "/users")]
async fn create(Json(user): Json<NewUser>, raw: String) -> String {
    format!("{} {raw}", user.name)
}

mambo::router! {
    struct Api {
        routes: [create],
    }
}

fn main() {}
