async fn get_user(&self, id: u64, user: &User) -> Option<Profile> {
    #[allow(unused_imports, clippy::all)]
    {
        let _ = ::cache_runtime::__private::assert_outcome::<Option<Profile>>;
    }
    static __CACHE_SITE: ::cache_runtime::__private::Site = ::cache_runtime::__private::Site::new(
        ::core::concat!(::core::module_path!(), "::", "get_user"),
        1u32,
    );
    let __cache_handle: &::cache_runtime::Cache = ::cache_runtime::__private::global();
    let mut __cache_key = ::cache_runtime::__private::KeyBuilder::new();
    __cache_key.arg(&id);
    __cache_key
        .tag(::std::format!("user:{}", ::cache_runtime::__private::tag_part(& (id))));
    __cache_key
        .tag(
            ::std::format!(
                "org:{}", ::cache_runtime::__private::tag_part(& (user.org_id))
            ),
        );
    __cache_key
        .tag(
            ::std::format!(
                "tenant:{}", ::cache_runtime::__private::tag_part(& (self.tenant))
            ),
        );
    __cache_key.tag(::std::string::String::from("static-tag"));
    __cache_key
        .tag(
            ::std::format!(
                "braces:{{literal}}:{}", ::cache_runtime::__private::tag_part(& (id))
            ),
        );
    ::cache_runtime::__private::cached_outcome::<
        Option<Profile>,
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
                    let __cache_fake_return: Option<Profile> = loop {};
                    return __cache_fake_return;
                }
                self.db.profile(id, user).await
            },
        )
        .await
}
