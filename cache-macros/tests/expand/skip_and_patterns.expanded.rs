async fn handler(Path(id): Path<u64>, (a, _): (u8, u8), db: Db, _: Extra) -> String {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_value::<String>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
        ::core::concat!(::core::module_path!(), "::", "handler"),
        1u32,
    );
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&id);
    __cache_key.arg(&a);
    ::cache_runtime::__private::cached_plain::<
        String,
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
                    let __cache_fake_return: String = loop {};
                    return __cache_fake_return;
                }
                db.name(id, a).await
            },
        )
        .await
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    __cache_fn_handler handler { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] fn key(Path(id) : & Path < u64 >, (a, _) : & (u8,
    u8)) -> ::cache_runtime::__private::KeyTarget < String > { static __CACHE_SITE :
    ::cache_runtime::__private::Site =
    ::cache_runtime::__private::Site::new(::core::concat!(::core::module_path!(), "::",
    "handler"), 1u32); let mut __cache_key =
    ::cache_runtime::__private::KeyBuilder::new(); __cache_key.arg(id); __cache_key
    .arg(a); ::cache_runtime::__private::KeyTarget::new(& __CACHE_SITE, & mut
    __cache_key) } #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables,
    unreachable_pub, missing_docs, private_interfaces, unreachable_code, clippy::all)] fn
    source(_ : & impl ? ::core::marker::Sized, _ : & impl ? ::core::marker::Sized) -> &
    'static ::cache_runtime::Cache { ::cache_runtime::__private::global() }
    #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables, unreachable_pub,
    missing_docs, private_interfaces, unreachable_code, clippy::all)] fn namespace() ->
    (& 'static str, & 'static ::cache_runtime::Cache) {
    (::core::concat!(::core::module_path!(), "::", "handler"), {
    ::cache_runtime::__private::global() }) } }
}
