// A target is a call with the arguments of the entry (or `all(f)` for every entry), not a
// bare path or a method call.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user)]
async fn update(id: u64) {
    let _ = id;
}

struct Users;

impl Users {
    #[cached]
    pub async fn get(&self, id: u64) -> u64 {
        id
    }

    #[cache_invalidate(self.get(id))]
    pub async fn update(&self, id: u64) {
        let _ = id;
    }
}

fn main() {}
