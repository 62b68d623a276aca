#!/usr/bin/env bash
# What #[cached] costs at compile time: rebuilds the binary of ten async fns
# (benches/compile/src/users.rs) after touching that file, with the fns cached
# (`--features cached`) and plain, in turns, and prints farm-bench's medians and the
# cached/plain ratio taken pair by pair. Run from anywhere in the workspace:
#
#     bash benches/compile/run.sh [RUNS]      # default 7 pairs, after one warm-up pair
#
# Both forms are built once first, so each timed run rebuilds only this binary (the dev
# profile of the workspace: no debug info, not incremental).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-7}"
file=benches/compile/src/users.rs
cargo build -q -p cache-compile-bench --features cached
cargo build -q -p cache-compile-bench
rebuild="touch $file && exec cargo build -q -p cache-compile-bench"
farm-bench -n "$runs" --timeout 900 \
  --vs "sh -c '$rebuild'" \
  -- sh -c "$rebuild --features cached"
