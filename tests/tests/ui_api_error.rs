//! Compile-fail tests of `#[derive(ApiError)]`: one message per file, each
//! `.stderr` showing where the error points.

#[test]
fn ui_api_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/api_error/fail/*.rs");
    cases.pass("tests/ui/api_error/pass/*.rs");
}
