// Type errors in the body point at the user's code, checked against the declared return type.
use cache_runtime::cached;

#[cached]
async fn name(id: u64) -> Result<String, std::io::Error> {
    if id == 0 {
        return Ok(id);
    }
    Ok(5)
}

fn main() {}
