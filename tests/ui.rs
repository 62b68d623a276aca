//! Compile-time behaviour of the macros: what compiles, and the exact errors of what does not.
//!
//! Each file under `ui/<macro>/{pass,fail}/` is named for the rule it shows. Fail cases have a
//! committed `.stderr`; after a deliberate change to a message (or a toolchain bump), rerun with
//! `TRYBUILD=overwrite cargo test -p cache-tests --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/cached/pass/*.rs");
    t.compile_fail("ui/cached/fail/*.rs");
    t.pass("ui/invalidate/pass/*.rs");
    t.compile_fail("ui/invalidate/fail/*.rs");
    t.pass("ui/put/pass/*.rs");
    t.compile_fail("ui/put/fail/*.rs");
}
