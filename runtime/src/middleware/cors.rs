//! `Cors`: Cross-Origin Resource Sharing headers and preflight answers.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderName,
    HeaderValue, ORIGIN, VARY,
};
use http::{Method, StatusCode};

use crate::context::RequestContext;
use crate::middleware::{Flow, Middleware};
use crate::response::{IntoResponse, Response};

/// The `tracing` target of CORS diagnostics (origins turned away, a `Cors`
/// that allows no origin).
pub const CORS_LOG_TARGET: &str = "mambo::cors";

const WILDCARD: HeaderValue = HeaderValue::from_static("*");
const TRUE: HeaderValue = HeaderValue::from_static("true");
const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("origin");
/// A preflight answer depends on all three request headers; caches must key
/// on them.
const VARY_PREFLIGHT: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);
const DEFAULT_METHODS: HeaderValue = HeaderValue::from_static("GET,HEAD,POST,PUT,PATCH,DELETE");
const DEFAULT_HEADERS: HeaderValue = HeaderValue::from_static("content-type,authorization");

/// Which origins may read responses.
#[derive(Clone)]
enum Origins {
    /// Exactly these (compared byte for byte, as browsers send them).
    List(Vec<HeaderValue>),
    /// `*`.
    Any,
    /// Whatever the request's `Origin` is.
    Mirror,
    /// Those the function accepts.
    Predicate(Arc<dyn Fn(&HeaderValue) -> bool + Send + Sync>),
}

/// What a preflight answer allows (methods, or headers).
#[derive(Debug, Clone)]
enum Allow {
    /// This comma-separated list; `None` for nothing.
    List(Option<HeaderValue>),
    /// `*`.
    Any,
    /// Whatever the preflight asked for.
    Mirror,
}

/// Answers CORS preflights and adds CORS headers to responses.
///
/// # Behavior
///
/// - A preflight (an `OPTIONS` request with `Origin` and
///   `Access-Control-Request-Method`) is answered in `before` with `204 No
///   Content`, without reaching the handler: `Access-Control-Allow-Origin`,
///   `-Allow-Methods`, `-Allow-Headers`, `-Allow-Credentials` and `-Max-Age`
///   as configured, and `Vary` on the three request headers.
/// - Any other request with an allowed `Origin` gets
///   `Access-Control-Allow-Origin` (plus `-Allow-Credentials` and
///   `-Expose-Headers` if configured) on its response in `after`, whatever
///   the status, so the page can read error bodies too.
/// - When the answer depends on the origin (anything but
///   [`allow_any_origin`](Self::allow_any_origin)), every response gets
///   `Vary: origin`, so a cache never serves one origin's answer to another.
///
/// `Cors` never rejects a request. CORS is enforced by browsers, not servers:
/// a request from an origin that is not allowed still reaches the handler,
/// its response just lacks the headers the browser needs to let the page
/// read it, and a preflight from it gets a bare 204 that the browser treats
/// as a refusal. Such origins are reported at `DEBUG` on target
/// [`CORS_LOG_TARGET`]; a `Cors` that allows no origin at all warns once.
/// CORS is not access control: authenticate requests in their own middleware.
///
/// # Defaults
///
/// As in tower-http, the default allows no origin: you name the origins you
/// trust, and nothing else is opened by accident. What it does set up is what
/// a JSON API needs once an origin is added: methods `GET, HEAD, POST, PUT,
/// PATCH, DELETE`, request headers `content-type, authorization`, no exposed
/// headers, no credentials, no `Max-Age` (browsers then cache a preflight for
/// 5 seconds). [`Cors::permissive`] allows everything without credentials,
/// [`Cors::very_permissive`] everything with credentials (development only).
///
/// # Cost
///
/// A request without `Origin` costs one header lookup (and the `Vary`
/// header). Header values are built once, when the `Cors` is; per request,
/// they are cloned, which is a reference-count increment. A preflight answer
/// allocates its header map, as every response with headers does.
///
/// # Panics
///
/// Builder methods panic when the configuration is one browsers refuse:
/// credentials with a `*` origin, method or header list (`*` is then taken
/// literally), or an origin that is not `scheme://host[:port]`. The router
/// builds its middleware at startup, so the mistake shows there.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mambo::middleware::Cors;
/// use mambo::{Method, header};
///
/// // In `router!`: `middleware: [Cors = Cors::new().allow_origin("https://app.example.com")]`.
/// let cors = Cors::new()
///     .allow_origins(["https://app.example.com", "https://admin.example.com"])
///     .allow_methods([Method::GET, Method::POST])
///     .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
///     .expose_headers([header::HeaderName::from_static("x-request-id")])
///     .allow_credentials(true)
///     .max_age(Duration::from_secs(600));
/// # let _ = cors;
/// ```
#[derive(Clone)]
pub struct Cors {
    origins: Origins,
    methods: Allow,
    headers: Allow,
    /// `None` for none, or a list, or `*`.
    expose: Option<HeaderValue>,
    credentials: bool,
    max_age: Option<HeaderValue>,
}

