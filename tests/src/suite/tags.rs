//! Tags: entries recorded under tags, and invalidation by tag.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cache_invalidate, cached, tag_part, Cache};

use crate::fixture::Fixture;

/// `invalidate_tag` deletes exactly the entries recorded under that tag, and counts them.
pub async fn invalidate_tag_deletes_its_entries(fx: &Fixture) {
    let c = &fx.cache;
    c.set_with_tags("t:k1", &1u32, None, &["user:1"])
        .await
        .unwrap();
    c.set_with_tags("t:k2", &2u32, None, &["user:1", "org:7"])
        .await
        .unwrap();
    c.set_with_tags("t:k3", &3u32, None, &["org:7"])
        .await
        .unwrap();
    c.set("t:k4", &4u32, None).await.unwrap();

    assert_eq!(c.invalidate_tag("user:1").await.unwrap(), 2);
    assert_eq!(c.get::<u32>("t:k1").await.unwrap(), None);
    assert_eq!(c.get::<u32>("t:k2").await.unwrap(), None);
    assert_eq!(c.get::<u32>("t:k3").await.unwrap(), Some(3));
    assert_eq!(c.get::<u32>("t:k4").await.unwrap(), Some(4));
    // Invalidating again finds nothing; the other tag still holds its live entry.
    assert_eq!(c.invalidate_tag("user:1").await.unwrap(), 0);
    assert_eq!(c.invalidate_tags(&["org:7", "nope"]).await.unwrap(), 1);
    assert_eq!(c.get::<u32>("t:k3").await.unwrap(), None);
    assert_eq!(c.get::<u32>("t:k4").await.unwrap(), Some(4));
}

/// A key rewritten without a tag is no longer deleted by that tag.
pub async fn rewrite_without_tag_leaves_the_tag(fx: &Fixture) {
    let c = &fx.cache;
    c.set_with_tags("t:re", &1u32, None, &["grp"])
        .await
        .unwrap();
    c.set("t:re", &2u32, None).await.unwrap();
    c.set_with_tags("t:other", &3u32, None, &["grp"])
        .await
        .unwrap();
    let removed = c.invalidate_tag("grp").await.unwrap();
    assert_eq!(c.get::<u32>("t:other").await.unwrap(), None);
    if fx.backend() == "memory" {
        // The memory store knows which write recorded the key.
        assert_eq!(removed, 1);
        assert_eq!(c.get::<u32>("t:re").await.unwrap(), Some(2));
    } else {
        // Redis keeps the member until it expires: deleting it too is the safe side.
        assert_eq!(removed, 2);
    }
}

/// Tag text is literal: `a*` is not a pattern, and `user:1` is not `user::1`.
pub async fn hostile_tags_are_literal(fx: &Fixture) {
    let c = &fx.cache;
    let tags = ["a*", "ab", "user:1", "user::1", "x\ny", "ü[?]\\", ""];
    for (i, tag) in tags.iter().enumerate() {
        c.set_with_tags(format!("h:{i}"), &(i as u32), None, &[tag])
            .await
            .unwrap();
    }
    assert_eq!(c.invalidate_tag("a*").await.unwrap(), 1);
    assert_eq!(
        c.get::<u32>("h:1").await.unwrap(),
        Some(1),
        "`ab` must survive `a*`"
    );
    assert_eq!(c.invalidate_tag("user:1").await.unwrap(), 1);
    assert_eq!(
        c.get::<u32>("h:3").await.unwrap(),
        Some(3),
        "`user::1` must survive"
    );
    for (i, tag) in tags.iter().enumerate().skip(3) {
        assert_eq!(c.invalidate_tag(tag).await.unwrap(), 1, "tag {tag:?}");
        assert_eq!(c.get::<u32>(format!("h:{i}")).await.unwrap(), None);
    }
    assert_eq!(c.get::<u32>("h:1").await.unwrap(), Some(1));
}

#[cached(namespace = "tags.member", tags = ["org:{o}:user:{u}"], cache = cache, skip(cache, runs))]
async fn member(o: &str, u: &str, cache: &Cache, runs: &AtomicUsize) -> String {
    runs.fetch_add(1, SeqCst);
    format!("{o}/{u}")
}

#[cache_invalidate(tags = ["org:{o}:user:{u}"], cache = cache)]
async fn remove_member(o: &str, u: &str, cache: &Cache) {
    let _ = (o, u);
}

/// A template's placeholder values are escaped, so `org:{o}:user:{u}` with
/// `("a:user:b", "c")` and with `("a", "b:user:c")` are two tags: invalidating one member
/// keeps the other's entry, through `#[cache_invalidate]` and through a hand-written tag.
pub async fn template_values_are_escaped(fx: &Fixture) {
    let (c, runs) = (&fx.cache, AtomicUsize::new(0));
    member("a:user:b", "c", c, &runs).await;
    member("a", "b:user:c", c, &runs).await;
    member("a:user:b", "c", c, &runs).await;
    member("a", "b:user:c", c, &runs).await;
    assert_eq!(runs.load(SeqCst), 2);

    remove_member("a:user:b", "c", c).await;
    assert_eq!(member("a", "b:user:c", c, &runs).await, "a/b:user:c");
    assert_eq!(runs.load(SeqCst), 2, "the other member's entry must stay");
    assert_eq!(member("a:user:b", "c", c, &runs).await, "a:user:b/c");
    assert_eq!(runs.load(SeqCst), 3);

    // By hand: the tag as the template writes it.
    let tag = format!("org:{}:user:{}", tag_part("a"), tag_part("b:user:c"));
    assert_eq!(tag, "org:a:user:b%3Auser%3Ac");
    assert_eq!(c.invalidate_tag("org:a:user:b:user:c").await.unwrap(), 0);
    assert_eq!(c.invalidate_tag(&tag).await.unwrap(), 1);
    member("a", "b:user:c", c, &runs).await;
    member("a:user:b", "c", c, &runs).await;
    assert_eq!(runs.load(SeqCst), 4);
}
