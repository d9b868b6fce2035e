mod users {
    use mambo::prelude::*;

    #[route(GET "/:id")]
    async fn get_user(id: u64) -> String {
        format!("user {id}")
    }

    mambo::router! {
        pub struct UsersApi {
            routes: [get_user],
        }
    }
}

mambo::router! {
    struct Api {
        scope "/users" {
            mount: users::UserApi,
        },
    }
}

fn main() {}
