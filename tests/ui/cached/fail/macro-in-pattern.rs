use cache_runtime::cached;

macro_rules! name {
    () => {
        _id
    };
}

#[cached]
async fn get(name!(): u64) -> u64 {
    7
}

fn main() {}
