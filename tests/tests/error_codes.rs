//! The error codes as documented agree with the code: the table in
//! `mambo::extract::rejection` (the reference) and the README's copy list the
//! same codes, every code the framework produces is in them and reserved,
//! and the examples in the docs use codes that are not the framework's.

use std::collections::BTreeSet;
use std::path::Path;

use mambo::error::is_reserved_code;
use mambo::extract::rejection::{
    BytesRejection, ClientAddrRejection, ExtensionRejection, HeaderRejection, JsonRejection,
    StringRejection,
};
use mambo::extract::{FromParam, SafePath};
use mambo::multipart::{MultipartError, MultipartRejection};
use mambo::ws::WebSocketRejection;
use mambo::{Error, IntoResponse};

fn read(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The codes in a table's first column: `40001`, `40001–40009`,
/// `50301, 50302, 50303`.
fn codes_in_cell(cell: &str) -> Vec<u32> {
    let cell = cell.trim();
    if let Some((low, high)) = cell.split_once('–') {
        let (low, high): (u32, u32) = (low.trim().parse().unwrap(), high.trim().parse().unwrap());
        return (low..=high).collect();
    }
    cell.split(',').map(|code| code.trim().parse().unwrap()).collect()
}

/// The codes of the rows of the first table after `after`, in `text`
/// (lines starting with `prefix`).
fn table_codes(text: &str, prefix: &str, after: &str) -> BTreeSet<u32> {
    let start = text.find(after).unwrap_or_else(|| panic!("no `{after}`"));
    let rows: Vec<&str> = text[start..]
        .lines()
        .map(|line| line.strip_prefix(prefix).unwrap_or(line).trim())
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .collect();
    assert!(!rows.is_empty(), "no table after `{after}`");
    rows.iter()
        .flat_map(|row| codes_in_cell(row.trim_start_matches('|').split('|').next().unwrap()))
        .collect()
}

fn reference() -> BTreeSet<u32> {
    table_codes(&read("runtime/src/extract/rejection.rs"), "//!", "# Error codes")
}

#[test]
fn the_readme_table_is_the_reference_table() {
    let readme = table_codes(&read("README.md"), "", "The framework's own codes");
    assert_eq!(readme, reference());
}

#[test]
fn every_listed_code_is_reserved() {
    for code in reference() {
        assert!(is_reserved_code(code), "{code} is listed but not reserved");
    }
}

#[test]
fn codes_the_framework_produces_are_listed() {
    let not_utf8 = vec![0xff_u8];
    let produced = [
        Error::new(mambo::StatusCode::BAD_REQUEST, "x").code(),
        Error::not_found().code(),
        Error::method_not_allowed().code(),
        Error::internal().code(),
        SafePath::from_param("../x").unwrap_err().code(),
        <u8 as FromParam>::from_param("x").unwrap_err().code(),
        BytesRejection::TooLarge { limit: 1 }.code(),
        BytesRejection::TimedOut.code(),
        BytesRejection::ReadFailed { error: "x".into() }.code(),
        StringRejection::NotUtf8 { error: std::str::from_utf8(&not_utf8).unwrap_err() }.code(),
        JsonRejection::UnsupportedMediaType.code(),
        HeaderRejection::Missing { name: mambo::header::HOST }.code(),
        HeaderRejection::Invalid { name: mambo::header::HOST }.code(),
        ClientAddrRejection::Unknown.code(),
        ExtensionRejection::Missing { type_name: "T" }.code(),
        MultipartRejection::UnsupportedMediaType.code(),
        MultipartRejection::MissingBoundary.code(),
        MultipartRejection::InvalidBoundary.code(),
        MultipartRejection::TooLarge { limit: 1 }.code(),
        MultipartError::Malformed { reason: "x".into() }.code(),
        MultipartError::Incomplete.code(),
        MultipartError::TooManyFields { limit: 1 }.code(),
        MultipartError::TooLarge { limit: 1 }.code(),
        MultipartError::FieldTooLarge { name: "f".into(), limit: 1 }.code(),
        MultipartError::HeadersTooLarge { limit: 1 }.code(),
        MultipartError::NotUtf8 { name: "f".into() }.code(),
        MultipartError::ReadFailed { error: "x".into() }.code(),
        MultipartError::TimedOut.code(),
        WebSocketRejection::NotAHandshake.code(),
        WebSocketRejection::BadKey.code(),
        WebSocketRejection::UnsupportedVersion.code(),
        WebSocketRejection::NotUpgradable.code(),
        mambo::tower::SERVICE_FAILED_CODE,
        mambo::observe::health::NOT_READY_CODE,
        mambo::observe::health::SHUTTING_DOWN_CODE,
    ];
    let listed = reference();
    for code in produced {
        assert!(listed.contains(&code), "{code} is produced but not in the table");
    }
    // `Option::None`'s 404 goes through the same renderer.
    let none: Option<&'static str> = None;
    assert_eq!(none.into_response().status(), mambo::StatusCode::NOT_FOUND);
}

/// Every `#[api(code = N` in a documentation example (README, doc comments,
/// the example apps): `(file, code)`.
fn example_codes() -> Vec<(String, u32)> {
    let mut files = vec!["README.md".to_owned()];
    for dir in ["runtime/src", "macros/src", "examples/src"] {
        collect_rs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir), dir, &mut files);
    }
    let mut codes = Vec::new();
    for file in files {
        let text = read(&file);
        for piece in text.split("code = ").skip(1) {
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(code) = digits.parse() {
                codes.push((file.clone(), code));
            }
        }
    }
    codes
}

fn collect_rs(dir: &Path, relative: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let relative = format!("{relative}/{name}");
        if entry.file_type().unwrap().is_dir() {
            collect_rs(&entry.path(), &relative, out);
        } else if name.ends_with(".rs") {
            out.push(relative);
        }
    }
}

#[test]
fn examples_use_codes_that_are_not_the_frameworks() {
    let codes = example_codes();
    assert!(codes.len() > 10, "found only {codes:?}");
    let taken: Vec<_> = codes.iter().filter(|(_, code)| is_reserved_code(*code)).collect();
    assert!(taken.is_empty(), "examples use Mambo's own codes: {taken:?}");
}
