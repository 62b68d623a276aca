/// Renames a user.
pub async fn rename(&self, id: u64, name: String) -> Result<(), DbError> {
    #![allow(clippy::needless_return)]
    let __cache_source = &(self.cache);
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::AsCache::as_cache(
        __cache_source,
    );
    let mut __cache_plan = ::cache_runtime::__private::Plan::new();
    #[allow(non_camel_case_types, non_snake_case, dead_code, clippy::all)]
    trait __CacheTarget0 {
        fn __cache_key_get<__A0, __A1>(
            _: __A0,
            _: __A1,
        ) -> ::cache_runtime::__private::KeyTarget<()>
        where
            Self: ::cache_runtime::__private::NotATarget,
        {
            loop {}
        }
        fn __cache_src_get<__A0, __A1>(
            _: __A0,
            _: __A1,
        ) -> &'static ::cache_runtime::Cache {
            loop {}
        }
        fn __cache_ns_get() -> (&'static str, &'static ::cache_runtime::Cache)
        where
            Self: ::cache_runtime::__private::NotATarget,
        {
            loop {}
        }
    }
    impl<__T: ?::core::marker::Sized> __CacheTarget0 for __T {}
    ::cache_runtime::__private::plan_key(
        __cache_handle,
        &mut __cache_plan,
        Self::__cache_key_get(&(self), &(id)),
    );
    ::cache_runtime::__private::plan_key(
        __cache_handle,
        &mut __cache_plan,
        users::get_page::key::<Page>(&(id), &(1)),
    );
    ::cache_runtime::__private::plan_all(&mut __cache_plan, get_orders::namespace().0);
    __cache_plan.namespace("users");
    __cache_plan
        .tag(::std::format!("user:{}", ::cache_runtime::__private::tag_part(& (id))));
    __cache_plan
        .tag(
            ::std::format!("org:{}", ::cache_runtime::__private::tag_part(& (self.org))),
        );
    __cache_plan.pattern("sessions:*");
    ::cache_runtime::__private::invalidate(__cache_handle, &__cache_plan).await;
    let __cache_result = async move {
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
        if false {
            let __cache_fake_return: Result<(), DbError> = loop {};
            return __cache_fake_return;
        }
        return self.db.rename(id, name).await;
    }
        .await;
    ::cache_runtime::__private::invalidate_if_ok(
            __cache_handle,
            &__cache_plan,
            &__cache_result,
        )
        .await;
    __cache_result
}
