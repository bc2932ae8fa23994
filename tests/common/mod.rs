//! Helpers shared by the command-line integration tests.
//!
//! Every command runs the real `fundtrail` binary under a memory limit and a
//! timeout, so a runaway input (an endless loop, an allocation that never
//! stops) fails its test instead of taking the machine down.
#![allow(dead_code)]

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::BoxPredicate;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Virtual memory the binary may use (KiB for `ulimit -v`): far above what
/// any fixture needs, far below what would hurt the machine.
const MEMORY_LIMIT_KIB: u64 = 6 * 1024 * 1024;
/// Wall-clock limit for one command.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The `fundtrail` binary, as an assert_cmd `Command` (add arguments with
/// `.arg`/`.args`).
pub fn fundtrail() -> Command {
    let bin = env!("CARGO_BIN_EXE_fundtrail");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} 2>/dev/null; exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .env_remove("RUST_BACKTRACE")
        .timeout(TIMEOUT);
    c
}

/// The same, run in `dir` (so relative file names in messages are exact).
pub fn fundtrail_in(dir: &Path) -> Command {
    let mut c = fundtrail();
    c.current_dir(dir);
    c
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("fundtrail-test-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Write `text` to `dir/name` (creating parent folders) and return the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create parent folders");
    }
    std::fs::write(&p, text).expect("write a test file");
    p
}

/// A path under the crate's `fixtures/` folder.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The text of a fixture file.
pub fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).expect("read a fixture")
}

/// The lines of a fixture file (JSON lines), without their newlines.
pub fn fixture_lines(rel: &str) -> Vec<String> {
    fixture_text(rel).lines().map(str::to_string).collect()
}

/// Standard error that contains every one of `parts` and shows no panic.
pub fn stderr_has(parts: &[&str]) -> BoxPredicate<str> {
    let mut p: BoxPredicate<str> = no_panic();
    for part in parts {
        p = BoxPredicate::new(p.and(predicate::str::contains(part.to_string())));
    }
    p
}

/// Output that shows no panic (and no allocation failure or abort message).
pub fn no_panic() -> BoxPredicate<str> {
    BoxPredicate::new(
        predicate::str::contains("panicked")
            .not()
            .and(predicate::str::contains("memory allocation of").not())
            .and(predicate::str::contains("RUST_BACKTRACE").not()),
    )
}

/// Run a command that must succeed; check it did not panic and return its
/// standard output as text.
pub fn stdout_ok(cmd: &mut Command) -> String {
    let out = cmd
        .assert()
        .success()
        .stderr(no_panic())
        .get_output()
        .clone();
    String::from_utf8(out.stdout).expect("standard output is UTF-8")
}

/// Run a command that must succeed and print JSON; return the parsed value.
pub fn json_ok(cmd: &mut Command) -> serde_json::Value {
    let text = stdout_ok(cmd);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The JSON lines of `texts` joined into a file body (one per line).
pub fn lines(texts: &[&str]) -> String {
    let mut s = texts.join("\n");
    s.push('\n');
    s
}

/// A trace's JSON text with its run manifest removed: what two runs over
/// different files holding the same ledger must agree on.
#[allow(dead_code)]
pub fn without_manifest(text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("JSON output");
    if let Some(o) = v.as_object_mut() {
        o.remove("manifest");
    }
    serde_json::to_string_pretty(&v).unwrap()
}
