// An associated fn without `self` that does not name `Self` is taken for a free fn: each error
// notes the macro `add_cache_targets_to_the_impl_block`, which is what makes it work.
use cache_runtime::{cache_targets, cached};

struct Users;

impl Users {
    #[cached]
    pub async fn count(table: String) -> u64 {
        table.len() as u64
    }
}

struct Orders;

#[cache_targets]
impl Orders {
    #[cached]
    pub async fn count(table: String) -> u64 {
        table.len() as u64
    }
}

fn main() {}
