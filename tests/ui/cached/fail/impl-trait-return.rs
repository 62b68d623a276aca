use cache_runtime::cached;

#[cached]
async fn numbers(n: u64) -> Vec<impl std::fmt::Display> {
    vec![n]
}

fn main() {}
