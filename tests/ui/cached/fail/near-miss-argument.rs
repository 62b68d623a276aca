use cache_runtime::cached;

#[cached(tll = 60)]
async fn get(id: u64) -> u64 {
    id
}

#[cached(namepsace = "users", time_to_live = 60)]
async fn get_user(id: u64) -> u64 {
    id
}

fn main() {}
