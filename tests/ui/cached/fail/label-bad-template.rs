// A `label` is a template like a tag's: its placeholders must name parameters, and it must
// be a non-empty string literal.
use cache_runtime::cached;

#[cached(label = "user {idd}")]
async fn unknown_placeholder(id: u64) -> u64 {
    id
}

#[cached(label = "user {id")]
async fn unclosed(id: u64) -> u64 {
    id
}

#[cached(label = 7)]
async fn not_a_string(id: u64) -> u64 {
    id
}

fn main() {}
