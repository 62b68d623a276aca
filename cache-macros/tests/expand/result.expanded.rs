pub async fn get_user(id: u64, pool: &Pool) -> Result<User, AppError> {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_outcome::<Result<User, AppError>>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
            "users",
            1u32,
        )
        .ttl(::cache_runtime::__private::core::time::Duration::from_millis(600000u64));
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&id);
    ::cache_runtime::__private::cached_outcome::<
        Result<User, AppError>,
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
                    let __cache_fake_return: Result<User, AppError> = loop {};
                    return __cache_fake_return;
                }
                pool.load(id).await
            },
        )
        .await
}
::cache_runtime::__private::add_cache_targets_to_the_impl_block! {
    pub __cache_fn_get_user get_user { #[doc(hidden)] #[allow(non_snake_case, dead_code,
    unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] pub fn key(id : & u64) ->
    ::cache_runtime::__private::KeyTarget < < Result < User, AppError > as
    ::cache_runtime::__private::Outcome > ::Value > { static __CACHE_SITE :
    ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new("users",
    1u32).ttl(::cache_runtime::__private::core::time::Duration::from_millis(600000u64));
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new(); __cache_key
    .arg(id); ::cache_runtime::__private::KeyTarget::new(& __CACHE_SITE, & mut
    __cache_key) } #[doc(hidden)] #[allow(non_snake_case, dead_code, unused_variables,
    unreachable_pub, missing_docs, private_interfaces, unreachable_code, clippy::all)]
    pub fn source(_ : & impl ? ::core::marker::Sized) -> & 'static ::cache_runtime::Cache
    { ::cache_runtime::__private::global() } #[doc(hidden)] #[allow(non_snake_case,
    dead_code, unused_variables, unreachable_pub, missing_docs, private_interfaces,
    unreachable_code, clippy::all)] pub fn namespace() -> (& 'static str, & 'static
    ::cache_runtime::Cache) { ("users", { ::cache_runtime::__private::global() }) } }
}
