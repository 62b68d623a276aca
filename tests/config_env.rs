//! Configuration: environment variables, builder validation, and URL errors, with exact text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use cache_runtime::{Cache, CacheBuilder, Error};

fn from_vars(vars: &[(&str, &str)]) -> Result<CacheBuilder, Error> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    CacheBuilder::from_lookup(move |name| vars.get(name).cloned())
}

fn config_error(vars: &[(&str, &str)]) -> String {
    match from_vars(vars) {
        Err(e @ Error::Config(_)) => e.to_string(),
        other => panic!("expected a configuration error for {vars:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn no_variables_means_memory_with_defaults() {
    let cache = from_vars(&[]).unwrap().build().await.unwrap();
    assert_eq!(cache.backend(), "memory");
    assert_eq!(cache.prefix(), "cache");
    assert_eq!(cache.default_ttl(), Duration::from_secs(300));
    // An empty REDIS_URL is the same as an unset one.
    let cache = from_vars(&[("REDIS_URL", "  ")])
        .unwrap()
        .build()
        .await
        .unwrap();
    assert_eq!(cache.backend(), "memory");
}

#[tokio::test]
async fn variables_are_applied() {
    let cache = from_vars(&[
        ("CACHE_PREFIX", "svc.v2"),
        ("CACHE_DEFAULT_TTL", "90s"),
        ("CACHE_MAX_VALUE_BYTES", "1024"),
    ])
    .unwrap()
    .build()
    .await
    .unwrap();
    assert_eq!(cache.prefix(), "svc.v2");
    assert_eq!(cache.default_ttl(), Duration::from_secs(90));
    let big = "x".repeat(2000);
    assert!(matches!(
        cache.set("k", &big, None).await,
        Err(Error::TooLarge { max: 1024, .. })
    ));
    let seconds = from_vars(&[("CACHE_DEFAULT_TTL", "45")])
        .unwrap()
        .build()
        .await
        .unwrap();
    assert_eq!(seconds.default_ttl(), Duration::from_secs(45));
}

#[test]
fn resilience_and_security_variables_are_checked() {
    assert_eq!(
        config_error(&[("CACHE_OPERATION_TIMEOUT", "fast")]),
        "invalid cache configuration: CACHE_OPERATION_TIMEOUT=\"fast\" is not valid; expected a duration greater than 0 such as 250ms or 1s (a bare number is seconds)"
    );
    assert_eq!(
        config_error(&[("CACHE_REQUIRE_REDIS", "maybe")]),
        "invalid cache configuration: CACHE_REQUIRE_REDIS=\"maybe\" is not valid; expected true or false"
    );
    assert_eq!(
        config_error(&[("CACHE_COMPRESS_THRESHOLD", "1k")]),
        "invalid cache configuration: CACHE_COMPRESS_THRESHOLD=\"1k\" is not valid; expected a whole number of bytes (e.g. 1024) or off"
    );
    // The secret itself is never part of the message.
    assert_eq!(
        config_error(&[("CACHE_SIGNING_KEY", "hunter2")]),
        "invalid cache configuration: CACHE_SIGNING_KEY is too short (7 bytes); use a random secret of at least 16 bytes"
    );
    let builder = from_vars(&[
        ("CACHE_OPERATION_TIMEOUT", "80ms"),
        ("CACHE_COMPRESS_THRESHOLD", "off"),
        ("CACHE_SIGNING_KEY", "correct horse battery staple"),
    ])
    .unwrap();
    let shown = format!("{builder:?}");
    assert!(shown.contains("operation_timeout: 80ms"), "{shown}");
    assert!(shown.contains("compress_threshold: None"), "{shown}");
    assert!(shown.contains("signing_key: Some(\"***\")"), "{shown}");
    assert!(!shown.contains("horse"), "{shown}");
}

/// `CACHE_FALLBACK_TTL` sets the outage fallback's TTL (`off` or `0`: off); anything else is
/// an error naming the variable.
#[test]
fn fallback_ttl_from_the_environment() {
    assert!(cache_runtime::ENV_VARS.contains(&"CACHE_FALLBACK_TTL"));
    let shown = |vars: &[(&str, &str)]| format!("{:?}", from_vars(vars).unwrap());
    assert!(shown(&[]).contains("fallback_ttl: 5s"), "{}", shown(&[]));
    for (text, debug) in [
        ("2s", "2s"),
        ("500ms", "500ms"),
        ("3", "3s"),
        ("off", "0ns"),
    ] {
        let shown = shown(&[("CACHE_FALLBACK_TTL", text)]);
        assert!(
            shown.contains(&format!("fallback_ttl: {debug},")),
            "{text}: {shown}"
        );
    }
    assert_eq!(
        config_error(&[("CACHE_FALLBACK_TTL", "briefly")]),
        "invalid cache configuration: CACHE_FALLBACK_TTL=\"briefly\" is not valid; expected a duration such as 5s or 500ms (a bare number is seconds), or off"
    );
}

#[tokio::test]
async fn require_redis_from_the_environment() {
    let err = from_vars(&[
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("CACHE_REQUIRE_REDIS", "true"),
    ])
    .unwrap()
    .build()
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cache store error: Redis at redis://127.0.0.1:1 did not answer:"),
        "{err}"
    );
}

#[test]
fn malformed_variables_name_the_variable() {
    assert_eq!(
        config_error(&[("CACHE_DEFAULT_TTL", "soon")]),
        "invalid cache configuration: CACHE_DEFAULT_TTL=\"soon\" is not valid; expected a whole number of seconds greater than 0 (e.g. 300) or a duration such as 90s, 10m, 1h, 1d"
    );
    assert_eq!(
        config_error(&[("CACHE_DEFAULT_TTL", "0")]),
        "invalid cache configuration: CACHE_DEFAULT_TTL=\"0\" is not valid; expected a whole number of seconds greater than 0 (e.g. 300) or a duration such as 90s, 10m, 1h, 1d"
    );
    assert_eq!(
        config_error(&[("CACHE_MAX_VALUE_BYTES", "8MB")]),
        "invalid cache configuration: CACHE_MAX_VALUE_BYTES=\"8MB\" is not valid; expected a whole number of bytes, at least 64 (e.g. 8388608)"
    );
    assert_eq!(
        config_error(&[("CACHE_PREFIX", "my app")]),
        "invalid cache configuration: CACHE_PREFIX \"my app\" contains ' '; use letters, digits, `_`, `-` and `.` (the prefix is one key segment: `:` and `#` end it, so a prefix holding them would overlap another cache's keys)"
    );
    assert_eq!(
        config_error(&[("CACHE_PREFIX", "app:t")]),
        "invalid cache configuration: CACHE_PREFIX \"app:t\" contains ':'; use letters, digits, `_`, `-` and `.` (the prefix is one key segment: `:` and `#` end it, so a prefix holding them would overlap another cache's keys)"
    );
    assert_eq!(
        config_error(&[("REDIS_URL", "http://user:hunter2@example.com")]),
        "invalid cache configuration: REDIS_URL must start with redis://, rediss://, redis+unix:// or unix://, got `***@example.com`"
    );
}

#[tokio::test]
async fn bad_redis_urls_fail_at_build() {
    let err = Cache::builder()
        .redis_url("redis://:hunter2@127.0.0.1:notaport")
        .build()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(
        text.starts_with(
            "invalid cache configuration: invalid Redis URL `redis://:***@127.0.0.1:notaport`"
        ),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn unreachable_redis_is_fail_open_by_default() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let cache = Cache::builder()
        .redis_url("redis://app:hunter2@127.0.0.1:1")
        .build()
        .await
        .unwrap();
    assert_eq!(cache.backend(), "redis");
    // Every operation fails open; the first one counts as an error.
    assert!(cache.get::<u64>("k").await.is_err());
    assert!(cache.stats().errors >= 1);
}

#[tokio::test]
async fn unreachable_redis_fails_at_build_when_required_without_leaking_the_password() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let err = Cache::builder()
        .redis_url("redis://app:hunter2@127.0.0.1:1")
        .require_redis(true)
        .build()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(
        text.starts_with("cache store error: Redis at redis://app:***@127.0.0.1:1 did not answer:"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn debug_output_hides_the_password() {
    let builder = Cache::builder().redis_url("redis://app:hunter2@127.0.0.1:1");
    let shown = format!("{builder:?}");
    assert!(shown.contains("redis://app:***@127.0.0.1:1"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    let cache = builder.build_lazy().unwrap();
    let shown = format!("{cache:?}");
    assert!(shown.contains("redis://app:***@127.0.0.1:1"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn invalid_builder_settings_are_refused() {
    let cases: [(CacheBuilder, &str); 4] = [
        (
            Cache::builder().prefix(""),
            "invalid cache configuration: prefix must be 1 to 64 characters, got 0 characters",
        ),
        (
            Cache::builder().prefix("a*"),
            "invalid cache configuration: prefix \"a*\" contains '*'; use letters, digits, `_`, `-` and `.` (the prefix is one key segment: `:` and `#` end it, so a prefix holding them would overlap another cache's keys)",
        ),
        (
            Cache::builder().default_ttl(Duration::ZERO),
            "invalid cache configuration: default_ttl must be greater than zero",
        ),
        (
            Cache::builder().max_value_bytes(10),
            "invalid cache configuration: max_value_bytes must be at least 64, got 10",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().await.unwrap_err().to_string(), expected);
    }
}

#[tokio::test]
async fn cluster_nodes_from_the_environment() {
    // Accepted: host:port and redis://host:port, spaces around entries ignored; the cache
    // is built lazily (nothing listens there).
    let cache = from_vars(&[(
        "REDIS_CLUSTER_NODES",
        "127.0.0.1:1, redis://127.0.0.1:2 ,localhost:3",
    )])
    .unwrap()
    .build_lazy()
    .unwrap();
    assert_eq!(cache.backend(), "redis");
    let shown = format!("{cache:?}");
    assert!(
        shown.contains("redis://127.0.0.1:1,redis://127.0.0.1:2,redis://localhost:3"),
        "{shown}"
    );

    for (value, bad) in [
        ("127.0.0.1:7000,127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:7000,", ""),
        ("127.0.0.1:99999", "127.0.0.1:99999"),
        ("rediss://127.0.0.1", "rediss://127.0.0.1"),
    ] {
        assert_eq!(
            config_error(&[("REDIS_CLUSTER_NODES", value)]),
            format!(
                "invalid cache configuration: REDIS_CLUSTER_NODES is not valid: `{bad}` is not a cluster node; expected host:port, redis://host:port or rediss://host:port"
            ),
            "{value}"
        );
    }
    // TLS nodes (feature `tls`), all of them: mixing is refused when the store opens.
    let cache = from_vars(&[(
        "REDIS_CLUSTER_NODES",
        "rediss://127.0.0.1:1,rediss://localhost:2",
    )])
    .unwrap()
    .build_lazy()
    .unwrap();
    let shown = format!("{cache:?}");
    assert!(
        shown.contains("rediss://127.0.0.1:1,rediss://localhost:2"),
        "{shown}"
    );
    let mixed = from_vars(&[("REDIS_CLUSTER_NODES", "127.0.0.1:1,rediss://127.0.0.1:2")])
        .unwrap()
        .build_lazy()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        mixed.to_string(),
        "invalid cache configuration: Redis Cluster nodes mix redis:// and rediss://: \
         [\"redis://127.0.0.1:1\", \"rediss://127.0.0.1:2\"]; every node of a cluster is \
         reached the same way"
    );
    // A password in an entry is not echoed.
    let text = config_error(&[("REDIS_CLUSTER_NODES", "redis://u:hunter2@h:1")]);
    assert!(!text.contains("hunter2"), "{text}");

    assert_eq!(
        config_error(&[
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("REDIS_CLUSTER_NODES", "127.0.0.1:7000"),
        ]),
        "invalid cache configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; pick one: REDIS_URL for a single Redis, REDIS_CLUSTER_NODES for a Redis Cluster"
    );
    assert!(cache_runtime::ENV_VARS.contains(&"REDIS_CLUSTER_NODES"));
}

#[test]
fn tls_files_from_the_environment_are_checked() {
    assert_eq!(
        config_error(&[("REDIS_TLS_CA_FILE", "/nonexistent/cache-tests/ca.pem")]),
        "invalid cache configuration: REDIS_TLS_CA_FILE=\"/nonexistent/cache-tests/ca.pem\" \
         cannot be read: No such file or directory (os error 2)"
    );
    assert_eq!(
        config_error(&[("REDIS_TLS_CERT_FILE", "/etc/hostname")]),
        "invalid cache configuration: REDIS_TLS_CERT_FILE is set without REDIS_TLS_KEY_FILE; \
         a client certificate needs its key"
    );
    assert_eq!(
        config_error(&[("REDIS_TLS_KEY_FILE", "/etc/hostname")]),
        "invalid cache configuration: REDIS_TLS_KEY_FILE is set without REDIS_TLS_CERT_FILE; \
         a key needs its client certificate"
    );
    assert_eq!(
        config_error(&[
            ("REDIS_TLS_CERT_FILE", "/etc/hostname"),
            ("REDIS_TLS_KEY_FILE", "/nonexistent/cache-tests/client.key"),
        ]),
        "invalid cache configuration: REDIS_TLS_KEY_FILE=\"/nonexistent/cache-tests/client.key\" \
         cannot be read: No such file or directory (os error 2)"
    );
    for var in [
        "REDIS_TLS_CA_FILE",
        "REDIS_TLS_CERT_FILE",
        "REDIS_TLS_KEY_FILE",
    ] {
        assert!(cache_runtime::ENV_VARS.contains(&var), "{var}");
    }
}
