//! The summary: one table of every comparison (what, us, reference, ratio, target), and the
//! final `ratios:` line. Libraries are compared in the pinned mode.

use crate::measure::Results;

/// One comparison row.
struct Row {
    what: String,
    ours: String,
    reference: String,
    ratio: Option<f64>,
    /// The target, as text, and whether it is met (`None`: no target).
    target: Option<(String, bool)>,
}

fn rows(r: &Results) -> Vec<Row> {
    let g = |k: &str| r.get(k).unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for (name, label) in [
        ("u64", "a u64"),
        ("struct5", "a 5-field struct"),
        ("vec_string20", "a Vec<String> of 20"),
        ("hashmap20", "a HashMap<String, u64> of 20"),
    ] {
        let (us, them) = (
            g(&format!("pinned.keys.{name}.ours_ns")),
            g(&format!("pinned.keys.{name}.ref_ns")),
        );
        let (ua, ta) = (
            g(&format!("pinned.keys.{name}.ours_allocs")),
            g(&format!("pinned.keys.{name}.ref_allocs")),
        );
        let site = g(&format!("pinned.keys.{name}.site_ns"));
        let fixed = matches!(name, "u64" | "struct5");
        let met = us.min(site) <= them && (!fixed || ua == 0.0);
        rows.push(Row {
            what: format!("key of {label}"),
            ours: format!("{us:.0} ns ({site:.0} ns in #[cached]), {ua:.1} allocs"),
            reference: format!("bincode+blake3: {them:.0} ns, {ta:.1} allocs"),
            ratio: Some(us.min(site) / them),
            target: Some((
                if fixed {
                    "<= 1.0, 0 allocs".into()
                } else {
                    "<= 1.0".into()
                },
                met,
            )),
        });
    }
    // The map against a reference that is a valid key: a `HashMap` iterates in a different
    // order in every process, so by hand its entries must be sorted first.
    let (us, sorted) = (
        key_ns(r, "hashmap20"),
        g("pinned.keys.hashmap20.sorted_ref_ns"),
    );
    rows.push(Row {
        what: "key of the same HashMap, against its entries sorted by hand first".into(),
        ours: format!("{us:.0} ns"),
        reference: format!("sort, bincode+blake3: {sorted:.0} ns"),
        ratio: Some(us / sorted),
        target: None,
    });
    let (l1, moka, mem) = (
        g("pinned.l1.ours_ns"),
        g("pinned.l1.moka_ns"),
        g("pinned.l1.memory_ns"),
    );
    rows.push(Row {
        what: "L1 hit through #[cached], p50".into(),
        ours: format!("{l1:.0} ns"),
        reference: format!("raw moka get: {moka:.0} ns"),
        ratio: Some(l1 / moka),
        target: Some((
            "<= 3.0 and <= 1 us".into(),
            l1 / moka <= 3.0 && l1 <= 1000.0,
        )),
    });
    rows.push(Row {
        what: "memory-store hit through #[cached], p50".into(),
        ours: format!("{mem:.0} ns"),
        reference: format!("raw moka get: {moka:.0} ns"),
        ratio: Some(mem / moka),
        target: None,
    });
    for mode in ["pinned", "spread"] {
        let (us, raw) = (
            g(&format!("{mode}.hit_seq.ours.p50_us")),
            g(&format!("{mode}.hit_seq.raw.p50_us")),
        );
        if us.is_nan() {
            continue;
        }
        let (us99, raw99, peer) = (
            g(&format!("{mode}.hit_seq.ours.p99_us")),
            g(&format!("{mode}.hit_seq.raw.p99_us")),
            g(&format!("{mode}.hit_seq.cached_crate.p50_us")),
        );
        rows.push(Row {
            what: format!("Redis hit, sequential p50 (p99), {mode}"),
            ours: format!("{us:.1} us ({us99:.1})"),
            reference: format!(
                "raw GET+decode: {raw:.1} us ({raw99:.1}); cached crate {peer:.1} us"
            ),
            ratio: Some(us / raw),
            target: (mode == "pinned").then(|| ("<= 1.10".into(), us / raw <= 1.10)),
        });
    }
    for (mode, name, keys) in [
        ("pinned", "conc", "one key"),
        ("pinned", "conc_distinct", "a key per task"),
        ("spread", "conc", "one key"),
        ("spread", "conc_distinct", "a key per task"),
    ] {
        for n in crate::concurrency::LEVELS {
            let (us, raw, peer) = (
                g(&format!("{mode}.{name}.{n}.ours")),
                g(&format!("{mode}.{name}.{n}.raw")),
                g(&format!("{mode}.{name}.{n}.cached_crate")),
            );
            if us.is_nan() {
                continue;
            }
            // Judged where reads cannot be shared: every task on its own key.
            let target = (mode == "pinned" && name == "conc_distinct" && n == 64).then(|| {
                (
                    ">= 1.0 raw, >= 1.3 cached".into(),
                    us >= raw && us >= 1.3 * peer,
                )
            });
            rows.push(Row {
                what: format!("Redis hits/s, {n} tasks, {keys}, {mode}"),
                ours: format!("{:.0} k/s", us / 1000.0),
                reference: format!(
                    "raw: {:.0} k/s; cached crate: {:.0} k/s (x{:.2})",
                    raw / 1000.0,
                    peer / 1000.0,
                    us / peer
                ),
                ratio: Some(us / raw),
                target,
            });
        }
    }
    for mode in ["pinned", "spread"] {
        let (us, raw) = (
            g(&format!("{mode}.miss.ours.p50_us")),
            g(&format!("{mode}.miss.raw.p50_us")),
        );
        if us.is_nan() {
            continue;
        }
        rows.push(Row {
            what: format!("miss + store p50 (misses in a row), {mode}"),
            ours: format!("{us:.1} us"),
            reference: format!("raw GET, SET EX: {raw:.1} us"),
            ratio: Some(us / raw),
            target: (mode == "pinned").then(|| ("<= 1.15".into(), us / raw <= 1.15)),
        });
        let guarded = g(&format!("{mode}.miss.guarded.p50_us"));
        rows.push(Row {
            what: format!("miss + store p50, {mode}, against the same lease by hand"),
            ours: format!("{us:.1} us"),
            reference: format!("raw SET NX PX GET, EVALSHA: {guarded:.1} us"),
            ratio: Some(us / guarded),
            target: None,
        });
        let after_hit = g(&format!("{mode}.miss.after_hit.p50_us"));
        rows.push(Row {
            what: format!("a miss right after a hit (GET, lease, fill) p50, {mode}"),
            ours: format!("{after_hit:.1} us"),
            reference: format!("raw GET, SET EX: {raw:.1} us"),
            ratio: Some(after_hit / raw),
            target: None,
        });
        let (us, raw) = (
            g(&format!("{mode}.batch.ours.p50_us")),
            g(&format!("{mode}.batch.raw.p50_us")),
        );
        rows.push(Row {
            what: format!("get_many of 100 p50, {mode}"),
            ours: format!("{us:.1} us"),
            reference: format!("raw MGET + decode: {raw:.1} us"),
            ratio: Some(us / raw),
            target: None,
        });
        let (wall, bodies, peer_wall, peer_bodies) = (
            g(&format!("{mode}.stampede.ours.wall_ms")),
            g(&format!("{mode}.stampede.ours.bodies")),
            g(&format!("{mode}.stampede.cached_crate.wall_ms")),
            g(&format!("{mode}.stampede.cached_crate.bodies")),
        );
        let floor = g(&format!("{mode}.stampede.floor.wall_ms"));
        let split = |lib: &str| {
            format!(
                "{:.1} + {:.1} ms around the body",
                g(&format!("{mode}.stampede.{lib}.before_body_ms")),
                g(&format!("{mode}.stampede.{lib}.after_body_ms")),
            )
        };
        rows.push(Row {
            what: format!("stampede of 1,000 on a 50 ms body, {mode}"),
            ours: format!("{wall:.1} ms, {bodies:.0} body ({})", split("ours")),
            reference: format!(
                "cached crate: {peer_wall:.1} ms, {peer_bodies:.0} bodies; floor (1,000 tasks \
                 on one OnceCell): {floor:.1} ms ({}), ours x{:.2}",
                split("floor"),
                wall / floor
            ),
            ratio: Some(wall / 50.0),
            target: (mode == "pinned").then(|| {
                (
                    "1 body, <= 1.2 x 50 ms".into(),
                    bodies == 1.0 && wall <= 60.0,
                )
            }),
        });
        let (rps, rps_p) = (
            g(&format!("{mode}.ref.get_c50.rps")),
            g(&format!("{mode}.ref.get_c50_p16.rps")),
        );
        rows.push(Row {
            what: format!("redis-benchmark GET -c 50 (-P 16), {mode}"),
            ours: "-".into(),
            reference: format!("{:.0} k rps ({:.0} k rps)", rps / 1000.0, rps_p / 1000.0),
            ratio: None,
            target: None,
        });
    }
    let (present, after, before) = (
        g("memory.present"),
        g("memory.rss_after_mib"),
        g("memory.rss_before_mib"),
    );
    if !present.is_nan() {
        rows.push(Row {
            what: "1,000,000 distinct 100-byte entries, memory store".into(),
            ours: format!("RSS {after:.0} MiB (+{:.0})", after - before),
            reference: format!("{present:.0} present, bound 100,000"),
            ratio: None,
            target: Some(("bound holds".into(), present <= 100_000.0)),
        });
    }
    rows
}

