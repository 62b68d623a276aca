//! Benchmark support (the harness binary comes with the benchmark step).
