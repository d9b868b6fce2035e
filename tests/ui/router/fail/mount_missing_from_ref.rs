mod users {
    use mambo::prelude::*;

    #[derive(Clone)]
    pub struct UsersState;

    #[route(GET "/:id")]
    async fn get_user(id: u64, State(_users): State<UsersState>) -> String {
        format!("user {id}")
    }

    mambo::router! {
        pub struct UsersApi {
            state: UsersState,
            routes: [get_user],
        }
    }
}

#[derive(Clone)]
struct AppState;

mambo::router! {
    struct Api {
        state: AppState,
        scope "/users" {
            mount: users::UsersApi,
        },
    }
}

fn main() {}
