fn not_async(id: u64) -> u64 {
    id
}
::core::compile_error! {
    "unknown `#[cached]` argument `tll`; expected one of `ttl`, `namespace`, `key`, `skip`, `version`, `cache`, `cache_none`, `tags`, `label`, `l1`, `l1_ttl`, `lock`, `compress`, `ttl_jitter`, `stale_if_error`, `detach`, `refresh`, `soft_timeout`, `batch`, `crate`; did you mean `ttl`?"
}
::core::compile_error! {
    "`ttl` must be greater than zero"
}
