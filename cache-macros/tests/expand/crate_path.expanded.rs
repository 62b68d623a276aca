async fn get(key: u64, cache: u64, result: u64, value: u64, handle: u64) -> u64 {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = my_cache::__private::assert_value::<u64>;
    }
    static __CACHE_SITE: my_cache::__private::Site = my_cache::__private::Site::new(
        "n",
        1u32,
    );
    let __cache_handle: &my_cache::Cache = my_cache::__private::global();
    let mut __cache_key = my_cache::__private::KeyBuilder::new();
    __cache_key.arg(&key);
    __cache_key.arg(&cache);
    __cache_key.arg(&result);
    __cache_key.arg(&value);
    __cache_key.arg(&handle);
    my_cache::__private::cached_plain::<
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
                key + cache + result + value + handle
            },
        )
        .await
}
my_cache::__private::add_cache_targets_to_the_impl_block! {
    __cache_fn_get get { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn key(key : & u64, cache : & u64, result : & u64,
    value : & u64, handle : & u64) -> my_cache::__private::KeyTarget < u64 > { static
    __CACHE_SITE : my_cache::__private::Site = my_cache::__private::Site::new("n", 1u32);
    let mut __cache_key = my_cache::__private::KeyBuilder::new(); __cache_key.arg(key);
    __cache_key.arg(cache); __cache_key.arg(result); __cache_key.arg(value); __cache_key
    .arg(handle); my_cache::__private::KeyTarget::new(& __CACHE_SITE, & mut __cache_key)
    } #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables,
    unreachable_pub, missing_docs, private_interfaces, unreachable_code, clippy::all)] fn
    source(_ : & impl ? ::core::marker::Sized, _ : & impl ? ::core::marker::Sized, _ : &
    impl ? ::core::marker::Sized, _ : & impl ? ::core::marker::Sized, _ : & impl ?
    ::core::marker::Sized) -> & 'static my_cache::Cache { my_cache::__private::global() }
    #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub,
    missing_docs, private_interfaces, unreachable_code, clippy::all)] fn namespace() ->
    (& 'static str, & 'static my_cache::Cache) { ("n", { my_cache::__private::global() })
    } }
}
