async fn thumbnail(id: u64) -> Vec<u8> {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_value::<Vec<u8>>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
            ::core::concat!(::core::module_path!(), "::", "thumbnail"),
            1u32,
        )
        .l1(false)
        .lock(true)
        .compress(false);
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&id);
    ::cache_runtime::__private::cached_plain::<
        Vec<u8>,
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
                    let __cache_fake_return: Vec<u8> = loop {};
                    return __cache_fake_return;
                }
                render(id).await
            },
        )
        .await
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    __cache_fn_thumbnail thumbnail { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn key(id : & u64) ->
    ::cache_runtime::__private::KeyTarget < Vec < u8 > > { static __CACHE_SITE :
    ::cache_runtime::__private::Site =
    ::cache_runtime::__private::Site::new(::core::concat!(::core::module_path!(), "::",
    "thumbnail"), 1u32).l1(false).lock(true).compress(false); let mut __cache_key =
    ::cache_runtime::__private::KeyBuilder::new(); __cache_key.arg(id);
    ::cache_runtime::__private::KeyTarget::new(& __CACHE_SITE, & mut __cache_key) }
    #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub,
    missing_docs, private_interfaces, unreachable_code, clippy::all)] fn source(_ : &
    impl ? ::core::marker::Sized) -> & 'static ::cache_runtime::Cache {
    ::cache_runtime::__private::global() } #[doc(hidden)] #[allow(non_snake_case,
    dead_code, unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn namespace() -> (& 'static str, & 'static
    ::cache_runtime::Cache) { (::core::concat!(::core::module_path!(), "::",
    "thumbnail"), { ::cache_runtime::__private::global() }) } }
}
