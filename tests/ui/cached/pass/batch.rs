// `#[cached(batch)]`: `Vec<K>` or `&[K]` ids, a `HashMap`, `Vec` or `Result` of them returned,
// other parameters left out of the key, methods with their own cache, and a `mut` binding.
use std::collections::HashMap;

use cache_runtime::{cached, Cache};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct User {
    name: String,
}

#[cached(batch, namespace = "users", ttl = "10m")]
async fn get_users(ids: Vec<u64>, db: &str) -> HashMap<u64, User> {
    ids.into_iter()
        .map(|id| (id, User { name: format!("{db}:{id}") }))
        .collect()
}

#[cached(batch, namespace = "names", version = 2)]
async fn get_names(ids: &[u64]) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

#[cached(batch, l1 = false)]
async fn try_get_users(mut ids: Vec<String>) -> Result<HashMap<String, User>, std::io::Error> {
    ids.sort();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ids
        .into_iter()
        .map(|name| (name.clone(), User { name }))
        .collect())
}

struct Users {
    cache: Cache,
}

impl Users {
    #[cached(batch, cache = self.cache, l1_ttl = "5s", ttl_jitter = 0.1)]
    pub async fn get(&self, keys: &[String]) -> Result<Vec<User>, String> {
        Ok(keys.iter().map(|name| User { name: name.clone() }).collect())
    }
}

fn main() {
    let _ = get_users(vec![1, 2], "db");
    let _ = get_names(&[1, 2]);
    let _ = try_get_users(vec!["a".into()]);
    let users = Users { cache: Cache::memory() };
    let _ = users.get(&[]);
}
