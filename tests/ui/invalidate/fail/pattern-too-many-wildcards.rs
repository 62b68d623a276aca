// A pattern holds at most 8 `*` wildcards; `\*` is a literal star and does not count.
use cache_runtime::cache_invalidate;

#[cache_invalidate(pattern = r"rate\*limit:*:*:*:*:*:*:*:*")]
async fn eight_wildcards() {}

#[cache_invalidate(pattern = "a*b*c*d*e*f*g*h*i*")]
async fn nine_wildcards() {}

fn main() {}
