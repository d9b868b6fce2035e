use mambo::prelude::*;

#[fallback(GET "/404")]
async fn not_found() -> &'static str {
    "nothing here"
}

mambo::router! {
    struct Api {
        fallback: not_found,
    }
}

fn main() {}
