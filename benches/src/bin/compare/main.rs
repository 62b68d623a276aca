//! One run that measures cache-runtime against its peers and against the physical limit,
//! all against a `redis-server` this binary starts on a free loopback port, with the same
//! value (`cache_bench::User`, a 5-field struct) everywhere:
//!
//! ```text
//! cargo run --release -p cache-bench --bin compare -- --quick   # < 60 s after the build
//! cargo run --release -p cache-bench --bin compare              # the full run (a few minutes)
//! ```
//!
//! The run has three parts, each a child process of this one, so that each starts its own
//! server and none disturbs another's measurements:
//!
//! * **pinned**: the child is re-executed under `taskset -c 0`, so it and the `redis-server`
//!   (and `redis-benchmark`) it starts share one CPU. Waking an idle virtual CPU costs more
//!   than a loopback round trip on a small VM; pinned, a round trip shows what the libraries
//!   themselves cost. Libraries are compared in this mode.
//! * **spread**: the same Redis scenarios with the harness on CPU 1 and the server moved to
//!   CPU 0, so every request and every reply wakes the other CPU (what a loopback round
//!   trip costs between two idle virtual CPUs).
//! * **memory**: the RSS of a memory store given 1,000,000 distinct entries.
//!
//! The parent prints every figure, checks the targets, writes the chart of throughput against
//! concurrency (`docs/bench/throughput.svg`), and ends with one line:
//! `ratios: hit_seq=… hit_64=… l1=… cached_crate_64=… …`.
//!
//! Options: `--quick` (short measurements; no chart), `--mode pinned|spread|both` (default
//! both; the chart needs both), `--no-chart`, `--only SCENARIO` (one scenario, e.g. to
//! profile it; `--only concurrency` still draws the chart), `--server redis|valkey` (the
//! server every child starts: `redis-server` by default, or `valkey-server` 8.1+, found as
//! the tests find it, see `tests/src/kind.rs`). `--child pinned|spread|memory --out FILE` is
//! the internal child entry.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod batch;
mod chart;
mod concurrency;
mod env;
mod keys;
mod l1;
mod measure;
mod memory;
mod miss;
mod peers;
mod redis_hit;
mod reference;
mod report;
mod stampede;

use std::alloc::System;
use std::path::PathBuf;
use std::process::Command;

use cache_tests::kind::ServerKind;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

use crate::env::{Env, Mode};
use crate::measure::Results;

/// Counts every allocation, so the key scenario can show allocations per key.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The command line.
struct Args {
    quick: bool,
    modes: Vec<Mode>,
    chart: bool,
    /// Runs only this scenario of the Redis children (`keys`, `l1`, `redis_hit`,
    /// `concurrency`, `miss`, `batch`, `stampede`, `reference`), e.g. to profile it; or
    /// `count:LIB:N`, N sequential Redis hits of one library, for callgrind.
    only: Option<String>,
    /// `--server`: which server the children start.
    server: ServerKind,
    child: Option<(Mode, PathBuf)>,
}

fn parse_args() -> Args {
    let mut args = Args {
        quick: false,
        modes: vec![Mode::Pinned, Mode::Spread],
        chart: true,
        only: None,
        server: ServerKind::Redis,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    let mut child_mode = None;
    let mut out = None;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--no-chart" => args.chart = false,
            "--mode" => {
                args.modes = match it.next().as_deref() {
                    Some("pinned") => vec![Mode::Pinned],
                    Some("spread") => vec![Mode::Spread],
                    Some("both") => vec![Mode::Pinned, Mode::Spread],
                    other => panic!("--mode pinned|spread|both, got {other:?}"),
                }
            }
            "--child" => child_mode = it.next().map(|m| Mode::parse(&m)),
            "--out" => out = it.next().map(PathBuf::from),
            "--only" => args.only = it.next(),
            "--server" => {
                args.server = match it.next().as_deref() {
                    Some("redis") => ServerKind::Redis,
                    Some("valkey") => ServerKind::Valkey,
                    other => panic!("--server redis|valkey, got {other:?}"),
                }
            }
            "--bench" => {} // as passed by `cargo bench`; ignored
            other => panic!("unknown argument {other:?}; see the doc comment of compare/main.rs"),
        }
    }
    if let (Some(mode), Some(out)) = (child_mode, out) {
        args.child = Some((mode, out));
    }
    args
}

/// Why this run does not redraw the checked-in chart, if it does not: the chart is only
/// drawn from the full concurrency figures of both modes (a full run, or `--only
/// concurrency`), never from `--quick`'s shorter measurements.
fn chart_skipped(args: &Args) -> Option<&'static str> {
    if !args.chart {
        Some("--no-chart")
    } else if args.quick {
        Some("--quick measures too briefly for it")
    } else if args.modes.len() < 2 {
        Some("it needs both modes (--mode both)")
    } else if !matches!(args.only.as_deref(), None | Some("concurrency")) {
        Some("this scenario has no concurrency figures")
    } else {
        None
    }
}

