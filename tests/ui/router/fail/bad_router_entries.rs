mambo::router! {
    struct Api {
        routes: [],
        scope "/admin/" {
            routes: [],
        },
    }
}

mambo::router! {
    struct Other {
        rutes: [],
    }
}

mambo::router! {
    struct Third {
        trailing_slash: lenient,
    }
}

fn main() {}
