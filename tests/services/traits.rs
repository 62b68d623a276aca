//! Repository-style code: the cached read sits in a trait impl (native `async fn`, or
//! `#[async_trait]` above `#[cached]`), and writers name it by its type.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use async_trait::async_trait;
use cache_runtime::{cache_invalidate, cache_put, cache_targets, cached, Cache};
use cache_tests::fixture::{Counts, Fixture};

/// A table standing for a database, and how many reads reached it.
pub(crate) struct Table {
    rows: Mutex<HashMap<u64, String>>,
    reads: AtomicUsize,
}

impl Table {
    fn new() -> Table {
        let rows = HashMap::from([(1, "ada".to_owned()), (2, "bob".to_owned())]);
        Table {
            rows: Mutex::new(rows),
            reads: AtomicUsize::new(0),
        }
    }

    fn read(&self, id: u64) -> Option<String> {
        self.reads.fetch_add(1, SeqCst);
        self.rows.lock().unwrap().get(&id).cloned()
    }

    fn write(&self, id: u64, name: &str) {
        self.rows.lock().unwrap().insert(id, name.to_owned());
    }

    fn reads(&self) -> usize {
        self.reads.load(SeqCst)
    }
}

/// A repository trait with native `async fn`.
pub(crate) trait UserRepo {
    async fn get(&self, id: u64) -> Option<String>;
    async fn rename(&self, id: u64, name: &str) -> Result<(), String>;
}

pub(crate) struct NativeRepo {
    cache: Cache,
    table: Table,
}

#[cache_targets]
impl UserRepo for NativeRepo {
    #[cached(cache = self.cache, namespace = "repo.native")]
    async fn get(&self, id: u64) -> Option<String> {
        self.table.read(id)
    }

    // A writer in the trait impl, targeting its neighbour.
    #[cache_invalidate(Self::get(self, id))]
    async fn rename(&self, id: u64, name: &str) -> Result<(), String> {
        self.table.write(id, name);
        Ok(())
    }
}

// A writer outside the impl, naming the method through the trait.
#[cache_put(<NativeRepo as UserRepo>::get(repo, id))]
async fn save_native(repo: &NativeRepo, id: u64, name: String) -> Option<String> {
    repo.table.write(id, &name);
    Some(name)
}

/// The same trait, as `#[async_trait]` (with `Send` futures) writes it.
#[async_trait]
pub(crate) trait BoxedRepo {
    async fn get(&self, id: u64) -> Option<String>;
    async fn rename(&self, id: u64, name: &str) -> Result<(), String>;
    async fn count(&self) -> usize;
}

pub(crate) struct AsyncTraitRepo {
    cache: Cache,
    table: Table,
}

// The order users write: `#[async_trait]` runs first and hands `#[cached]` the boxed method.
#[async_trait]
#[cache_targets]
impl BoxedRepo for AsyncTraitRepo {
    #[cached(cache = self.cache, namespace = "repo.boxed")]
    async fn get(&self, id: u64) -> Option<String> {
        self.table.read(id)
    }

    #[cache_invalidate(Self::get(self, id))]
    async fn rename(&self, id: u64, name: &str) -> Result<(), String> {
        self.table.write(id, name);
        Ok(())
    }

    // `#[cached]` without being a target.
    #[cached(cache = self.cache, namespace = "repo.boxed.count")]
    async fn count(&self) -> usize {
        self.table.reads.fetch_add(1, SeqCst);
        self.table.rows.lock().unwrap().len()
    }
}

#[cache_put(AsyncTraitRepo::get(repo, id))]
async fn save_boxed(repo: &AsyncTraitRepo, id: u64, name: String) -> Option<String> {
    repo.table.write(id, &name);
    Some(name)
}

/// `#[cache_targets]` the other way round, on an inherent impl with a private method and an
/// associated fn without `self`.
pub(crate) struct Inherent {
    cache: Cache,
    table: Table,
}

