use cache_runtime::cached;

#[cached(tags = ["user:{idd}"])]
async fn get_user(id: u64) -> u64 {
    id
}

#[cached(tags = ["tenant:{self.tenant}"])]
async fn free(id: u64) -> u64 {
    id
}

fn main() {}
