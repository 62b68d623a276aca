// A named argument given twice is reported at the second copy.
use cache_runtime::cache_invalidate;

#[cache_invalidate(pattern = "users:*", pattern = "orders:*")]
async fn reset() {}

fn main() {}
