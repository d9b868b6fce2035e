use mambo::prelude::*;

#[route(GET "/files/*path")]
async fn files(path: &str) -> String {
    path.to_owned()
}

mambo::router! {
    struct Api {
        routes: [files],
        service "/files/*path" => tower::service_fn(|_: http::Request<mambo::Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(mambo::Body::Empty))
        }),
    }
}

mambo::router! {
    struct Missing {
        service "/x" tower::service_fn(|_: http::Request<mambo::Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(mambo::Body::Empty))
        }),
    }
}

fn main() {}
