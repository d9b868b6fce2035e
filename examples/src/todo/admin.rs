//! `RequireAdmin`: what protects the todo service's operator routes
//! (`/internal/..`: metrics, and the profiles with the `pprof` feature).
//!
//! A bearer token, compared in constant time; the routes are closed (403)
//! when the service was started without one. Prometheus sends it with
//! `authorization: { type: Bearer, credentials: .. }` in its scrape
//! configuration.

use mambo::RequestContext;
use mambo::http::StatusCode;
use mambo::middleware::{Flow, Middleware};
use mambo::{Error, IntoResponse};

/// Lets a request through only with `authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct RequireAdmin {
    token: Option<String>,
}

impl RequireAdmin {
    /// Requires `token`; with `None`, refuses every request.
    pub fn new(token: Option<&str>) -> Self {
        RequireAdmin { token: token.map(str::to_owned) }
    }

    fn allows(&self, header: Option<&[u8]>) -> bool {
        let (Some(token), Some(header)) = (&self.token, header) else { return false };
        let Some(given) = header.strip_prefix(b"Bearer ") else { return false };
        // The same time whichever byte differs first.
        given.len() == token.len()
            && given.iter().zip(token.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl<S: Sync> Middleware<S> for RequireAdmin {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        let header = cx.headers().get(mambo::header::AUTHORIZATION).map(|value| value.as_bytes());
        if self.allows(header) {
            return Flow::Continue;
        }
        let error = if self.token.is_none() {
            Error::with_code(
                StatusCode::FORBIDDEN,
                40320,
                "operator routes are closed: start the service with TODO_ADMIN_TOKEN set",
            )
        } else {
            Error::with_code(
                StatusCode::UNAUTHORIZED,
                40120,
                "operator routes need `authorization: Bearer <TODO_ADMIN_TOKEN>`",
            )
        };
        Flow::Respond(error.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let admin = RequireAdmin::new(Some("s3cret"));
        assert!(admin.allows(Some(b"Bearer s3cret")));
        for wrong in [&b"Bearer s3cre"[..], b"Bearer s3cretx", b"bearer s3cret", b"s3cret", b""] {
            assert!(!admin.allows(Some(wrong)), "{wrong:?}");
        }
        assert!(!admin.allows(None));
        assert!(!RequireAdmin::new(None).allows(Some(b"Bearer ")));
    }
}
