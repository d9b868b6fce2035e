//! The `host` header rule of RFC 9112 §3.2: an HTTP/1.1 request carries
//! exactly one. A request without one, or with two that may disagree, is
//! how cache poisoning and routing confusion behind proxies start, so it is
//! refused before the router sees it (unless `Server::strict_host(false)`).

use http::header::HOST;
use http::{StatusCode, Version};

use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// Code of the 400 for a missing or repeated `host` header.
pub(crate) const CODE: u32 = 40010;

/// Whether `request` satisfies the rule: HTTP/1.0 and HTTP/2 always do.
#[inline]
pub(crate) fn is_valid(request: &http::request::Parts) -> bool {
    if request.version != Version::HTTP_11 {
        return true;
    }
    let mut hosts = request.headers.get_all(HOST).iter();
    hosts.next().is_some() && hosts.next().is_none()
}

/// The answer to a request that breaks the rule.
#[cold]
pub(crate) fn rejection() -> Response {
    tracing::debug!(target: "mambo::server", "request without exactly one `host` header");
    Error::with_code(
        StatusCode::BAD_REQUEST,
        CODE,
        "an HTTP/1.1 request needs exactly one `host` header",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: Version, hosts: &[&str]) -> http::request::Parts {
        let mut builder = http::Request::get("/").version(version);
        for host in hosts {
            builder = builder.header(HOST, *host);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn http11_needs_exactly_one_host() {
        assert!(is_valid(&request(Version::HTTP_11, &["a"])));
        assert!(!is_valid(&request(Version::HTTP_11, &[])));
        assert!(!is_valid(&request(Version::HTTP_11, &["a", "b"])));
        assert!(!is_valid(&request(Version::HTTP_11, &["a", "a"])));
    }

    #[test]
    fn http10_and_http2_are_not_checked() {
        assert!(is_valid(&request(Version::HTTP_10, &[])));
        assert!(is_valid(&request(Version::HTTP_2, &[])));
    }

    #[test]
    fn the_rejection_is_a_400_with_its_code() {
        let response = rejection();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = std::str::from_utf8(response.body().as_bytes().unwrap()).unwrap();
        assert!(body.contains("40010"), "{body}");
    }
}
