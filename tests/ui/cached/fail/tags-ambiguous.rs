use cache_runtime::{cache_invalidate, cached};

#[cached(tags = ["{org}{user}"])]
async fn adjacent(org: u64, user: u64) -> u64 {
    org + user
}

#[cached(tags = ["org:{org}-{user}"])]
async fn dash(org: u64, user: u64) -> u64 {
    org + user
}

#[cache_invalidate(tags = ["{org}.{user}"])]
async fn dot(org: u64, user: u64) {
    let _ = (org, user);
}

fn main() {}
