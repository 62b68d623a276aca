#[inline]
pub async fn get(&self, id: u64) -> Result<User, Error> {
    #![allow(clippy::needless_return)]
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_outcome::<Result<User, Error>>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
        ::core::concat!(::core::module_path!(), "::", "get"),
        1u32,
    );
    let __cache_source = &(self.cache);
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::AsCache::as_cache(
        __cache_source,
    );
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&id);
    ::cache_runtime::__private::cached_outcome::<
        Result<User, Error>,
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
                    let __cache_fake_return: Result<User, Error> = loop {};
                    return __cache_fake_return;
                }
                return self.db.load(id).await;
            },
        )
        .await
}
#[doc(hidden)]
#[allow(
    non_snake_case,
    dead_code,
    unused_variables,
    unreachable_pub,
    missing_docs,
    private_interfaces,
    unreachable_code,
    clippy::all
)]
pub fn __cache_key_get(
    &self,
    id: &u64,
) -> ::cache_runtime::__private::KeyTarget<
    <Result<User, Error> as ::cache_runtime::__private::Outcome>::Value,
> {
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
        ::core::concat!(::core::module_path!(), "::", "get"),
        1u32,
    );
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(id);
    ::cache_runtime::__private::KeyTarget::new(&__CACHE_SITE, &mut __cache_key)
}
#[doc(hidden)]
#[allow(
    non_snake_case,
    dead_code,
    unused_variables,
    unreachable_pub,
    missing_docs,
    private_interfaces,
    unreachable_code,
    clippy::all
)]
pub fn __cache_src_get(
    &self,
    _: &impl ?::core::marker::Sized,
) -> ::cache_runtime::Cache {
    let __cache_source = &(self.cache);
    ::cache_runtime::Cache::clone(
        ::cache_runtime::__private::AsCache::as_cache(__cache_source),
    )
}
#[doc(hidden)]
#[allow(
    non_snake_case,
    dead_code,
    unused_variables,
    unreachable_pub,
    missing_docs,
    private_interfaces,
    unreachable_code,
    clippy::all
)]
pub fn __cache_ns_get() -> (&'static str, ::cache_runtime::__private::UnknownCache) {
    (
        ::core::concat!(::core::module_path!(), "::", "get"),
        { ::cache_runtime::__private::UnknownCache },
    )
}
