// `#[cache_targets]` goes on an impl block, and takes no arguments.
use cache_runtime::{cache_targets, cached};

#[cache_targets]
#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

struct Users;

#[cache_targets(pub)]
impl Users {
    #[cached]
    async fn get(&self, id: u64) -> u64 {
        id
    }
}

fn main() {}
