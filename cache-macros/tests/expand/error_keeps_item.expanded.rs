fn not_async(id: u64) -> u64 {
    id
}
::core::compile_error! {
    "unknown `#[cached]` argument `tll`; expected one of `ttl`, `namespace`, `key`, `skip`, `version`, `cache`, `cache_none`, `tags`, `label`, `l1`, `l1_ttl`, `lock`, `compress`, `ttl_jitter`, `stale_if_error`, `detach`, `refresh`, `soft_timeout`, `batch`, `crate`; did you mean `ttl`?"
}
::core::compile_error! {
    "`ttl` must be greater than zero"
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    __cache_fn_not_async not_async { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn key(id : & u64) ->
    ::cache_runtime::__private::KeyTarget < u64 > { loop {} } #[doc(hidden)]
    #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub, missing_docs,
    private_interfaces, unreachable_code, clippy::all)] fn source(_ : & impl ?
    ::core::marker::Sized) -> & 'static ::cache_runtime::Cache { loop {} } #[doc(hidden)]
    #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub, missing_docs,
    private_interfaces, unreachable_code, clippy::all)] fn namespace() -> (& 'static str,
    & 'static ::cache_runtime::Cache) { ("", { loop {} }) } }
}
