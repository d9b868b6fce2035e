mod users {
    use mambo::prelude::*;

    #[route(GET "/:id")]
    pub async fn get_user(id: u64) -> String {
        format!("user {id}")
    }
}

mambo::router! {
    struct Api {
        mount: users::get_user,
    }
}

fn main() {}
