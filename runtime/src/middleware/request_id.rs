//! `RequestId`: one id per request, on the request and on the response.

use std::cell::RefCell;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};

use crate::context::RequestContext;
use crate::error::Error;
use crate::extract::{FromRequestParts, OptionalFromRequestParts};
use crate::middleware::{Flow, Middleware};
use crate::response::Response;

/// The header [`RequestId`] reads and writes unless told otherwise.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming id that is propagated; longer ones are replaced.
pub const MAX_INCOMING_LEN: usize = 200;

/// Gives every request an id, and sends it back on the response.
///
/// In `before`, an incoming `x-request-id` is kept when it is 1 to
/// [`MAX_INCOMING_LEN`] bytes of visible ASCII (`!` to `~`); otherwise (or
/// when [`trust_incoming(false)`](Self::trust_incoming)) a new id replaces it
/// in the request headers. Handlers read it with the [`RequestIdValue`]
/// extractor, later middleware from the request headers. In `after`, the id
/// is set on the response unless the handler already set that header, and
/// noted on a 5xx's [`ErrorReport`](crate::error::ErrorReport), so the error
/// event carries it.
///
/// List it first, and [`AccessLog`](crate::middleware::AccessLog) second:
/// `middleware: [RequestId, AccessLog, ..]` (the one order rule, explained
/// on [`AccessLog`](crate::middleware::AccessLog#order)): then every
/// request has its id before any middleware can answer it.
///
/// Generated ids look like `3f9c0a7d51e2b846-000000000000002a`: 16 hex digits
/// chosen at random once per process, `-`, then a per-process counter in 16
/// hex digits. They are unique within a process and, with 64 random bits,
/// across processes in practice; they are not secret and not unpredictable,
/// so never use them as tokens.
///
/// # Cost
///
/// A propagated id costs nothing but a reference-count increment. A generated
/// id is formatted on the stack, then copied into a per-thread 4 KiB block
/// shared by about 120 ids: one allocation per block, and none once every id
/// of a block has been dropped and the block is reused. Inserting the id into
/// the request headers may grow the header map. With a custom
/// [`header`](Self::header) name, the id is also stored in the request
/// extensions for [`RequestIdValue`], which allocates the extension map: keep
/// the default name on hot paths.
///
/// # Examples
///
/// ```
/// use mambo::middleware::RequestId;
///
/// // `middleware: [RequestId]` in `router!` uses the default:
/// let default = RequestId::default();
/// // `middleware: [RequestId = RequestId::new().trust_incoming(false)]` never
/// // takes the client's id:
/// let strict = RequestId::new().trust_incoming(false);
/// # let _ = (default, strict);
/// ```
#[derive(Debug, Clone)]
pub struct RequestId {
    header: HeaderName,
    trust_incoming: bool,
}

impl Default for RequestId {
    /// `x-request-id`, trusting valid incoming ids.
    fn default() -> Self {
        RequestId { header: X_REQUEST_ID, trust_incoming: true }
    }
}

impl RequestId {
    /// The default: header `x-request-id`, valid incoming ids are kept.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and writes `header` instead of `x-request-id`.
    ///
    /// The id then also goes into the request extensions, which allocates;
    /// see the type's cost notes.
    #[must_use]
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// Whether a valid incoming id is kept (the default, for ids set by a
    /// proxy or a calling service) or always replaced (for servers facing
    /// clients that should not choose what goes into the logs).
    #[must_use]
    pub fn trust_incoming(mut self, trust: bool) -> Self {
        self.trust_incoming = trust;
        self
    }
}

impl<S: Sync> Middleware<S> for RequestId {
    /// The id, to set on the response.
    type Local = Option<HeaderValue>;

    async fn before(
        &self,
        cx: &mut RequestContext<'_, S>,
        local: &mut Option<HeaderValue>,
    ) -> Flow {
        let incoming = match cx.headers().get(&self.header) {
            Some(value) if self.trust_incoming && is_valid_id(value.as_bytes()) => {
                Some(value.clone())
            }
            _ => None,
        };
        let id = match incoming {
            Some(id) => id,
            None => {
                let id = generate();
                cx.headers_mut().insert(self.header.clone(), id.clone());
                id
            }
        };
        if self.header != X_REQUEST_ID {
            cx.extensions_mut().insert(RequestIdValue(id.clone()));
        }
        #[cfg(feature = "otel")]
        crate::observe::otel::record_request_id(&id);
        *local = Some(id);
        Flow::Continue
    }

