use cache_runtime::cached;

#[cached]
async fn nothing(id: u64) {
    let _ = id;
}

#[cached]
async fn unit(id: u64) -> () {
    let _ = id;
}

fn main() {}
