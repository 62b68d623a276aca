//! A short soak: 16 tasks for 5 s of reads, writes and invalidations while Redis is killed
//! and restarted twice, with and without L1. The program must exit 0, with no error surfaced
//! and no wrong value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// Runs the soak for 5 s with 16 tasks and `--l1 on|off`, and checks what it printed.
fn soak(l1: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_soak"))
        .args(["--secs", "5", "--tasks", "16", "--l1", l1])
        .env_remove("SOAK_SECS")
        .env_remove("SOAK_TASKS")
        .env_remove("SOAK_KEYS")
        .env_remove("SOAK_L1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "soak failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for line in [
        &format!("L1 {l1}, "),
        "errors surfaced to callers: 0\n",
        "wrong values: 0\n",
        "panicked tasks: 0\n",
        "soak: passed\n",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("hits again with the circuit closed").count(),
        2,
        "both outages recovered:\n{stdout}"
    );
}

#[test]
fn five_second_soak_with_two_outages() {
    soak("on");
}

/// Without L1 every read reaches Redis, and concurrent reads of a hot key share one read
/// through single flight's early join, while invalidations race them.
#[test]
fn five_second_soak_without_l1() {
    soak("off");
}
