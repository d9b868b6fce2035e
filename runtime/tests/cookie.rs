//! Cookie jars through real `router!` dispatch: reading, several `Cookie`
//! headers, setting and removing, signed and private round trips, tampered
//! and foreign cookies (absent, never an error); and once over a socket
//! with `curl`.

use std::time::Duration;

use mambo::cookie::{
    Cookie, CookieJar, Key, PrivateCookieJar, SameSite, SignedCookieJar, secure_cookie,
};
use mambo::prelude::*;
use mambo::test::{TestClient, TestResponse};

/// The router state; the jars take the key from it.
#[derive(Clone)]
struct AppState {
    key: Key,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.key.clone()
    }
}

/// The key the application signs and encrypts with.
fn key() -> Key {
    Key::from(&[7u8; 64])
}

/// Another application's key.
fn other_key() -> Key {
    Key::from(&[9u8; 64])
}

/// Every plain cookie, sorted, as `name=value` joined by `&`.
#[route(GET "/plain")]
async fn plain(jar: CookieJar) -> String {
    let mut all: Vec<String> = jar.iter().map(|c| format!("{}={}", c.name(), c.value())).collect();
    all.sort();
    all.join("&")
}

/// Sets `theme`, removes `old`, answers 201 with a JSON body.
#[route(POST "/plain")]
async fn set_plain(jar: CookieJar) -> (StatusCode, CookieJar, Json<serde_json::Value>) {
    let theme = Cookie::build(("theme", "dark mode"))
        .path("/")
        .max_age(mambo::cookie::time::Duration::hours(1))
        .same_site(SameSite::Strict);
    let jar = jar.add(theme).remove(Cookie::build("old").path("/"));
    (StatusCode::CREATED, jar, Json(serde_json::json!({ "ok": true })))
}

#[route(GET "/signed")]
async fn read_signed(jar: SignedCookieJar) -> String {
    jar.get("user").map_or_else(|| "anonymous".to_owned(), |c| format!("user {}", c.value()))
}

#[route(POST "/signed")]
async fn set_signed(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
    (jar.add(secure_cookie("user", "42")), "signed in")
}

#[route(POST "/signed/logout")]
async fn logout_signed(jar: SignedCookieJar) -> SignedCookieJar {
    jar.remove(Cookie::build("user").path("/"))
}

#[route(GET "/private")]
async fn read_private(jar: PrivateCookieJar) -> String {
    jar.get("secret").map_or_else(|| "none".to_owned(), |c| format!("secret {}", c.value()))
}

#[route(POST "/private")]
async fn set_private(jar: PrivateCookieJar) -> (PrivateCookieJar, &'static str) {
    (jar.add(secure_cookie("secret", "the cake; is a lie")), "stored")
}

mambo::router! {
    struct App {
        state: AppState,
        routes: [plain, set_plain, read_signed, set_signed, logout_signed, read_private, set_private],
    }
}

fn client() -> TestClient<App> {
    TestClient::new(App::new(AppState { key: key() }))
}

/// Every `Set-Cookie` of a response.
fn set_cookies(response: &TestResponse) -> Vec<String> {
    let all = response.headers().get_all("set-cookie").iter();
    all.map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// The `name=value` part of the one `Set-Cookie` of a response.
fn pair(response: &TestResponse) -> String {
    let all = set_cookies(response);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].split(';').next().unwrap().to_owned()
}

/// `GET path` with one `Cookie` header; the body, after checking for 200.
async fn get_with(client: &TestClient<App>, path: &str, cookie: &str) -> String {
    let response = client.get(path).header("cookie", cookie).send().await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text());
    response.text().to_owned()
}

/// A `name=value` pair made by another application's jar, through the
/// jar's own `IntoResponse`.
fn foreign(jar_response: mambo::Response) -> String {
    let value = jar_response.headers()["set-cookie"].to_str().unwrap();
    value.split(';').next().unwrap().to_owned()
}