/// Prints the table.
pub fn print(results: &Results) {
    println!();
    println!("| what | us | reference | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    for row in rows(results) {
        if row.ours.contains("NaN") || row.reference.contains("NaN") {
            continue; // not measured in this run (`--only`, `--mode`)
        }
        let ratio = row.ratio.map_or("-".into(), |r| format!("{r:.2}"));
        let target = row.target.map_or("-".into(), |(t, met)| {
            format!("{t}: {}", if met { "met" } else { "MISSED" })
        });
        println!(
            "| {} | {} | {} | {ratio} | {target} |",
            row.what, row.ours, row.reference
        );
    }
    println!();
}

/// Our ns per key of argument `name` (pinned): the cheaper of the builder's and the macro's.
fn key_ns(r: &Results, name: &str) -> f64 {
    let g = |k: String| r.get(&k).unwrap_or(f64::NAN);
    g(format!("pinned.keys.{name}.ours_ns")).min(g(format!("pinned.keys.{name}.site_ns")))
}

/// `ratios: hit_seq=… hit_64=… l1=… cached_crate_64=… …`, all from the pinned mode.
pub fn ratios_line(r: &Results) -> String {
    let g = |k: &str| r.get(k).unwrap_or(f64::NAN);
    let div = |a: &str, b: &str| g(a) / g(b);
    // Our key against bincode + blake3.
    let key = |name: &str| key_ns(r, name) / g(&format!("pinned.keys.{name}.ref_ns"));
    let parts = [
        (
            "hit_seq",
            div("pinned.hit_seq.ours.p50_us", "pinned.hit_seq.raw.p50_us"),
        ),
        ("hit_64", div("pinned.conc.64.ours", "pinned.conc.64.raw")),
        (
            "hit_64_distinct",
            div(
                "pinned.conc_distinct.64.ours",
                "pinned.conc_distinct.64.raw",
            ),
        ),
        ("l1", div("pinned.l1.ours_ns", "pinned.l1.moka_ns")),
        (
            "cached_crate_64",
            div("pinned.conc.64.ours", "pinned.conc.64.cached_crate"),
        ),
        (
            "cached_crate_64_distinct",
            div(
                "pinned.conc_distinct.64.ours",
                "pinned.conc_distinct.64.cached_crate",
            ),
        ),
        ("key_u64", key("u64")),
        ("key_struct5", key("struct5")),
        ("key_vec20", key("vec_string20")),
        ("key_map20", key("hashmap20")),
        (
            "key_map20_sorted",
            key_ns(r, "hashmap20") / g("pinned.keys.hashmap20.sorted_ref_ns"),
        ),
        (
            "miss",
            div("pinned.miss.ours.p50_us", "pinned.miss.raw.p50_us"),
        ),
        (
            "miss_guarded",
            div("pinned.miss.ours.p50_us", "pinned.miss.guarded.p50_us"),
        ),
        (
            "miss_after_hit",
            div("pinned.miss.after_hit.p50_us", "pinned.miss.raw.p50_us"),
        ),
        (
            "batch100",
            div("pinned.batch.ours.p50_us", "pinned.batch.raw.p50_us"),
        ),
        ("stampede_wall", g("pinned.stampede.ours.wall_ms") / 50.0),
        (
            "stampede_floor",
            div(
                "pinned.stampede.ours.wall_ms",
                "pinned.stampede.floor.wall_ms",
            ),
        ),
        ("stampede_bodies", g("pinned.stampede.ours.bodies")),
        (
            "hit_seq_spread",
            div("spread.hit_seq.ours.p50_us", "spread.hit_seq.raw.p50_us"),
        ),
        ("l1_ns", g("pinned.l1.ours_ns")),
    ];
    let mut line = String::from("ratios:");
    for (name, value) in parts {
        line.push_str(&format!(" {name}={value:.3}"));
    }
    line
}
