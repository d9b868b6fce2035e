//! A renderer set with `mambo::error::set_renderer` renders every error: the
//! framework's, the extractors' rejections and derived `ApiError`s. Its own
//! test binary, since the renderer is process-wide.

use mambo::error::{render_json, set_renderer};
use mambo::extract::rejection::JsonRejection;
use mambo::prelude::*;

fn plain(status: StatusCode, code: u32, message: &str) -> Response {
    (status, [("content-type", "text/plain")], format!("E{code}: {message}")).into_response()
}

#[derive(Debug, ApiError)]
#[api(code = 40901, message = "taken")]
struct Taken;

#[test]
fn every_error_goes_through_the_renderer() {
    let before = Error::not_found().into_response();
    assert_eq!(before.headers()["content-type"], "application/json");

    set_renderer(plain).expect("first call sets the renderer");
    assert!(set_renderer(render_json).is_err(), "a second call must not replace it");

    let rows = [
        (Error::not_found().into_response(), 404, "E40400: no route matches this path"),
        (
            JsonRejection::UnsupportedMediaType.into_response(),
            415,
            "E41500: expected a request body with `content-type: application/json`",
        ),
        (Taken.into_response(), 409, "E40901: taken"),
        (None::<String>.into_response(), 404, "E40400: not found"),
    ];
    for (response, status, text) in rows {
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.body().as_bytes().unwrap(), text.as_bytes());
    }
}
