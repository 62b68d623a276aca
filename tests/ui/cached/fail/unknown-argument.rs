// The error names the argument; the fn is still emitted, so its callers see no further errors.
use cache_runtime::cached;

#[cached(foo = 1)]
async fn get(id: u64) -> u64 {
    id
}

async fn caller() -> u64 {
    get(1).await
}

fn main() {
    let _ = caller();
}
