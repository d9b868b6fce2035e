//! `extractors`: `Json<T>`, `Form<T>`, `Query<T>`, path parameters, typed
//! headers and `String` bodies, on arbitrary requests sent through the
//! in-process [`TestClient`] to a generated router ([`app::Extractors`]).
//!
//! Input: a request in HTTP/1.1 form ([`input`]). Checks:
//!
//! - the status is 2xx, 4xx or a 308 trailing-slash redirect, never 5xx (a
//!   panic in an extractor or handler is a 500, so it fails here too);
//! - a 308's `location` is visible ASCII and, percent-decoded, the path with
//!   its last `/` added or removed and the query kept;
//! - every 4xx carries the JSON error body, `{"code": <status>NN,
//!   "message": "..."}`;
//! - a 2xx from an extractor route echoes exactly what `serde_json` /
//!   `serde_urlencoded` / percent-decoding make of the same bytes;
//! - and when the head leaves no room for doubt (one `content-type` of
//!   exactly the expected type, no `content-length` of the fuzzer's own, a
//!   body within the route's limit), the route answers 2xx exactly when
//!   those crates accept the bytes, and 400 otherwise.

pub mod app;
pub mod input;

use std::sync::LazyLock;

use mambo::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use mambo::test::{TestClient, TestResponse};
use mambo::{Lookup, Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use app::{Extractors, Pet, Search};
use input::Input;

static CLIENT: LazyLock<TestClient<Extractors>> =
    LazyLock::new(|| TestClient::new(Extractors::new()));

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
});

/// Panics when the answer to the request in `data` breaks a rule above.
pub fn check(data: &[u8]) {
    let Some(input) = Input::parse(data) else { return };
    let response = send(&input);
    let status = response.status();
    let shown = || format!("{input:?}\n  -> {status} {:?}", response.bytes());
    if status == StatusCode::PERMANENT_REDIRECT {
        let location = response.headers().get("location").expect("a 308 has a `location`");
        let location = location.to_str().unwrap_or_else(|_| panic!("not ASCII: {}", shown()));
        assert_eq!(
            percent_decode_str(location).collect::<Vec<u8>>(),
            percent_decode_str(&toggled_slash(&input.uri)).collect::<Vec<u8>>(),
            "location != the target with its slash toggled, once decoded: {}",
            shown()
        );
        return;
    }
    assert!(status.is_success() || status.is_client_error(), "not 2xx, 308 or 4xx: {}", shown());
    if input.method == Method::HEAD {
        // No body to look at; the GET it falls back to is checked as a GET.
        return;
    }
    if status.is_client_error() {
        error_body_is_json(status, &response).unwrap_or_else(|e| panic!("{e}: {}", shown()));
    }
    let Some(expected) = expected(&input) else { return };
    if status.is_success() {
        let echoed: Value = serde_json::from_slice(response.bytes())
            .unwrap_or_else(|e| panic!("2xx body is not JSON ({e}): {}", shown()));
        match &expected.value {
            Ok(value) => assert_eq!(&echoed, value, "echo (left) != serde (right): {}", shown()),
            Err(error) => panic!("2xx where serde says `{error}`: {}", shown()),
        }
    } else if expected.certain {
        match &expected.value {
            Ok(_) => panic!("4xx where serde accepts: {}", shown()),
            Err(_) => assert_eq!(status, StatusCode::BAD_REQUEST, "{}", shown()),
        }
    }
}

fn send(input: &Input<'_>) -> TestResponse {
    let mut request = CLIENT.request(input.method.clone(), input.target).body(input.body.to_vec());
    for (name, value) in &input.headers {
        request = request.header(name, value);
    }
    RUNTIME.block_on(request.send())
}

/// The target with a trailing `/` removed from the path, or added to it.
fn toggled_slash(uri: &mambo::Uri) -> String {
    let path = uri.path();
    let mut target = match path.strip_suffix('/') {
        Some(without) if !without.is_empty() => without.to_owned(),
        _ => format!("{path}/"),
    };
    if let Some(query) = uri.query() {
        target.push('?');
        target.push_str(query);
    }
    target
}

/// `{"code": u32, "message": string}` with the status as the code's first
/// three digits.
fn error_body_is_json(status: StatusCode, response: &TestResponse) -> Result<(), String> {
    let body: Value = serde_json::from_slice(response.bytes())
        .map_err(|e| format!("4xx body is not JSON ({e})"))?;
    let code = body["code"].as_u64().ok_or("4xx body has no numeric `code`")?;
    body["message"].as_str().ok_or("4xx body has no `message` string")?;
    if code / 100 != u64::from(status.as_u16()) {
        return Err(format!("code {code} does not go with the status"));
    }
    Ok(())
}

