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
pub mod unreadable;
pub mod values;

/// Which suite files a list of suite fns covers.
pub enum Files {
    /// Every file of this directory but these (by stem, e.g. `"tier"`).
    AllBut(&'static [&'static str]),
    /// Only these files.
    Only(&'static [&'static str]),
}

impl Files {
    fn covers(&self, stem: &str) -> bool {
        match self {
            Files::AllBut(skip) => !skip.contains(&stem),
            Files::Only(only) => only.contains(&stem),
        }
    }
}

/// The suite fns of one suite file: every line `pub async fn NAME(fx: &Fixture)`.
pub fn suite_fns(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.strip_prefix("pub async fn "))
        .filter_map(|l| l.split_once("(fx: &Fixture)"))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Panics unless `listed` (suite file, fn names; as a suite macro lists them) names every
/// suite fn of the suite files `files` covers, each once, and nothing else.
pub fn assert_listed(listed: &[(&str, &[&str])], files: Files) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/suite");
    let mut in_files = std::collections::BTreeSet::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {dir}: {e}"));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
            .path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem == "mod" || !files.covers(stem) || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for name in suite_fns(&source) {
            in_files.insert(format!("{stem}::{name}"));
        }
    }
    let mut in_list = std::collections::BTreeSet::new();
    for (suite, names) in listed {
        for name in names.iter() {
            let full = format!("{suite}::{name}");
            assert!(in_list.insert(full.clone()), "{full} is listed twice");
        }
    }
    let missing: Vec<_> = in_files.difference(&in_list).collect();
    let unknown: Vec<_> = in_list.difference(&in_files).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "the suite macro's list (tests/src/lib.rs) and the suite files differ: not listed \
         {missing:?}; listed but not a suite fn {unknown:?}"
    );
}
