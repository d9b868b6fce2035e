use mambo::prelude::*;

mod users {
    use mambo::prelude::*;

    #[route(GET "/:id")]
    async fn get_user(id: u64) -> String {
        format!("user {id}")
    }

    #[route(GET "/admin")]
    async fn admin() -> &'static str {
        "users admin"
    }

    mambo::router! {
        pub struct UsersApi {
            routes: [get_user, admin],
        }
    }
}

mod accounts {
    use mambo::prelude::*;

    #[route(GET "/:user_id/settings")]
    async fn settings(user_id: u64) -> String {
        format!("settings of {user_id}")
    }

    mambo::router! {
        pub struct Accounts {
            routes: [settings],
        }
    }
}

#[route(GET "/users/admin")]
async fn users_admin() -> &'static str {
    "admin"
}

mambo::router! {
    struct Api {
        routes: [users_admin],
        scope "/users" {
            mount: [users::UsersApi, accounts::Accounts],
        },
    }
}

fn main() {}
