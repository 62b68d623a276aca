async fn save(id: u64, user: User) -> Option<User> {
    let __cache_source_0 = get_user::source(&(id));
    let __cache_handle_0: &my_cache::Cache = my_cache::__private::target_cache(
        &__cache_source_0,
    );
    let __cache_put_0 = get_user::key(&(id));
    let __cache_source_1 = crate::users::find::source(&(&user.email));
    let __cache_handle_1: &my_cache::Cache = my_cache::__private::target_cache(
        &__cache_source_1,
    );
    let __cache_put_1 = crate::users::find::key(&(&user.email));
    let __cache_result = async move {
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
        if false {
            let __cache_fake_return: Option<User> = loop {};
            return __cache_fake_return;
        }
        db::save(id, user).await
    }
        .await;
    my_cache::__private::put_outcome(__cache_handle_0, __cache_put_0, &__cache_result)
        .await;
    my_cache::__private::put_outcome(__cache_handle_1, __cache_put_1, &__cache_result)
        .await;
    __cache_result
}
