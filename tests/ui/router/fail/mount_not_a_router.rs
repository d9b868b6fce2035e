mod users {
    pub struct UsersApi;
}

mambo::router! {
    struct Api {
        scope "/users" {
            mount: users::UsersApi,
        },
    }
}

fn main() {}
