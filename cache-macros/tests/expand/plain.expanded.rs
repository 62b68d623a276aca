/// Squares a number, slowly.
pub async fn square(n: u64) -> u64 {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_value::<u64>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
            ::core::concat!(::core::module_path!(), "::", "square"),
            1u32,
        )
        .ttl(::cache_runtime::__private::core::time::Duration::from_millis(300000u64));
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&n);
    ::cache_runtime::__private::cached_plain::<
        u64,
        _,
    >(
            __cache_handle,
            &__CACHE_SITE,
            &mut __cache_key,
            async move {
                #[allow(
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::empty_loop
                )]
                if false {
                    let __cache_fake_return: u64 = loop {};
                    return __cache_fake_return;
                }
                n * n
            },
        )
        .await
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    pub __cache_fn_square square { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] pub fn key(n : & u64) ->
    ::cache_runtime::__private::KeyTarget < u64 > { static __CACHE_SITE :
    ::cache_runtime::__private::Site =
    ::cache_runtime::__private::Site::new(::core::concat!(::core::module_path!(), "::",
    "square"), 1u32)
    .ttl(::cache_runtime::__private::core::time::Duration::from_millis(300000u64)); let
    mut __cache_key = ::cache_runtime::__private::KeyBuilder::new(); __cache_key.arg(n);
    ::cache_runtime::__private::KeyTarget::new(& __CACHE_SITE, & mut __cache_key) }
    #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub,
    missing_docs, private_interfaces, unreachable_code, clippy::all)] pub fn source(_ : &
    impl ? ::core::marker::Sized) -> & 'static ::cache_runtime::Cache {
    ::cache_runtime::__private::global() } #[doc(hidden)] #[allow(non_snake_case,
    dead_code, unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] pub fn namespace() -> (& 'static str, & 'static
    ::cache_runtime::Cache) { (::core::concat!(::core::module_path!(), "::", "square"), {
    ::cache_runtime::__private::global() }) } }
}
