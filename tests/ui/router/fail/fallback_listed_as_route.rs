use mambo::prelude::*;

#[fallback]
async fn not_found() -> &'static str {
    "nothing here"
}

mambo::router! {
    struct Api {
        routes: [not_found],
    }
}

fn main() {}
