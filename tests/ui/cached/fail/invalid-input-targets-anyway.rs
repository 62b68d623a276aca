// A `#[cached]` fn with a mistake still emits what writers call, so the writers naming it
// compile: one mistake is one error, at the mistake.
use cache_runtime::{cache_invalidate, cache_put, cached};

#[cached(tll = 60)]
async fn get_user(id: u64) -> Option<String> {
    Some(id.to_string())
}

#[cache_invalidate(get_user(id), all(get_user))]
async fn delete_user(id: u64) {
    let _ = id;
}

#[cache_put(get_user(id))]
async fn rename_user(id: u64, name: String) -> Option<String> {
    let _ = id;
    Some(name)
}

pub struct Users;

impl Users {
    #[cached(ttl = 0, skip(db))]
    pub async fn get(&self, id: u64, db: &str) -> String {
        format!("{id} {db}")
    }

    #[cache_invalidate(Self::get(self, id))]
    pub async fn delete(&self, id: u64) {
        let _ = id;
    }
}

fn main() {}