    async fn after(
        &self,
        _cx: &RequestContext<'_, S>,
        local: &mut Option<HeaderValue>,
        response: &mut Response,
    ) {
        if let Some(id) = local.take() {
            if response.status().is_server_error() {
                note_on_report(response, &id);
            }
            response.headers_mut().entry(&self.header).or_insert(id);
        }
    }
}

/// Puts the id on a 5xx response's [`ErrorReport`](crate::error::ErrorReport),
/// for the error event the router emits.
#[cold]
fn note_on_report(response: &mut Response, id: &HeaderValue) {
    if let Some(report) = crate::error::report_of_mut(response) {
        report.note_request_id(id);
    }
}

/// Whether an incoming id may be propagated: 1 to 200 bytes of visible ASCII.
///
/// Ids end up in logs and response headers; control characters, spaces and
/// unbounded lengths there are how log injection starts.
fn is_valid_id(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.len() <= MAX_INCOMING_LEN
        && bytes.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// Length of a generated id: 16 hex digits, `-`, 16 hex digits.
const ID_LEN: usize = 33;

/// Size of the per-thread block generated ids are copied into.
const BLOCK_LEN: usize = 4096;

static COUNTER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static BLOCK: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// 16 hex digits, random once per process.
fn prefix() -> &'static [u8; 16] {
    static PREFIX: OnceLock<[u8; 16]> = OnceLock::new();
    PREFIX.get_or_init(|| {
        // `RandomState` is seeded from the OS; the pid and the clock make two
        // processes with the same seed (a fork) still differ.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            hasher.write_u128(since_epoch.as_nanos());
        }
        let mut out = [0u8; 16];
        write_hex(hasher.finish(), &mut out);
        out
    })
}

fn write_hex(value: u64, out: &mut [u8; 16]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// Formats the next id on the stack.
fn next_raw() -> [u8; ID_LEN] {
    let mut raw = [0u8; ID_LEN];
    raw[..16].copy_from_slice(prefix());
    raw[16] = b'-';
    let mut counter = [0u8; 16];
    write_hex(COUNTER.fetch_add(1, Ordering::Relaxed), &mut counter);
    raw[17..].copy_from_slice(&counter);
    raw
}

/// A new id, sharing this thread's block.
fn generate() -> HeaderValue {
    let raw = next_raw();
    let bytes = BLOCK
        .try_with(|block| {
            let mut block = block.borrow_mut();
            if block.capacity() - block.len() < ID_LEN {
                // Reuses the block in place when every id split off it has
                // been dropped; otherwise starts a new one and leaves the old
                // one to the ids still alive.
                block.reserve(BLOCK_LEN);
            }
            block.extend_from_slice(&raw);
            block.split().freeze()
        })
        // Only while this thread is being torn down.
        .unwrap_or_else(|_| Bytes::copy_from_slice(&raw));
    HeaderValue::from_maybe_shared(bytes).expect("a generated id is visible ASCII")
}

/// The request id, as an extractor.
///
/// Reads the id [`RequestId`] chose for this request. Cloning it is a
/// reference-count increment.
///
/// # Errors
///
/// Without the [`RequestId`] middleware, a valid incoming `x-request-id` is
/// still returned; when there is none, extraction fails with a 500 (code
/// `50004`) that says to add the middleware. Take `Option<RequestIdValue>`
/// for `None` instead.
///
/// # Examples
///
/// ```
/// use mambo::middleware::RequestIdValue;
///
/// async fn handler(id: RequestIdValue) -> String {
///     format!("your request is {id}")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIdValue(HeaderValue);

impl RequestIdValue {
    /// The id as text; always visible ASCII.
    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("request ids are checked to be visible ASCII")
    }

    /// The id as a header value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }

    /// Reads the id from a request context without the extractor machinery
    /// (for middleware that runs after [`RequestId`]).
    pub fn from_context<S>(cx: &RequestContext<'_, S>) -> Option<Self> {
        if let Some(id) = cx.extensions().get::<RequestIdValue>() {
            return Some(id.clone());
        }
        cx.headers()
            .get(X_REQUEST_ID)
            .filter(|value| is_valid_id(value.as_bytes()))
            .map(|value| RequestIdValue(value.clone()))
    }
}

