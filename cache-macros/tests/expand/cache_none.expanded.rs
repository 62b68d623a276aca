async fn find(email: String) -> Option<User> {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_value::<Option<User>>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
            ::core::concat!(::core::module_path!(), "::", "find"),
            1u32,
        )
        .ttl(::cache_runtime::__private::core::time::Duration::from_millis(500u64))
        .cache_none(true);
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&email);
    ::cache_runtime::__private::cached_plain::<
        Option<User>,
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
                    let __cache_fake_return: Option<User> = loop {};
                    return __cache_fake_return;
                }
                lookup(&email).await
            },
        )
        .await
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    __cache_fn_find find { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn key(email : & String) ->
    ::cache_runtime::__private::KeyTarget < Option < User > > { static __CACHE_SITE :
    ::cache_runtime::__private::Site =
    ::cache_runtime::__private::Site::new(::core::concat!(::core::module_path!(), "::",
    "find"), 1u32)
    .ttl(::cache_runtime::__private::core::time::Duration::from_millis(500u64))
    .cache_none(true); let mut __cache_key =
    ::cache_runtime::__private::KeyBuilder::new(); __cache_key.arg(email);
    ::cache_runtime::__private::KeyTarget::new(& __CACHE_SITE, & mut __cache_key) }
    #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub,
    missing_docs, private_interfaces, unreachable_code, clippy::all)] fn source(_ : &
    impl ? ::core::marker::Sized) -> & 'static ::cache_runtime::Cache {
    ::cache_runtime::__private::global() } #[doc(hidden)] #[allow(non_snake_case,
    dead_code, unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn namespace() -> (& 'static str, & 'static
    ::cache_runtime::Cache) { (::core::concat!(::core::module_path!(), "::", "find"), {
    ::cache_runtime::__private::global() }) } }
}