fn main() {
    let args = parse_args();
    if let Some((mode, out)) = args.child {
        let env = Env::new(mode, args.quick, args.only, args.server);
        let results = match mode {
            Mode::Memory => memory::run(&env),
            Mode::Pinned | Mode::Spread => run_redis_child(&env),
        };
        results.write(&out);
        return;
    }
    let started = std::time::Instant::now();
    println!("{}", env::machine_line(args.server));
    let mut all = Results::default();
    let mut modes = args.modes.clone();
    modes.push(Mode::Memory);
    for mode in modes {
        let memory_only = args.only.as_deref() == Some("memory");
        if args.only.is_none() || memory_only == (mode == Mode::Memory) {
            all.merge(run_child(mode, &args));
        }
    }
    match chart_skipped(&args) {
        None => match chart::write(&all) {
            Ok(path) => println!("chart: {}", path.display()),
            Err(e) => println!("chart not written: {e}"),
        },
        Some(why) if args.chart => println!("chart not written: {why}"),
        Some(_) => {}
    }
    report::print(&all);
    println!("elapsed: {:.1} s", started.elapsed().as_secs_f64());
    println!("{}", report::ratios_line(&all));
}

/// Runs one part in a child process (under `taskset -c 0` for the pinned one) and reads back
/// its figures.
fn run_child(mode: Mode, args: &Args) -> Results {
    // This process's own image, even if `cargo build` replaces the file meanwhile (the
    // target directory is shared): `/proc/{pid}/exe` of the parent, not `/proc/self`, which
    // `taskset` would resolve to itself.
    let exe = PathBuf::from(format!("/proc/{}/exe", std::process::id()));
    let out = std::env::temp_dir().join(format!(
        "cache-bench-compare-{}-{}.txt",
        std::process::id(),
        mode.name()
    ));
    let mut cmd = match mode {
        Mode::Pinned => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", "0"]).arg(&exe);
            cmd
        }
        Mode::Spread => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", "1"]).arg(&exe);
            cmd
        }
        Mode::Memory => Command::new(&exe),
    };
    cmd.args(["--child", mode.name(), "--out"]).arg(&out);
    if args.quick {
        cmd.arg("--quick");
    }
    if let Some(only) = &args.only {
        cmd.args(["--only", only]);
    }
    cmd.args(["--server", args.server.name()]);
    println!("== {} ==", mode.title());
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("starting the {} child: {e}", mode.name()));
    assert!(
        status.success(),
        "the {} child failed: {status}",
        mode.name()
    );
    let results = Results::read(&out, mode.name());
    let _ = std::fs::remove_file(&out);
    results
}

/// The Redis scenarios (and, pinned, the CPU-only ones), on one current-thread runtime:
/// the `cached` crate's cache is a process-wide static bound to the runtime that first used
/// it, so every scenario of a child shares one runtime.
fn run_redis_child(env: &Env) -> Results {
    let server = cache_tests::redis_server::RedisServer::start_kind(env.server, &[]);
    if env.mode == Mode::Spread {
        // The server was started on this process's CPU 1: move it (every thread) to CPU 0.
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", "0", &server.pid().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("taskset");
        assert!(status.success(), "taskset -p of redis-server: {status}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut out = Results::default();
    let pinned = env.mode == Mode::Pinned;
    if pinned && env.runs("keys") {
        keys::run(env, &mut out);
    }
    rt.block_on(async {
        let ctx = env::Ctx::connect(&server).await;
        if let Some(spec) = env.only.as_deref().and_then(|o| o.strip_prefix("count:")) {
            redis_hit::count(spec, &ctx).await;
            return;
        }
        if pinned && env.runs("l1") {
            l1::run(env, &ctx, &mut out).await;
        }
        if env.runs("redis_hit") {
            redis_hit::run(env, &ctx, &mut out).await;
        }
        if env.runs("concurrency") {
            concurrency::run(env, &ctx, &mut out).await;
        }
        if env.runs("miss") {
            miss::run(env, &ctx, &mut out).await;
        }
        if env.runs("batch") {
            batch::run(env, &ctx, &mut out).await;
        }
        if env.runs("stampede") {
            stampede::run(env, &ctx, &mut out).await;
        }
    });
    drop(rt);
    if env.runs("reference") && !env.only.as_deref().is_some_and(|o| o.starts_with("count:")) {
        reference::run(env, &server, &mut out);
    }
    drop(server);
    out
}
