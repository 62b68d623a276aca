/// Loads many users in one query.
pub async fn get_users(ids: Vec<u64>, db: &Db) -> HashMap<u64, User> {
    #![allow(clippy::needless_pass_by_value)]
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
            "users",
            1u32,
        )
        .ttl(::cache_runtime::__private::core::time::Duration::from_millis(600000u64));
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_batch = ::cache_runtime::__private::batch_lookup::<
        u64,
        <HashMap<u64, User> as ::cache_runtime::__private::BatchOutput<u64>>::Value,
    >(__cache_handle, &__CACHE_SITE, ids)
        .await;
    if __cache_batch.is_complete() {
        return ::cache_runtime::__private::batch_finish(
                __cache_handle,
                &__CACHE_SITE,
                __cache_batch,
                <HashMap<
                    u64,
                    User,
                > as ::cache_runtime::__private::BatchOutput<u64>>::empty(),
            )
            .await;
    }
    let ids = __cache_batch.take_missing();
    let __cache_result = async move {
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
        if false {
            let __cache_fake_return: HashMap<u64, User> = loop {};
            return __cache_fake_return;
        }
        db.load_many(&ids).await
    }
        .await;
    ::cache_runtime::__private::batch_finish(
            __cache_handle,
            &__CACHE_SITE,
            __cache_batch,
            __cache_result,
        )
        .await
}
