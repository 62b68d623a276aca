//! Redis Sentinel settings, from the environment and the builder: what is refused, with the
//! exact text, before anything is connected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use cache_runtime::{Cache, CacheBuilder, Error};

fn config_error(vars: &[(&str, &str)]) -> String {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match CacheBuilder::from_lookup(move |name| vars.get(name).cloned()) {
        Err(e @ Error::Config(_)) => e.to_string(),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

fn build_error(builder: CacheBuilder) -> String {
    match builder.build_lazy() {
        Err(e @ Error::Config(_)) => e.to_string(),
        Err(e) => panic!("expected a configuration error, got {e}"),
        Ok(_) => panic!("expected a configuration error, got a cache"),
    }
}

#[test]
fn sentinel_variables_come_in_pairs() {
    assert_eq!(
        config_error(&[("REDIS_SENTINEL_NODES", "127.0.0.1:26379")]),
        "invalid cache configuration: REDIS_SENTINEL_NODES is set without \
         REDIS_SENTINEL_MASTER; give the name of the master the sentinels monitor"
    );
    assert_eq!(
        config_error(&[("REDIS_SENTINEL_MASTER", "mymaster")]),
        "invalid cache configuration: REDIS_SENTINEL_MASTER is set without \
         REDIS_SENTINEL_NODES; give the sentinels as host:port,host:port"
    );
    for var in ["REDIS_SENTINEL_NODES", "REDIS_SENTINEL_MASTER"] {
        assert!(cache_runtime::ENV_VARS.contains(&var), "{var}");
    }
}

#[test]
fn sentinel_entries_are_checked() {
    for (entry, shown) in [
        ("127.0.0.1", "127.0.0.1"),
        ("h:0", "h:0"),
        ("h:26379/2", "h:26379/2"),
        ("redis://u:hunter2@h:26379", "redis://u:***@h:26379"),
    ] {
        assert_eq!(
            config_error(&[
                ("REDIS_SENTINEL_NODES", &format!("a:1,{entry}")),
                ("REDIS_SENTINEL_MASTER", "m"),
            ]),
            format!(
                "invalid cache configuration: REDIS_SENTINEL_NODES is not valid: `{shown}` is \
                 not a sentinel; expected host:port, redis://host:port or rediss://host:port"
            )
        );
    }
    assert_eq!(
        config_error(&[
            ("REDIS_SENTINEL_NODES", "a:1"),
            ("REDIS_SENTINEL_MASTER", "my master"),
        ]),
        "invalid cache configuration: REDIS_SENTINEL_MASTER is not valid: the master name \
         \"my master\" contains ' '"
    );
}

#[test]
fn one_topology_at_a_time() {
    for other in [
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("REDIS_CLUSTER_NODES", "127.0.0.1:7000"),
    ] {
        assert_eq!(
            config_error(&[
                other,
                ("REDIS_SENTINEL_NODES", "a:1"),
                ("REDIS_SENTINEL_MASTER", "m"),
            ]),
            "invalid cache configuration: REDIS_SENTINEL_NODES is set together with REDIS_URL \
             or REDIS_CLUSTER_NODES; pick one: REDIS_URL for a single Redis, \
             REDIS_CLUSTER_NODES for a Redis Cluster, REDIS_SENTINEL_NODES for a master found \
             through Redis Sentinel"
        );
    }
    let both = "invalid cache configuration: sentinel is set together with redis_url or \
                cluster_nodes; pick one: redis_url for a single Redis, cluster_nodes for a \
                Redis Cluster, sentinel for a master found through Redis Sentinel";
    assert_eq!(
        build_error(
            Cache::builder()
                .redis_url("redis://127.0.0.1:6379")
                .sentinel(["a:1"], "m")
        ),
        both
    );
    assert_eq!(
        build_error(
            Cache::builder()
                .cluster_nodes(["127.0.0.1:7000"])
                .sentinel(["a:1"], "m")
        ),
        both
    );
}

#[test]
fn builder_checks_nodes_and_name() {
    assert_eq!(
        build_error(Cache::builder().sentinel(Vec::<String>::new(), "m")),
        "invalid cache configuration: sentinel has no nodes; give at least one sentinel's \
         host:port"
    );
    assert_eq!(
        build_error(Cache::builder().sentinel(["a:1"], " ")),
        "invalid cache configuration: sentinel: the master name is empty; give the name the \
         sentinels monitor (`sentinel monitor <name> <host> <port> <quorum>`)"
    );
    assert_eq!(
        build_error(Cache::builder().sentinel(["a"], "m")),
        "invalid cache configuration: sentinel: `a` is not a sentinel; expected host:port, \
         redis://host:port or rediss://host:port"
    );
    assert_eq!(
        build_error(Cache::builder().sentinel(["a:1", "rediss://b:2"], "m")),
        "invalid cache configuration: Redis Sentinel nodes mix redis:// and rediss://: \
         [\"redis://a:1\", \"rediss://b:2\"]; every sentinel is reached the same way"
    );
    // Nothing is connected to build lazily, and the builder's `Debug` names the sentinels.
    let builder = Cache::builder().sentinel(["a:1", "redis://b:2"], "m");
    assert!(
        format!("{builder:?}").contains("sentinel: Some(\"redis+sentinel://a:1,b:2/m\")"),
        "{builder:?}"
    );
    assert_eq!(builder.build_lazy().unwrap().backend(), "redis");
}

#[test]
fn credentials_from_the_environment() {
    let builder = CacheBuilder::from_lookup(|name| match name {
        "REDIS_SENTINEL_NODES" => Some("a:1".to_owned()),
        "REDIS_SENTINEL_MASTER" => Some("m".to_owned()),
        "REDIS_USERNAME" => Some("app".to_owned()),
        "REDIS_PASSWORD" => Some("hunter2-hunter2".to_owned()),
        _ => None,
    })
    .unwrap();
    let shown = format!("{builder:?}");
    assert!(shown.contains("redis_username: Some(\"app\")"), "{shown}");
    assert!(shown.contains("redis_password: Some(\"***\")"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    for var in ["REDIS_USERNAME", "REDIS_PASSWORD"] {
        assert!(cache_runtime::ENV_VARS.contains(&var), "{var}");
    }
}