impl fmt::Display for RequestIdValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<S: Sync> FromRequestParts<S> for RequestIdValue {
    type Rejection = Error;

    async fn from_request_parts(cx: &RequestContext<'_, S>) -> Result<Self, Error> {
        Self::from_context(cx).ok_or_else(|| {
            // The code of every "a middleware the handler needs is missing"
            // error, `Extension<T>`'s included (see the rejection table).
            Error::with_code(
                StatusCode::INTERNAL_SERVER_ERROR,
                50004,
                "no request id: add `RequestId` to the router's `middleware` list",
            )
        })
    }
}

/// `Option<RequestIdValue>`: `None` instead of a 500 when there is no id.
impl<S: Sync> OptionalFromRequestParts<S> for RequestIdValue {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::from_context(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnInfo;
    use crate::response::IntoResponse;

    fn context(headers: &[(&str, &[u8])]) -> RequestContext<'static, ()> {
        let mut builder = http::Request::builder().uri("/users/1");
        for (name, value) in headers {
            builder = builder.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let (parts, ()) = builder.body(()).unwrap().into_parts();
        RequestContext::new(parts, &(), ConnInfo::default(), None)
    }

    async fn run(mw: &RequestId, cx: &mut RequestContext<'_, ()>) -> Response {
        let mut local = None;
        assert!(matches!(mw.before(cx, &mut local).await, Flow::Continue));
        let mut response = "ok".into_response();
        mw.after(cx, &mut local, &mut response).await;
        response
    }

    async fn extract(cx: &RequestContext<'_, ()>) -> Result<RequestIdValue, Error> {
        <RequestIdValue as FromRequestParts<()>>::from_request_parts(cx).await
    }

    fn is_generated(id: &[u8]) -> bool {
        id.len() == ID_LEN
            && id[16] == b'-'
            && id[..16]
                .iter()
                .chain(&id[17..])
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }

    #[test]
    fn validation_table() {
        let long_ok = vec![b'a'; MAX_INCOMING_LEN];
        let too_long = vec![b'a'; MAX_INCOMING_LEN + 1];
        let rows: &[(&[u8], bool)] = &[
            (b"abc-123", true),
            (b"!~", true),
            (&long_ok, true),
            (&too_long, false),
            (b"", false),
            (b"has space", false),
            (b"tab\there", false),
            (b"caf\xc3\xa9", false),
            (b"del\x7f", false),
        ];
        for (id, valid) in rows {
            assert_eq!(is_valid_id(id), *valid, "{:?}", String::from_utf8_lossy(id));
        }
    }

    #[tokio::test]
    async fn generates_when_absent_and_sets_it_on_request_and_response() {
        let mut cx = context(&[]);
        let response = run(&RequestId::default(), &mut cx).await;
        let on_request = cx.headers()[X_REQUEST_ID].clone();
        assert!(is_generated(on_request.as_bytes()), "{on_request:?}");
        assert_eq!(response.headers()[X_REQUEST_ID], on_request);
        let extracted = extract(&cx).await.unwrap();
        assert_eq!(extracted.header_value(), &on_request);
        assert!(cx.extensions().is_empty(), "the default header needs no extension");
    }

    #[tokio::test]
    async fn propagates_a_valid_incoming_id() {
        let mut cx = context(&[("x-request-id", b"from-the-proxy-42")]);
        let response = run(&RequestId::default(), &mut cx).await;
        assert_eq!(cx.headers()[X_REQUEST_ID], "from-the-proxy-42");
        assert_eq!(response.headers()[X_REQUEST_ID], "from-the-proxy-42");
        assert_eq!(extract(&cx).await.unwrap().as_str(), "from-the-proxy-42");
    }

    #[tokio::test]
    async fn replaces_an_invalid_incoming_id() {
        let long = vec![b'x'; 201];
        for bad in [&b"two words"[..], &long, b"\xff\xfe"] {
            let mut cx = context(&[("x-request-id", bad)]);
            let response = run(&RequestId::default(), &mut cx).await;
            let id = response.headers()[X_REQUEST_ID].as_bytes();
            assert!(is_generated(id), "{:?} was not replaced", String::from_utf8_lossy(bad));
            assert_eq!(cx.headers().get_all(X_REQUEST_ID).iter().count(), 1);
            assert_eq!(cx.headers()[X_REQUEST_ID].as_bytes(), id);
        }
    }

    #[tokio::test]
    async fn untrusted_incoming_ids_are_replaced() {
        let mut cx = context(&[("x-request-id", b"client-chosen")]);
        let response = run(&RequestId::new().trust_incoming(false), &mut cx).await;
        assert!(is_generated(response.headers()[X_REQUEST_ID].as_bytes()));
        assert_ne!(cx.headers()[X_REQUEST_ID], "client-chosen");
    }

    #[tokio::test]
    async fn a_custom_header_goes_through_extensions() {
        let name = HeaderName::from_static("x-correlation-id");
        let mw = RequestId::new().header(name.clone());
        let mut cx = context(&[("x-correlation-id", b"corr-1"), ("x-request-id", b"ignored")]);
        let response = run(&mw, &mut cx).await;
        assert_eq!(response.headers()[&name], "corr-1");
        assert!(response.headers().get(X_REQUEST_ID).is_none());
        assert_eq!(extract(&cx).await.unwrap().as_str(), "corr-1");
    }

    #[tokio::test]
    async fn keeps_an_id_the_handler_set() {
        let mw = RequestId::default();
        let mut cx = context(&[]);
        let mut local = None;
        mw.before(&mut cx, &mut local).await;
        let mut response = "ok".into_response();
        response.headers_mut().insert(X_REQUEST_ID, HeaderValue::from_static("handler"));
        mw.after(&cx, &mut local, &mut response).await;
        assert_eq!(response.headers()[X_REQUEST_ID], "handler");
    }

    #[tokio::test]
    async fn the_extractor_rejects_without_an_id() {
        let cx = context(&[("x-request-id", b"bad id")]);
        let err = extract(&cx).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(err.message().contains("RequestId"), "{}", err.message());
        let optional =
            <Option<RequestIdValue> as FromRequestParts<()>>::from_request_parts(&cx).await;
        assert_eq!(optional, Ok(None));
    }

    /// Runs `f` on a new thread, so it starts with an empty id block.
    fn on_fresh_thread(f: impl FnOnce() + Send) {
        std::thread::scope(|scope| scope.spawn(f).join().unwrap());
    }

    #[test]
    fn generated_ids_are_unique_and_share_one_block() {
        on_fresh_thread(|| {
            let first = generate();
            let second = generate();
            assert!(is_generated(first.as_bytes()) && is_generated(second.as_bytes()));
            assert_ne!(first, second);
            assert_eq!(&first.as_bytes()[..16], &second.as_bytes()[..16], "one prefix per process");
            // Consecutive ids sit side by side in this thread's block: the
            // second cost no allocation of its own.
            assert_eq!(second.as_bytes().as_ptr(), first.as_bytes().as_ptr().wrapping_add(ID_LEN));
            let counter =
                |id: &HeaderValue| u64::from_str_radix(&id.to_str().unwrap()[17..], 16).unwrap();
            assert!(counter(&second) > counter(&first));
        });
    }

    #[test]
    fn a_block_is_reused_once_its_ids_are_dropped() {
        on_fresh_thread(|| {
            let base = generate().as_bytes().as_ptr();
            let per_block = BLOCK_LEN / ID_LEN;
            for _ in 1..per_block {
                drop(generate());
            }
            // The block is full and every id in it is gone: the next id
            // reclaims it in place.
            assert_eq!(generate().as_bytes().as_ptr(), base);
        });
    }

    #[test]
    fn a_block_still_in_use_is_left_alone() {
        on_fresh_thread(|| {
            let first = generate();
            let kept: Vec<_> = (1..BLOCK_LEN / ID_LEN).map(|_| generate()).collect();
            let next = generate();
            let block =
                first.as_bytes().as_ptr() as usize..first.as_bytes().as_ptr() as usize + BLOCK_LEN;
            assert!(
                !block.contains(&(next.as_bytes().as_ptr() as usize)),
                "a live id was overwritten"
            );
            assert!(is_generated(first.as_bytes()));
            assert!(kept.iter().all(|id| is_generated(id.as_bytes())));
        });
    }

    #[test]
    fn many_ids_across_threads_are_unique() {
        let ids: Vec<Vec<HeaderValue>> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..4).map(|_| scope.spawn(|| (0..500).map(|_| generate()).collect())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<&HeaderValue> = ids.iter().flatten().collect();
        let total = all.len();
        all.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        all.dedup();
        assert_eq!(all.len(), total);
    }
}