#[cache_targets]
impl Inherent {
    #[cached(cache = self.cache, namespace = "repo.inherent")]
    async fn get(&self, id: u64) -> Option<String> {
        self.table.read(id)
    }

    #[cache_invalidate(Self::get(self, id))]
    async fn rename(&self, id: u64, name: &str) {
        self.table.write(id, name);
    }

    #[cached(cache = cache, skip(table), namespace = "repo.inherent.label")]
    async fn label(id: u64, cache: &Cache, table: &Table) -> String {
        table.reads.fetch_add(1, SeqCst);
        format!("#{id}")
    }

    #[cache_invalidate(Self::label(id), cache = cache)]
    async fn relabel(id: u64, cache: &Cache) {}
}

/// On `$reader` (a repository, or a `dyn` of it), whose table is `$table`: read twice (one
/// body), rename (the entry is invalidated: the next read runs the body), save with `$save`
/// (the entry is written: the next read is a hit with the saved name).
macro_rules! read_rename_save {
    ($fx:expr, $reader:expr, $table:expr, $save:expr) => {{
        let (fx, reader, table) = ($fx, $reader, $table);
        let reads = table.reads();
        assert_eq!(reader.get(1).await.as_deref(), Some("ada"));
        assert_eq!(reader.get(1).await.as_deref(), Some("ada"));
        assert_eq!(table.reads(), reads + 1);
        reader.rename(1, "eve").await.unwrap();
        let before = fx.counts();
        assert_eq!(reader.get(1).await.as_deref(), Some("eve"));
        assert_eq!(table.reads(), reads + 2);
        assert_eq!(fx.counts().since(before), Counts::calls(0, 1, 1));
        $save.await;
        assert_eq!(reader.get(1).await.as_deref(), Some("fay"));
        assert_eq!(table.reads(), reads + 2);
    }};
}

/// Native `async fn` in a trait impl, targeted from the impl and through the trait.
pub(crate) async fn native_trait_methods_are_targets(fx: &Fixture) {
    let repo = NativeRepo {
        cache: fx.cache.clone(),
        table: Table::new(),
    };
    read_rename_save!(fx, &repo, &repo.table, save_native(&repo, 1, "fay".into()));
}

/// `#[async_trait]` above `#[cached]`: cached, and a target of writers inside and outside the
/// impl; through `dyn BoxedRepo` too.
pub(crate) async fn async_trait_methods_are_targets(fx: &Fixture) {
    let repo = AsyncTraitRepo {
        cache: fx.cache.clone(),
        table: Table::new(),
    };
    let dyn_repo: &dyn BoxedRepo = &repo;
    assert_eq!(dyn_repo.count().await, 2);
    assert_eq!(dyn_repo.count().await, 2);
    assert_eq!(repo.table.reads(), 1);
    read_rename_save!(
        fx,
        dyn_repo,
        &repo.table,
        save_boxed(&repo, 1, "fay".into())
    );
}

/// A private method and an associated fn without `self` are targets under `#[cache_targets]`.
pub(crate) async fn private_methods_are_targets(fx: &Fixture) {
    let repo = Inherent {
        cache: fx.cache.clone(),
        table: Table::new(),
    };
    assert_eq!(repo.get(2).await.as_deref(), Some("bob"));
    repo.rename(2, "gus").await;
    assert_eq!(repo.get(2).await.as_deref(), Some("gus"));
    assert_eq!(repo.table.reads(), 2);
    let c = &fx.cache;
    assert_eq!(Inherent::label(7, c, &repo.table).await, "#7");
    assert_eq!(Inherent::label(7, c, &repo.table).await, "#7");
    assert_eq!(repo.table.reads(), 3);
    Inherent::relabel(7, c).await;
    assert_eq!(Inherent::label(7, c, &repo.table).await, "#7");
    assert_eq!(repo.table.reads(), 4);
}
