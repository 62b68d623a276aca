//! Golden keys: the exact keys of a few typed calls are pinned here.
//!
//! A change to any of these strings is a change of the key format: every deployed cache
//! would miss once. Do it only with a version bump and a note in the changelog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};

use cache_runtime::{cached, key_for, Cache};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Filter {
    tag: String,
    min: f64,
    ids: Vec<u32>,
}

#[test]
fn primitive_arguments() {
    assert_eq!(
        key_for::<String>("users", 1, &(42u64,)).unwrap().as_str(),
        "users:v1.570240d7:f6e61eec40878e0d2bd2609739ffc0e6"
    );
    assert_eq!(
        key_for::<u32>("users", 2, &("ab", "c")).unwrap().as_str(),
        "users:v2.73aef9c8:cfdfe4e4d92e972b647c379cd7cb4258"
    );
    assert_eq!(
        key_for::<u32>("no.args", 1, &()).unwrap().as_str(),
        "no.args:v1.73aef9c8:af1349b9f5f9a1a6a0404dea36dcc949"
    );
}

#[test]
fn structured_arguments() {
    let f = Filter {
        tag: "rust".into(),
        min: -0.0,
        ids: vec![3, 1, 2],
    };
    assert_eq!(
        key_for::<Vec<String>>("search", 1, &(&f, Some(10u8)))
            .unwrap()
            .as_str(),
        "search:v1.473aacf3:4b327bc75270163ffcf4a3e33b30b799"
    );
    let map: HashMap<String, i32> = [("a".to_owned(), 1), ("b".to_owned(), 2)].into();
    let btree: BTreeMap<String, i32> = [("b".to_owned(), 2), ("a".to_owned(), 1)].into();
    let from_map = key_for::<bool>("maps", 1, &(&map,)).unwrap();
    assert_eq!(
        from_map.as_str(),
        "maps:v1.0b9fc026:c4dfd0f57b81408a238dc5dc4a74210a"
    );
    assert_eq!(key_for::<bool>("maps", 1, &(&btree,)).unwrap(), from_map);
}

#[test]
fn namespaces_are_escaped_in_keys() {
    assert_eq!(
        key_for::<String>("my_app::users::get_user", 1, &(1u8,))
            .unwrap()
            .as_str(),
        "my_app.users.get_user:v1.570240d7:f10b724bc8e30e5dbf2d776fc2c2ca3d"
    );
    assert_eq!(
        key_for::<String>("a*b c", 1, &(1u8,)).unwrap().as_str(),
        "a%2Ab%20c:v1.570240d7:f10b724bc8e30e5dbf2d776fc2c2ca3d"
    );
}

#[cached(namespace = "users", cache = cache, skip(cache))]
async fn get_name(cache: &Cache, id: u64) -> String {
    format!("user {id}")
}

#[tokio::test]
async fn the_macro_uses_the_pinned_key() {
    let cache = Cache::memory();
    get_name(&cache, 42).await;
    let golden = "users:v1.570240d7:f6e61eec40878e0d2bd2609739ffc0e6";
    assert!(cache.exists(golden).await.unwrap(), "{golden} not written");
}
