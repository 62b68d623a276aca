// `detach = true` runs the body on a spawned task, so it cannot borrow its parameters.
use cache_runtime::cached;

struct Db;

impl Db {
    fn load(&self, id: u64) -> u64 {
        id
    }
}

#[cached(detach = true, skip(db))]
async fn load(id: u64, db: &Db) -> u64 {
    db.load(id)
}

fn main() {}
