//! 300 routes, more than rustc's default recursion limit of 128 macro
//! calls: gathering them must not need `#![recursion_limit]`.
use mambo::prelude::*;

macro_rules! routes {
    ($($name:ident $path:literal)*) => {
        $(
            #[route(GET $path)]
            fn $name() -> &'static str { $path }
        )*
        mambo::router! {
            struct Api {
                routes: [$($name),*],
            }
        }
    };
}

include!("many_routes.in");

fn main() {
    assert_eq!(Api::ROUTES.len(), 300);
    let api = Api::new();
    assert!(matches!(api.lookup(&Method::GET, "/r299"), mambo::Lookup::Found { route: 299, .. }));
}