/// What a route's extractor should make of the request, by the serde
/// crates' reading of the same bytes.
struct Expected {
    /// The echo a 2xx must carry, or why the bytes do not deserialize.
    value: Result<Value, String>,
    /// Whether the head is plain enough that the route must answer 2xx
    /// exactly when `value` is `Ok`.
    certain: bool,
}

/// `None` for requests no extractor route takes (misses, 405, `/headers`).
fn expected(input: &Input<'_>) -> Option<Expected> {
    let Lookup::Found { route, params } = CLIENT.router().lookup(&input.method, input.uri.path())
    else {
        return None;
    };
    let route = &Extractors::ROUTES[route];
    let query = input.uri.query();
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";
    let limit = route.body_limit.unwrap_or(mambo::DEFAULT_BODY_LIMIT);
    let body = |media: Option<&str>, value| Expected {
        value,
        certain: plain_body_head(input, media, limit),
    };
    let known = |value| Expected { value, certain: true };
    Some(match route.handler {
        "json" | "json_small" => body(Some(json), from_json::<Pet>(input.body)),
        "json_value" => body(Some(json), from_json::<Value>(input.body)),
        "form" => body(Some(form), from_form::<Search>(input.body)),
        "form_pairs" => body(Some(form), from_form::<Vec<(String, String)>>(input.body)),
        "text" => {
            body(None, std::str::from_utf8(input.body).map(Value::from).map_err(|e| e.to_string()))
        }
        "query" => known(from_query::<Search>(query.unwrap_or_default())),
        "query_map" => known(from_query::<std::collections::BTreeMap<String, String>>(
            query.unwrap_or_default(),
        )),
        "query_optional" => known(match query {
            None => Ok(Value::Null),
            Some(query) => from_query::<Search>(query),
        }),
        "params" => {
            known(path_params([params.get_index(0), params.get_index(1), params.get_index(2)]))
        }
        _ => return None,
    })
}

/// One `content-type` of `media` (any when `None`), no `content-length` of
/// the input's own, a body within `limit`.
fn plain_body_head(input: &Input<'_>, media: Option<&str>, limit: u64) -> bool {
    let content_types: Vec<_> =
        input.headers.iter().filter(|(name, _)| name == CONTENT_TYPE).collect();
    let media_ok = match media {
        None => true,
        Some(media) => content_types.len() == 1 && content_types[0].1 == media,
    };
    media_ok
        && !input.headers.iter().any(|(name, _)| name == CONTENT_LENGTH)
        && input.body.len() as u64 <= limit
}

fn echo<T: Serialize>(value: T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot echo: {e}"))
}

fn from_json<T: DeserializeOwned + Serialize>(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<T>(body).map_err(|e| e.to_string()).and_then(echo)
}

fn from_form<T: DeserializeOwned + Serialize>(body: &[u8]) -> Result<Value, String> {
    serde_urlencoded::from_bytes::<T>(body).map_err(|e| e.to_string()).and_then(echo)
}

fn from_query<T: DeserializeOwned + Serialize>(query: &str) -> Result<Value, String> {
    serde_urlencoded::from_str::<T>(query).map_err(|e| e.to_string()).and_then(echo)
}

/// `/params/:n/:s/*rest`: each raw value percent-decoded, `n` as an `i64`.
fn path_params([n, s, rest]: [Option<&str>; 3]) -> Result<Value, String> {
    let decode = |raw: Option<&str>| {
        percent_decode_str(raw.expect("the route has three parameters"))
            .decode_utf8()
            .map(|value| value.into_owned())
            .map_err(|e| e.to_string())
    };
    let n: i64 = decode(n)?.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    echo((n, decode(s)?, decode(rest)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_pass() {
        crate::seeds::replay("extractors", check);
    }

    /// Guards the harness: the seeds reach the success and rejection paths.
    #[test]
    fn seeds_reach_every_outcome() {
        let rows = [
            ("json-pet", 200),
            ("json-over-limit", 413),
            ("json-value", 200),
            ("json-wrong-type", 415),
            ("form", 200),
            ("form-pairs", 200),
            ("query", 200),
            ("query-optional-none", 200),
            ("query-map", 200),
            ("params", 200),
            ("headers", 200),
            ("text", 200),
            ("redirect", 308),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/extractors");
        for (seed, status) in rows {
            let data = std::fs::read(dir.join(seed)).unwrap();
            let input = Input::parse(&data).unwrap();
            assert_eq!(send(&input).status(), status, "{seed}");
            let routed = expected(&input).is_some();
            assert!(routed || ["headers", "redirect"].contains(&seed), "{seed}");
        }
    }
}
