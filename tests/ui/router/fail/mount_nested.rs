mod v1 {
    pub mod users {
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
        pub struct V1 {
            scope "/users" {
                mount: users::UsersApi,
            },
        }
    }
}

mambo::router! {
    struct Api {
        scope "/v1" {
            mount: v1::V1,
        },
    }
}

fn main() {}