impl Default for Cors {
    /// Allows no origin; see [Defaults](Cors#defaults).
    fn default() -> Self {
        Cors {
            origins: Origins::List(Vec::new()),
            methods: Allow::List(Some(DEFAULT_METHODS)),
            headers: Allow::List(Some(DEFAULT_HEADERS)),
            expose: None,
            credentials: false,
            max_age: None,
        }
    }
}

impl fmt::Debug for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origins: &dyn fmt::Debug = match &self.origins {
            Origins::List(list) => list,
            Origins::Any => &"*",
            Origins::Mirror => &"mirror",
            Origins::Predicate(_) => &"predicate",
        };
        f.debug_struct("Cors")
            .field("origins", origins)
            .field("methods", &self.methods)
            .field("headers", &self.headers)
            .field("expose", &self.expose)
            .field("credentials", &self.credentials)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl Cors {
    /// The default: no origin allowed yet; see [Defaults](Cors#defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// Any origin, any method, any request header, every response header
    /// exposed; no credentials. For public, cookie-less APIs.
    pub fn permissive() -> Self {
        Cors::new().allow_any_origin().allow_any_method().allow_any_header().expose_any_header()
    }

    /// Any origin, method and request header, mirrored from the request, with
    /// credentials. Opens the API, cookies included, to every site: for
    /// development only.
    pub fn very_permissive() -> Self {
        Cors::new().mirror_origin().mirror_methods().mirror_headers().allow_credentials(true)
    }

    /// Adds one allowed origin (replacing `*`, mirroring or a predicate set
    /// earlier).
    ///
    /// # Panics
    ///
    /// When `origin` is not `scheme://host[:port]` (`"https://example.com/"`
    /// with its trailing slash never matches what a browser sends), or is `*`.
    #[must_use]
    pub fn allow_origin(mut self, origin: &str) -> Self {
        let origin = parse_origin(origin);
        match &mut self.origins {
            Origins::List(list) => list.push(origin),
            other => *other = Origins::List(vec![origin]),
        }
        self
    }

    /// Adds allowed origins; see [`allow_origin`](Self::allow_origin).
    ///
    /// # Panics
    ///
    /// As [`allow_origin`](Self::allow_origin).
    #[must_use]
    pub fn allow_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for origin in origins {
            self = self.allow_origin(origin.as_ref());
        }
        self
    }

    /// Allows every origin with `Access-Control-Allow-Origin: *`.
    ///
    /// # Panics
    ///
    /// With [`allow_credentials(true)`](Self::allow_credentials).
    #[must_use]
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = Origins::Any;
        self.checked()
    }

    /// Allows every origin by echoing the request's `Origin`. Unlike `*`, this
    /// works with credentials.
    #[must_use]
    pub fn mirror_origin(mut self) -> Self {
        self.origins = Origins::Mirror;
        self
    }

    /// Allows the origins `allow` accepts (all subdomains of a site, say).
    /// It is called once per CORS request with the `Origin` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::middleware::Cors;
    ///
    /// let cors = Cors::new().allow_origin_if(|origin| {
    ///     origin.as_bytes().starts_with(b"https://") && origin.as_bytes().ends_with(b".example.com")
    /// });
    /// # let _ = cors;
    /// ```
    #[must_use]
    pub fn allow_origin_if(
        mut self,
        allow: impl Fn(&HeaderValue) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.origins = Origins::Predicate(Arc::new(allow));
        self
    }

    /// The methods preflights allow, replacing the default list.
    #[must_use]
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods =
            Allow::List(join(methods.into_iter().map(|method| method.as_str().to_owned())));
        self
    }

    /// Allows any method with `Access-Control-Allow-Methods: *`.
    ///
    /// # Panics
    ///
    /// With [`allow_credentials(true)`](Self::allow_credentials).
    #[must_use]
    pub fn allow_any_method(mut self) -> Self {
        self.methods = Allow::Any;
        self.checked()
    }

    /// Allows the method each preflight asks for.
    #[must_use]
    pub fn mirror_methods(mut self) -> Self {
        self.methods = Allow::Mirror;
        self
    }

    /// The request headers preflights allow, replacing the default list.
    /// CORS-safelisted headers (`accept`, `accept-language`,
    /// `content-language`, and `content-type` with form or text values) need
    /// not be listed.
    #[must_use]
    pub fn allow_headers(mut self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.headers = Allow::List(join(headers.into_iter().map(|name| name.as_str().to_owned())));
        self
    }

    /// Allows any request header with `Access-Control-Allow-Headers: *`.
    ///
    /// # Panics
    ///
    /// With [`allow_credentials(true)`](Self::allow_credentials).
    #[must_use]
    pub fn allow_any_header(mut self) -> Self {
        self.headers = Allow::Any;
        self.checked()
    }

    /// Allows the request headers each preflight asks for.
    #[must_use]
    pub fn mirror_headers(mut self) -> Self {
        self.headers = Allow::Mirror;
        self
    }

    /// Response headers the page may read, besides the safelisted ones
    /// (`cache-control`, `content-type`, ...).
    #[must_use]
    pub fn expose_headers(mut self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.expose = join(headers.into_iter().map(|name| name.as_str().to_owned()));
        self
    }

    /// Exposes every response header with `Access-Control-Expose-Headers: *`.
    ///
    /// # Panics
    ///
    /// With [`allow_credentials(true)`](Self::allow_credentials).
    #[must_use]
    pub fn expose_any_header(mut self) -> Self {
        self.expose = Some(WILDCARD);
        self.checked()
    }

    /// Whether the page may send cookies and read the response to a request
    /// that carried them (`Access-Control-Allow-Credentials: true`).
    ///
    /// # Panics
    ///
    /// When `allow` is true and origins, methods, request headers or exposed
    /// headers are `*`: browsers refuse that, so name them or mirror them.
    #[must_use]
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self.checked()
    }

    /// How long browsers may cache a preflight answer
    /// (`Access-Control-Max-Age`, whole seconds; browsers cap it, Chromium
    /// at 2 hours).
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(HeaderValue::from(max_age.as_secs()));
        self
    }

    /// Panics on the combinations browsers reject.
    fn checked(self) -> Self {
        if self.credentials {
            let wildcard = [
                (matches!(self.origins, Origins::Any), "allow_any_origin", "mirror_origin"),
                (matches!(self.methods, Allow::Any), "allow_any_method", "mirror_methods"),
                (matches!(self.headers, Allow::Any), "allow_any_header", "mirror_headers"),
                (self.expose.as_ref() == Some(&WILDCARD), "expose_any_header", "expose_headers"),
            ];
            for (is_wildcard, wildcard, instead) in wildcard {
                assert!(
                    !is_wildcard,
                    "`Cors::allow_credentials(true)` cannot be combined with `{wildcard}()`: \
                     browsers reject `*` on credentialed requests; use `{instead}` instead"
                );
            }
        }
        self
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    fn allowed_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        let allowed = match &self.origins {
            Origins::Any => return Some(WILDCARD),
            Origins::Mirror => true,
            Origins::List(list) => {
                if list.is_empty() {
                    warn_no_origin_once();
                }
                list.contains(origin)
            }
            Origins::Predicate(allow) => allow(origin),
        };
        if allowed {
            Some(origin.clone())
        } else {
            tracing::debug!(
                target: CORS_LOG_TARGET,
                origin = origin.to_str().unwrap_or("<not text>"),
                "origin not allowed by `Cors`; the browser will keep the response from the page"
            );
            None
        }
    }

    /// Whether `Access-Control-Allow-Origin` depends on the request.
    fn varies_by_origin(&self) -> bool {
        !matches!(self.origins, Origins::Any)
    }

    fn preflight(
        &self,
        request: &HeaderMap,
        origin: &HeaderValue,
        method: &HeaderValue,
    ) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(VARY, VARY_PREFLIGHT);
        let Some(allow_origin) = self.allowed_origin(origin) else {
            return response;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
        let methods = match &self.methods {
            Allow::List(list) => list.clone(),
            Allow::Any => Some(WILDCARD),
            Allow::Mirror => Some(method.clone()),
        };
        if let Some(methods) = methods {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
        }
        let allow_headers = match &self.headers {
            Allow::List(list) => list.clone(),
            Allow::Any => Some(WILDCARD),
            Allow::Mirror => request.get(ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
        };
        if let Some(allow_headers) = allow_headers {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        }
        if let Some(max_age) = &self.max_age {
            headers.insert(ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        response
    }
}

impl<S: Sync> Middleware<S> for Cors {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        if cx.method() != Method::OPTIONS {
            return Flow::Continue;
        }
        let headers = cx.headers();
        match (headers.get(ORIGIN), headers.get(ACCESS_CONTROL_REQUEST_METHOD)) {
            (Some(origin), Some(method)) => Flow::Respond(self.preflight(headers, origin, method)),
            // A plain `OPTIONS` request: the router answers it.
            _ => Flow::Continue,
        }
    }

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
        let headers = response.headers_mut();
        if self.varies_by_origin() {
            headers.append(VARY, VARY_ORIGIN);
        }
        let Some(origin) = cx.headers().get(ORIGIN) else {
            return;
        };
        let Some(allow_origin) = self.allowed_origin(origin) else {
            return;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
        if let Some(expose) = &self.expose {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

/// Parses and checks an origin given to [`Cors::allow_origin`].
fn parse_origin(origin: &str) -> HeaderValue {
    assert!(
        origin != "*",
        "`Cors::allow_origin(\"*\")`: use `Cors::allow_any_origin()` to allow every origin"
    );
    let well_formed = match origin.split_once("://") {
        Some((scheme, host)) => {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && !host.is_empty()
                && !host.contains(['/', '?', '#'])
        }
        // Sandboxed documents and `file:` pages send the literal origin `null`.
        None => origin == "null",
    };
    assert!(
        well_formed,
        "`{origin}` is not an origin: write `scheme://host[:port]` with no path or trailing `/`, \
         as in `https://example.com`"
    );
    HeaderValue::from_str(origin)
        .unwrap_or_else(|_| panic!("`{origin}` is not a valid header value"))
}

/// Joins names into one comma-separated header value; `None` when empty.
fn join(names: impl Iterator<Item = String>) -> Option<HeaderValue> {
    let joined = names.collect::<Vec<_>>().join(",");
    if joined.is_empty() {
        return None;
    }
    Some(HeaderValue::from_str(&joined).expect("method and header names are valid header values"))
}

/// Warns, once per process, that a `Cors` allows no origin: listing `Cors`
/// without configuring it does nothing, and that should not go unnoticed.
#[cold]
fn warn_no_origin_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: CORS_LOG_TARGET,
            "`Cors` allows no origin, so browsers block every cross-origin request: \
             use `Cors::new().allow_origin(\"https://...\")`, or `Cors::permissive()`"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnInfo;

    fn context(method: Method, headers: &[(&str, &str)]) -> RequestContext<'static, ()> {
        let mut builder = http::Request::builder().method(method).uri("/api/items");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        RequestContext::new(
            builder.body(()).unwrap().into_parts().0,
            &(),
            ConnInfo::default(),
            None,
        )
    }

    /// Runs a preflight from `origin`; the response `before` answered with.
    async fn preflight(cors: &Cors, origin: &str, extra: &[(&str, &str)]) -> Response {
        let mut headers = vec![("origin", origin), ("access-control-request-method", "PUT")];
        headers.extend_from_slice(extra);
        let mut cx = context(Method::OPTIONS, &headers);
        match cors.before(&mut cx, &mut ()).await {
            Flow::Respond(response) => response,
            Flow::Continue => panic!("a preflight went on to the handler"),
        }
    }

    /// Runs a request through `before`, a handler answering `response`, and
    /// `after`.
    async fn request(
        cors: &Cors,
        method: Method,
        headers: &[(&str, &str)],
        mut response: Response,
    ) -> Response {
        let mut cx = context(method, headers);
        assert!(matches!(cors.before(&mut cx, &mut ()).await, Flow::Continue));
        cors.after(&cx, &mut (), &mut response).await;
        response
    }

    fn header(response: &Response, name: HeaderName) -> Option<&str> {
        response.headers().get(name).map(|value| value.to_str().unwrap())
    }

    fn vary(response: &Response) -> Vec<&str> {
        response.headers().get_all(VARY).iter().map(|v| v.to_str().unwrap()).collect()
    }

    const APP: &str = "https://app.example.com";

    #[tokio::test]
    async fn the_default_allows_no_origin_but_still_answers() {
        let cors = Cors::default();
        let response = preflight(&cors, APP, &[]).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), None);
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), None);
        assert_eq!(vary(&response), [VARY_PREFLIGHT.to_str().unwrap()]);

        let response = request(&cors, Method::GET, &[("origin", APP)], "ok".into_response()).await;
        assert_eq!(response.status(), StatusCode::OK, "not allowed is not rejected");
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), None);
        assert_eq!(vary(&response), ["origin"]);
    }

    #[tokio::test]
    async fn a_listed_origin_gets_the_defaults_in_its_preflight() {
        let cors = Cors::new().allow_origins([APP, "http://localhost:3000"]);
        let response = preflight(&cors, "http://localhost:3000", &[]).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("http://localhost:3000"));
        assert_eq!(
            header(&response, ACCESS_CONTROL_ALLOW_METHODS),
            Some("GET,HEAD,POST,PUT,PATCH,DELETE")
        );
        assert_eq!(
            header(&response, ACCESS_CONTROL_ALLOW_HEADERS),
            Some("content-type,authorization")
        );
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
        assert_eq!(header(&response, ACCESS_CONTROL_MAX_AGE), None);

        let other = preflight(&cors, "https://evil.example", &[]).await;
        assert_eq!(other.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&other, ACCESS_CONTROL_ALLOW_ORIGIN), None);
        assert_eq!(header(&other, ACCESS_CONTROL_ALLOW_METHODS), None);
    }

    #[tokio::test]
    async fn a_listed_origin_can_read_any_response() {
        let cors = Cors::new()
            .allow_origin(APP)
            .allow_credentials(true)
            .expose_headers([HeaderName::from_static("x-request-id")]);
        let mut error = (StatusCode::NOT_FOUND, "gone").into_response();
        error.headers_mut().insert(VARY, HeaderValue::from_static("accept-encoding"));
        let response = request(&cors, Method::DELETE, &[("origin", APP)], error).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some(APP));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_CREDENTIALS), Some("true"));
        assert_eq!(header(&response, ACCESS_CONTROL_EXPOSE_HEADERS), Some("x-request-id"));
        assert_eq!(vary(&response), ["accept-encoding", "origin"], "an existing `Vary` is kept");
    }

    #[tokio::test]
    async fn requests_without_origin_are_left_alone() {
        let cors = Cors::new().allow_origin(APP);
        let response = request(&cors, Method::GET, &[], "ok".into_response()).await;
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), None);
        assert_eq!(vary(&response), ["origin"], "a cache must still tell them apart");

        // `OPTIONS` without `Access-Control-Request-Method` is no preflight.
        let response = request(
            &cors,
            Method::OPTIONS,
            &[("origin", APP)],
            StatusCode::NO_CONTENT.into_response(),
        )
        .await;
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some(APP));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), None);
    }

    #[tokio::test]
    async fn permissive_uses_wildcards_and_no_vary() {
        let cors = Cors::permissive();
        let response =
            preflight(&cors, APP, &[("access-control-request-headers", "x-custom")]).await;
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), Some("*"));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_HEADERS), Some("*"));

        let response = request(&cors, Method::GET, &[("origin", APP)], "ok".into_response()).await;
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
        assert_eq!(header(&response, ACCESS_CONTROL_EXPOSE_HEADERS), Some("*"));
        assert!(vary(&response).is_empty());
    }

    #[tokio::test]
    async fn very_permissive_mirrors_the_request() {
        let cors = Cors::very_permissive();
        let response = preflight(
            &cors,
            "https://anything.example",
            &[("access-control-request-headers", "x-a,x-b")],
        )
        .await;
        assert_eq!(
            header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("https://anything.example")
        );
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), Some("PUT"));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_HEADERS), Some("x-a,x-b"));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_CREDENTIALS), Some("true"));
    }

    #[tokio::test]
    async fn explicit_lists_and_max_age() {
        let cors = Cors::new()
            .allow_origin(APP)
            .allow_methods([Method::GET, Method::from_bytes(b"PURGE").unwrap()])
            .allow_headers([HeaderName::from_static("x-api-key")])
            .max_age(Duration::from_secs(600));
        let response = preflight(&cors, APP, &[]).await;
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_METHODS), Some("GET,PURGE"));
        assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_HEADERS), Some("x-api-key"));
        assert_eq!(header(&response, ACCESS_CONTROL_MAX_AGE), Some("600"));

        let none = Cors::new().allow_origin(APP).allow_headers([]);
        assert_eq!(header(&preflight(&none, APP, &[]).await, ACCESS_CONTROL_ALLOW_HEADERS), None);
    }

    #[tokio::test]
    async fn a_predicate_decides_per_origin() {
        let cors =
            Cors::new().allow_origin_if(|origin| origin.as_bytes().ends_with(b".example.com"));
        let ok = request(
            &cors,
            Method::GET,
            &[("origin", "https://a.example.com")],
            "ok".into_response(),
        )
        .await;
        assert_eq!(header(&ok, ACCESS_CONTROL_ALLOW_ORIGIN), Some("https://a.example.com"));
        let no =
            request(&cors, Method::GET, &[("origin", "https://example.org")], "ok".into_response())
                .await;
        assert_eq!(header(&no, ACCESS_CONTROL_ALLOW_ORIGIN), None);
    }

    #[test]
    fn a_later_origin_replaces_a_wildcard() {
        let cors = Cors::permissive().allow_origin(APP);
        assert!(matches!(&cors.origins, Origins::List(list) if list == &[APP]));
    }

    #[test]
    fn credentials_with_a_wildcard_panic_in_either_order() {
        let cases: [fn() -> Cors; 5] = [
            || Cors::new().allow_any_origin().allow_credentials(true),
            || Cors::new().allow_credentials(true).allow_any_origin(),
            || Cors::new().allow_credentials(true).allow_any_method(),
            || Cors::new().allow_any_header().allow_credentials(true),
            || Cors::new().allow_credentials(true).expose_any_header(),
        ];
        for (i, case) in cases.into_iter().enumerate() {
            let message = std::panic::catch_unwind(case).map(drop).unwrap_err();
            let message = message.downcast_ref::<String>().expect("a formatted message");
            assert!(message.contains("allow_credentials(true)"), "case {i}: {message}");
        }
        // Mirroring is how credentials and "everything" go together.
        let _ = Cors::very_permissive();
    }

    #[test]
    fn malformed_origins_panic() {
        for bad in [
            "https://example.com/",
            "example.com",
            "https://",
            "https://example.com/app",
            "*",
            "://x",
        ] {
            assert!(
                std::panic::catch_unwind(|| Cors::new().allow_origin(bad)).is_err(),
                "{bad} was accepted"
            );
        }
        for good in ["https://example.com", "http://localhost:3000", "null", "app://x"] {
            let _ = Cors::new().allow_origin(good);
        }
    }
}
