//! Ten read functions of a service's data layer, with the return types such code has (a
//! row, an optional row, lists, a `Result`, scalars). With the `cached` feature each is a
//! `#[cached]` fn; without it, the same fn plain. Editing this file is what the compile
//! benchmark times.

#[cfg(feature = "cached")]
use cache_runtime::cached;
use serde::{Deserialize, Serialize};

/// A user row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct User {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) active: bool,
}

/// An order row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) user: u64,
    pub(crate) total_cents: u64,
    pub(crate) items: Vec<String>,
}

/// The error a query returns.
#[derive(Debug)]
pub(crate) struct DbError(String);

/// Stands for the round trip of a query.
async fn query() {
    tokio::task::yield_now().await;
}

fn make_user(id: u64) -> User {
    User {
        id,
        name: format!("user {id}"),
        email: format!("user{id}@example.com"),
        active: !id.is_multiple_of(3),
    }
}

fn make_order(id: u64) -> Order {
    Order {
        id,
        user: id / 10,
        total_cents: id * 125,
        items: vec![format!("item {id}")],
    }
}

#[cfg_attr(feature = "cached", cached(ttl = "10m"))]
pub(crate) async fn user(id: u64) -> User {
    query().await;
    make_user(id)
}

#[cfg_attr(feature = "cached", cached(ttl = "10m"))]
pub(crate) async fn user_by_email(email: String) -> Option<User> {
    query().await;
    let id = email
        .strip_prefix("user")?
        .split('@')
        .next()?
        .parse()
        .ok()?;
    Some(make_user(id))
}

#[cfg_attr(feature = "cached", cached(ttl = "1m"))]
pub(crate) async fn orders_of(user: u64) -> Vec<Order> {
    query().await;
    (0..3).map(|i| make_order(user * 10 + i)).collect()
}

#[cfg_attr(feature = "cached", cached(ttl = "1m"))]
pub(crate) async fn order(id: u64) -> Result<Order, DbError> {
    query().await;
    if id == 0 {
        return Err(DbError("no order 0".to_owned()));
    }
    Ok(make_order(id))
}

#[cfg_attr(feature = "cached", cached(ttl = "30s"))]
pub(crate) async fn order_count(user: u64) -> u64 {
    query().await;
    user % 7
}

#[cfg_attr(feature = "cached", cached(ttl = "10m"))]
pub(crate) async fn display_name(id: u64) -> String {
    query().await;
    make_user(id).name.to_uppercase()
}

#[cfg_attr(feature = "cached", cached(ttl = "30s"))]
pub(crate) async fn active_users(limit: u32) -> Vec<User> {
    query().await;
    (0..u64::from(limit))
        .map(make_user)
        .filter(|user| user.active)
        .collect()
}

#[cfg_attr(feature = "cached", cached(ttl = "1m"))]
pub(crate) async fn total_spent(user: u64, since_day: u32) -> Result<u64, DbError> {
    query().await;
    if since_day > 365 {
        return Err(DbError(format!("day {since_day} is out of range")));
    }
    Ok(user * 125 + u64::from(since_day))
}

#[cfg_attr(feature = "cached", cached(ttl = "30s"))]
pub(crate) async fn search(text: String, page: u32) -> Vec<u64> {
    query().await;
    let start = u64::from(page) * 10 + text.len() as u64;
    (start..start + 10).collect()
}

#[cfg_attr(feature = "cached", cached(ttl = "10m"))]
pub(crate) async fn is_admin(id: u64) -> bool {
    query().await;
    id < 10
}

/// Calls each fn once.
pub(crate) async fn call_all() {
    let mut found = 0usize;
    found += user(1).await.name.len();
    found += user_by_email("user2@example.com".to_owned())
        .await
        .map_or(0, |u| u.name.len());
    found += orders_of(3).await.len();
    found += order(4).await.map_or_else(|e| e.0.len(), |o| o.items.len());
    found += order_count(5).await as usize;
    found += display_name(6).await.len();
    found += active_users(7).await.len();
    found += total_spent(8, 30).await.unwrap_or(0) as usize;
    found += search("shoes".to_owned(), 2).await.len();
    found += usize::from(is_admin(9).await);
    println!("{found}");
}
