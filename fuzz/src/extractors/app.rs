//! The router under test: one route per extractor, each handler echoing
//! what it extracted as JSON so the check can compare it with the serde
//! crates' own reading of the same bytes.

use std::collections::BTreeMap;

use mambo::extract::{BearerToken, ContentLength, Host, UserAgent};
use mambo::prelude::*;
use serde::{Deserialize, Serialize};

/// A JSON body with nesting, options, defaults and an enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pet {
    /// Required text.
    pub name: String,
    /// Required, 0 to 255.
    pub age: u8,
    /// Defaults to empty.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A nested object, or absent / `null`.
    pub owner: Option<Owner>,
    /// An externally tagged enum, defaulting to `dog`.
    #[serde(default)]
    pub kind: Kind,
    /// Any finite number (JSON has no other).
    pub weight: Option<f64>,
}

/// The owner of a [`Pet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// A signed id.
    pub id: i64,
    /// Optional text.
    pub email: Option<String>,
}

/// Unit and newtype variants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `"dog"`.
    #[default]
    Dog,
    /// `"cat"`.
    Cat,
    /// `{"other": "..."}`.
    Other(String),
}

/// A flat form or query: text, numbers, booleans, a unit enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// Required text.
    pub q: String,
    /// Optional number.
    pub page: Option<u32>,
    /// Defaults to `false`.
    #[serde(default)]
    pub exact: bool,
    /// `asc` or `desc`, optional.
    pub order: Option<Order>,
}

/// A unit enum, read from its name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// `asc`.
    Asc,
    /// `desc`.
    Desc,
}

/// `Json<Pet>` under the default body limit.
#[route(POST "/json")]
pub async fn json(Json(pet): Json<Pet>) -> Json<Pet> {
    Json(pet)
}

/// `Json<Pet>` under a 64-byte limit.
#[route(POST "/json/small", body_limit = "64")]
pub async fn json_small(Json(pet): Json<Pet>) -> Json<Pet> {
    Json(pet)
}

/// Any JSON value.
#[route(POST | PUT "/json/value")]
pub async fn json_value(Json(value): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(value)
}

/// `Form<Search>`.
#[route(POST "/form")]
pub async fn form(Form(search): Form<Search>) -> Json<Search> {
    Json(search)
}

/// Any form, as pairs in order.
#[route(POST "/form/pairs")]
pub async fn form_pairs(Form(pairs): Form<Vec<(String, String)>>) -> Json<Vec<(String, String)>> {
    Json(pairs)
}

/// `Query<Search>`.
#[route(GET "/query")]
pub async fn query(Query(search): Query<Search>) -> Json<Search> {
    Json(search)
}

/// Any query, as a map (the last of repeated keys wins).
#[route(GET "/query/map")]
pub async fn query_map(
    Query(map): Query<BTreeMap<String, String>>,
) -> Json<BTreeMap<String, String>> {
    Json(map)
}

/// `Option<Query<Search>>`: `None` only without a query string.
#[route(GET "/query/optional")]
pub async fn query_optional(search: Option<Query<Search>>) -> Json<Option<Search>> {
    Json(search.map(|Query(search)| search))
}

/// Path parameters: an integer, text and a catch-all, percent-decoded.
#[route(GET "/params/:n/:s/*rest")]
pub async fn params(n: i64, s: String, rest: &str) -> Json<(i64, String, String)> {
    Json((n, s, rest.to_owned()))
}

/// The typed headers, each optional.
#[route(GET "/headers")]
pub async fn headers(
    agent: Option<Header<UserAgent>>,
    token: Option<Header<BearerToken>>,
    length: Option<Header<ContentLength>>,
    host: Option<Header<Host>>,
) -> Json<[Option<String>; 4]> {
    Json([
        agent.map(|Header(UserAgent(agent))| agent),
        token.map(|Header(BearerToken(token))| token),
        length.map(|Header(ContentLength(length))| length.to_string()),
        host.map(|Header(Host(host))| host),
    ])
}

/// The body as text (any `content-type`).
#[route(POST "/text")]
pub async fn text(body: String) -> Json<String> {
    Json(body)
}

mambo::router! {
    /// Every extractor route; a path off by a trailing slash is redirected.
    pub struct Extractors {
        trailing_slash: redirect,
        routes: [
            json, json_small, json_value, form, form_pairs, query, query_map,
            query_optional, params, headers, text,
        ],
    }
}
