use cache_runtime::cached;

#[cached(l1 = false, l1_ttl = "5s")]
async fn balance(account: u64) -> u64 {
    account
}

fn main() {}
