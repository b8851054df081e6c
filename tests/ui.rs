//! Compile-time behaviour of the macros: every supported handler shape
//! compiles (and the runnable ones answer); every mistake in `tests/ui/fail`
//! is an error pointing at the offending tokens, as its `.stderr` records.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn macro_pass_and_fail_cases() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
