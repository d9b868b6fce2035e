use mambo::prelude::*;

mod users {
    use mambo::prelude::*;

    #[route(GET "/:id")]
    pub async fn get(id: u64) -> String {
        id.to_string()
    }

    mambo::router! {
        pub struct UsersApi {
            middleware: [layer(tower::limit::ConcurrencyLimitLayer::new(4))],
            routes: [get],
        }
    }
}

#[fallback]
async fn missing() -> &'static str {
    "nothing here"
}

#[route(GET "/")]
async fn index() -> &'static str {
    "index"
}

mambo::router! {
    struct Api {
        routes: [index],
        scope "/users" {
            mount: users::UsersApi,
        },
    }
}

mambo::router! {
    struct Other {
        routes: [index],
        scope "/admin" {
            middleware: [layer(tower::limit::ConcurrencyLimitLayer::new(4))],
            fallback: missing,
        },
    }
}

fn main() {}