/// Replaces the byte at `index` of `pair`'s value with another base64 digit.
fn flip(pair: &str, index: usize) -> String {
    let (name, value) = pair.split_once('=').unwrap();
    let mut value = value.as_bytes().to_vec();
    value[index] = if value[index] == b'A' { b'B' } else { b'A' };
    format!("{name}={}", String::from_utf8(value).unwrap())
}

#[tokio::test]
async fn reads_plain_cookies_percent_decoded() {
    let client = client();
    assert_eq!(get_with(&client, "/plain", "b=2; a=1; c=x%20y").await, "a=1&b=2&c=x y");
    let response = client.get("/plain").send().await;
    assert_eq!(response.text(), "");
    assert!(set_cookies(&response).is_empty(), "an untouched jar sets nothing");
}

#[tokio::test]
async fn reads_every_cookie_header() {
    // HTTP/2 sends one `cookie` header per cookie.
    let response =
        client().get("/plain").header("cookie", "a=1").header("cookie", "b=2; c=3").send().await;
    assert_eq!(response.text(), "a=1&b=2&c=3");
}

#[tokio::test]
async fn malformed_cookies_are_skipped() {
    let client = client();
    let rows =
        [("a=1; ; =nameless; noequals; b=2", "a=1&b=2"), (";;;", ""), ("=", ""), ("a=1;b", "a=1")];
    for (header, expected) in rows {
        assert_eq!(get_with(&client, "/plain", header).await, expected, "{header}");
    }
    let response = client
        .get("/plain")
        .header("cookie", mambo::http::HeaderValue::from_bytes(b"x=\xff\xfe").unwrap())
        .header("cookie", "ok=1")
        .send()
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text(), "ok=1");
}

#[tokio::test]
async fn sets_and_removes_with_the_body() {
    let response = client().post("/plain").header("cookie", "old=1; kept=2").send().await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text(), r#"{"ok":true}"#);
    let mut all = set_cookies(&response);
    all.sort();
    assert_eq!(all.len(), 2, "one per change, none for `kept`: {all:?}");
    let (old, theme) = (&all[0], &all[1]);
    assert!(old.starts_with("old=; "), "{old}");
    assert!(old.contains("Path=/") && old.contains("Max-Age=0"), "{old}");
    assert!(old.contains("Expires="), "{old}");
    assert!(theme.starts_with("theme=dark%20mode; "), "{theme}");
    for attribute in ["SameSite=Strict", "Path=/", "Max-Age=3600"] {
        assert!(theme.contains(attribute), "{attribute} in {theme}");
    }
    assert!(!theme.contains("HttpOnly"), "nothing is set unasked: {theme}");
}

#[tokio::test]
async fn removing_a_cookie_not_sent_sets_nothing() {
    let response = client().post("/signed/logout").send().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());
}

#[tokio::test]
async fn signed_round_trip_and_logout() {
    let client = client();
    let response = client.post("/signed").send().await;
    assert_eq!(response.text(), "signed in");
    let set = &set_cookies(&response)[0];
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let signed = pair(&response);
    assert!(signed.starts_with("user=") && signed.ends_with("42"), "readable: {signed}");
    assert_eq!(get_with(&client, "/signed", &signed).await, "user 42");

    let response = client.post("/signed/logout").header("cookie", signed.as_str()).send().await;
    let removal = &set_cookies(&response)[0];
    assert!(removal.starts_with("user=; ") && removal.contains("Max-Age=0"), "{removal}");
}

#[tokio::test]
async fn tampered_signed_cookies_are_absent() {
    let client = client();
    let signed = pair(&client.post("/signed").send().await);
    let value_changed = format!("{}1", signed.strip_suffix("42").unwrap());
    let signature_changed = flip(&signed, 0);
    let unsigned = "user=42".to_owned();
    let wrong_key = foreign(SignedCookieJar::new(other_key()).add(("user", "42")).into_response());
    assert_ne!(wrong_key, signed);
    let truncated = signed[..20].to_owned();
    for forged in [value_changed, signature_changed, unsigned, wrong_key, truncated] {
        assert_eq!(get_with(&client, "/signed", &forged).await, "anonymous", "{forged}");
    }
    // A forged cookie beside a good one does not hide the good one.
    let both = format!("other=1; {signed}");
    assert_eq!(get_with(&client, "/signed", &both).await, "user 42");
}

