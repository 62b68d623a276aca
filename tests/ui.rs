//! Compile-time behaviour of the macros: what compiles, and the exact errors of what does not.
//!
//! Each file under `ui/<macro>/{pass,fail}/` is named for the rule it shows. Fail cases have a
//! committed `.stderr`; after a deliberate change to a message (or a toolchain bump), rerun with
//! `TRYBUILD=overwrite cargo test -p cache-tests --test ui` and review the diff.

#![allow(clippy::panic)]

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

/// The errors a newcomer meets most (an axum `Json` return, a parameter that is not
/// `Serialize`) say what to do in their first lines, and stay short.
#[test]
fn common_errors_say_what_to_do() {
    let read = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let json = read("ui/cached/fail/axum-json-return.stderr");
    assert!(json.contains("`cache_runtime::web::Json<T>`"), "{json}");
    assert!(
        json.lines().count() <= 120,
        "{} lines",
        json.lines().count()
    );
    let pool = read("ui/cached/fail/arg-not-serialize.stderr");
    assert!(pool.contains("`#[cached(skip(pool))]`"), "{pool}");
    assert!(pool.lines().count() <= 30, "{} lines", pool.lines().count());
}
