// Doc comments, outer attributes and inner attributes of the body survive the rewrite.
#![deny(missing_docs, unused)]
//! Crate docs.

use cache_runtime::{cached, Cache};

/// Documented, inlined, and allowed to be unused.
#[cached]
#[inline]
#[allow(dead_code)]
#[must_use = "the answer matters"]
pub async fn answer(question: String) -> usize {
    #![allow(clippy::needless_return)]
    return question.len();
}

#[allow(dead_code)]
#[cached]
async fn never_called(n: u8) -> u8 {
    n
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    assert_eq!(answer("why?".to_owned()).await, 4);
}
