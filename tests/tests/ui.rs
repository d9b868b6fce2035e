//! Compile-fail tests: every route mistake is a compile error pointing at
//! the tokens at fault, with a message that says what to write instead.
//! One file per message, grouped by macro; the expected output is in the
//! `.stderr` beside each file (regenerate with `TRYBUILD=overwrite`, then
//! read the diff).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/route/fail/*.rs");
    cases.compile_fail("ui/router/fail/*.rs");
    cases.pass("ui/router/pass/*.rs");
    cases.compile_fail("ui/api_error/fail/*.rs");
    cases.pass("ui/api_error/pass/*.rs");
}
