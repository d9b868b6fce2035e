//! `#[derive(ApiError)]` at run time: codes, statuses, messages, `Display`,
//! `source` chaining and the rendered response.

use std::borrow::Cow;
use std::error::Error as _;

use mambo::prelude::*;

#[derive(Debug)]
struct DbError(&'static str);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "db: {}", self.0)
    }
}

impl std::error::Error for DbError {}

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user {0} not found")]
    UserNotFound(u64),
    #[api(code = 409, message = "name `{name}` is taken by {owner:?}")]
    NameTaken { name: String, owner: String },
    #[api(code = 50301, message = "database unavailable", status = 503)]
    Database(#[source] DbError),
    #[api(code = 1001, message = "legacy {{code}} {}", status = 422)]
    Legacy(u8),
    #[api(code = 50000, message = "internal: {0}")]
    Boxed(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[api(code = 429, message = "slow down")]
    TooMany,
}

#[derive(Debug, ApiError)]
#[api(code = 40003, message = "field `{field}` is invalid")]
struct BadField {
    field: &'static str,
}

#[derive(Debug, ApiError)]
#[api(code = 503, message = "maintenance")]
struct Maintenance;

#[derive(Debug, ApiError)]
#[api(code = 40000, message = "bad {0}")]
struct Generic<T: std::fmt::Display + std::fmt::Debug>(T);

#[derive(Debug, ApiError)]
enum Never {}

fn assert_api_error<E: mambo::ApiError + std::error::Error + IntoResponse>() {}

#[test]
fn codes_statuses_and_messages() {
    let rows: Vec<(AppError, u32, u16, &str)> = vec![
        (AppError::UserNotFound(7), 40401, 404, "user 7 not found"),
        (
            AppError::NameTaken { name: "rex".into(), owner: "ann".into() },
            409,
            409,
            "name `rex` is taken by \"ann\"",
        ),
        (AppError::Database(DbError("down")), 50301, 503, "database unavailable"),
        (AppError::Legacy(3), 1001, 422, "legacy {code} 3"),
        (AppError::Boxed("disk full".into()), 50000, 500, "internal: disk full"),
        (AppError::TooMany, 429, 429, "slow down"),
    ];
    for (error, code, status, message) in rows {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.status().as_u16(), status, "{error:?}");
        assert_eq!(error.message(), message, "{error:?}");
        assert_eq!(error.to_string(), message, "Display of {error:?}");
    }
}

#[test]
fn messages_without_fields_are_borrowed() {
    assert!(matches!(AppError::TooMany.message(), Cow::Borrowed("slow down")));
    assert!(matches!(Maintenance.message(), Cow::Borrowed("maintenance")));
    assert!(matches!(AppError::UserNotFound(1).message(), Cow::Owned(_)));
}

#[test]
fn structs_and_generics() {
    let error = BadField { field: "email" };
    assert_eq!((error.code(), error.status()), (40003, StatusCode::BAD_REQUEST));
    assert_eq!(error.message(), "field `email` is invalid");
    assert_eq!(Maintenance.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(Generic(1.5).message(), "bad 1.5");
    assert_api_error::<Never>();
    assert_api_error::<Generic<u8>>();
}

#[test]
fn source_chains() {
    let error = AppError::Database(DbError("down"));
    assert_eq!(error.source().unwrap().to_string(), "db: down");
    let boxed = AppError::Boxed("disk full".into());
    assert_eq!(boxed.source().unwrap().to_string(), "disk full");
    assert!(AppError::UserNotFound(1).source().is_none());
    assert!(Maintenance.source().is_none());
}

#[test]
fn renders_the_json_error_body() {
    let response = AppError::UserNotFound(7).into_response();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.body().as_bytes().unwrap(),
        br#"{"code":40401,"message":"user 7 not found"}"#
    );
    let result: Result<&'static str, AppError> = Err(AppError::TooMany);
    assert_eq!(result.into_response().status(), StatusCode::TOO_MANY_REQUESTS);
}

/// `#[from]`: `From` for the field's type, and the field is the source.
#[derive(Debug, ApiError)]
enum StoreError {
    #[api(code = 50320, message = "storage unavailable")]
    Io(#[from] std::io::Error),
    #[api(code = 50021, message = "bad data on disk")]
    Parse {
        #[from]
        #[source]
        cause: std::num::ParseIntError,
    },
    #[api(code = 40420, message = "no such key")]
    Missing,
}

/// `#[from]` on a struct's one field.
#[derive(Debug, ApiError)]
#[api(code = 50220, message = "the upstream failed")]
struct Upstream(#[from] Box<dyn std::error::Error + Send + Sync>);

fn read(text: &str) -> Result<u64, StoreError> {
    if text.is_empty() {
        Err(std::io::Error::other("disk gone"))?;
    }
    Ok(text.parse::<u64>()?)
}

#[test]
fn from_converts_and_is_the_source() {
    let error = read("").unwrap_err();
    assert!(matches!(error, StoreError::Io(_)));
    assert_eq!(error.source().unwrap().to_string(), "disk gone");
    let error = read("x").unwrap_err();
    assert!(matches!(error, StoreError::Parse { .. }));
    assert_eq!(error.source().unwrap().to_string(), "invalid digit found in string");
    assert_eq!(read("7").unwrap(), 7);
    assert!(StoreError::Missing.source().is_none());

    let upstream = Upstream::from(Box::<dyn std::error::Error + Send + Sync>::from("timeout"));
    assert_eq!(upstream.source().unwrap().to_string(), "timeout");
}

/// An error with a source of its own, for a chain two deep.
#[derive(Debug)]
struct Pool(DbError);

impl std::fmt::Display for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no connection in the pool")
    }
}

impl std::error::Error for Pool {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn the_source_chain_reaches_the_report() {
    let response = Upstream::from(Box::from(Pool(DbError("refused")))).into_response();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let report = mambo::error::ErrorReport::of(&response).expect("a 5xx carries a report");
    assert_eq!((report.code(), report.message()), (50220, "the upstream failed"));
    assert_eq!(report.sources(), ["no connection in the pool", "db: refused"]);
    assert!(mambo::error::ErrorReport::of(&StoreError::Missing.into_response()).is_none());
}
