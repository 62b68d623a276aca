use cache_runtime::cached;

struct Counter {
    count: u64,
}

impl Counter {
    // A hit would skip the increment.
    #[cached]
    async fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    #[cached]
    async fn bump_typed(self: &mut Self, by: u64) -> u64 {
        self.count += by;
        self.count
    }
}

fn main() {}
