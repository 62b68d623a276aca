use cache_runtime::{cache_invalidate, cached};

#[cached(tags = ["org:{org}:user:{user}", "{org}/{user}", "{org} {user}", "v-{org}"])]
async fn member(org: String, user: String) -> String {
    format!("{org}{user}")
}

#[cache_invalidate(tags = ["org:{org}:user:{user}"])]
async fn remove(org: String, user: String) {
    let _ = (org, user);
}

fn main() {}