#[tokio::test]
async fn private_round_trip() {
    let client = client();
    let response = client.post("/private").send().await;
    let sealed = pair(&response);
    assert!(sealed.starts_with("secret="), "{sealed}");
    assert!(!sealed.contains("cake"), "the value is not readable: {sealed}");
    assert_eq!(get_with(&client, "/private", &sealed).await, "secret the cake; is a lie");
}

#[tokio::test]
async fn tampered_and_foreign_private_cookies_are_absent() {
    let client = client();
    let sealed = pair(&client.post("/private").send().await);
    let len = sealed.len() - "secret=".len();
    let wrong_key = foreign(
        PrivateCookieJar::new(other_key()).add(("secret", "the cake; is a lie")).into_response(),
    );
    // Sealed under another name with the right key: the name is bound to it.
    let renamed = foreign(PrivateCookieJar::new(key()).add(("other", "x")).into_response());
    let renamed = renamed.replacen("other=", "secret=", 1);
    let forged = [
        flip(&sealed, 0),
        flip(&sealed, len / 2),
        flip(&sealed, len - 2),
        sealed[..sealed.len() - 4].to_owned(),
        "secret=the%20cake".to_owned(),
        "secret=".to_owned(),
        wrong_key,
        renamed,
    ];
    for forged in forged {
        assert_eq!(get_with(&client, "/private", &forged).await, "none", "{forged}");
    }
}

#[tokio::test]
async fn jars_outside_handlers() {
    let key = key();
    let jar = PrivateCookieJar::new(key.clone()).add(("a", "1"));
    assert_eq!(jar.get("a").unwrap().value(), "1");
    assert_eq!(jar.iter().count(), 1);
    let response = jar.into_response();
    assert_eq!(response.status(), StatusCode::OK);
    let mut headers = mambo::HeaderMap::new();
    headers.insert("cookie", response.headers()["set-cookie"].clone());
    headers.append("cookie", "b=2".parse().unwrap());
    let jar = PrivateCookieJar::from_headers(&headers, key);
    assert_eq!(jar.get("a").unwrap().value(), "1");
    assert!(jar.get("b").is_none());
    assert_eq!(CookieJar::from_headers(&headers).iter().count(), 2);
}

/// Runs `curl -s -i` with `args`; `None` when curl is not installed.
fn curl(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("curl").arg("-s").arg("-i").args(args).output().ok()?;
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    Some(String::from_utf8(output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_socket_with_curl() {
    let listening = mambo::Server::bind("127.0.0.1:0").listen().unwrap();
    let base = format!("http://{}", listening.local_addr());
    let task = tokio::spawn(listening.serve(App::new(AppState { key: key() })));
    let steps = tokio::task::spawn_blocking(move || {
        let Some(plain) = curl(&["--cookie", "a=1; b=x%20y", &format!("{base}/plain")]) else {
            eprintln!("curl is not installed: skipped");
            return;
        };
        assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
        assert!(plain.ends_with("\r\n\r\na=1&b=x y"), "{plain}");

        let login = curl(&["-X", "POST", &format!("{base}/signed")]).unwrap();
        let line = login.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"));
        let line = line.unwrap_or_else(|| panic!("no set-cookie: {login}"));
        assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"), "{line}");
        let signed = line["set-cookie:".len()..].trim().split(';').next().unwrap().to_owned();
        let me = curl(&["--cookie", &signed, &format!("{base}/signed")]).unwrap();
        assert!(me.ends_with("\r\n\r\nuser 42"), "{me}");
        let forged = curl(&["--cookie", "user=42", &format!("{base}/signed")]).unwrap();
        assert!(forged.starts_with("HTTP/1.1 200"), "{forged}");
        assert!(forged.ends_with("\r\n\r\nanonymous"), "{forged}");
    });
    tokio::time::timeout(Duration::from_secs(20), steps)
        .await
        .expect("the test timed out")
        .unwrap();
    task.abort();
}
