//! The backend-independent suites: `pub async fn name(fx: &Fixture)`, one file per topic.
//!
//! Each fn gets a fresh [`Fixture`](crate::fixture::Fixture), so counters start at zero and
//! no entries are shared between tests. [`backend_suite!`](crate::backend_suite) turns every
//! fn into one `#[tokio::test]` per backend.

pub mod attributes;
pub mod batch;
pub mod compression;
pub mod compute;
pub mod hostile;
pub mod invalidate;
pub mod keys;
pub mod manual;
pub mod observe;
pub mod shapes;
pub mod stale;
pub mod stale_if_error;
pub mod stampede;
pub mod tags;
pub mod tier;
pub mod values;
