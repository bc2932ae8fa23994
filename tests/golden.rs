//! Golden files: the demo trace in every output format, byte for byte, so
//! any change to what a user reads shows up in review. After an intended
//! change, regenerate with `FUNDTRAIL_UPDATE_GOLDEN=1 cargo test --test
//! golden` and read the diff.

mod common;
use common::*;
use std::path::Path;

const SEED: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";

fn check(name: &str, args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // relative paths, so the manifest is the same on every machine
    let mut c = fundtrail_in(root);
    c.args([
        "trace",
        "fixtures/demo",
        "--seed",
        SEED,
        "--labels",
        "fixtures/demo-labels.csv",
    ])
    .args(args);
    let got = stdout_ok(&mut c);
    let path = root.join("tests/golden").join(name);
    if std::env::var_os("FUNDTRAIL_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (FUNDTRAIL_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        panic!(
            "{name} differs from its golden file from line {}:\n got: {}\nwant: {}\n(FUNDTRAIL_UPDATE_GOLDEN=1 rewrites it after an intended change)",
            line + 1,
            got.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}

#[test]
fn table() {
    check("demo-haircut.txt", &["--policy", "haircut"]);
}

#[test]
fn table_comparing_policies() {
    check(
        "demo-policies.txt",
        &["--policies", "haircut,fifo,poison", "--top", "8"],
    );
}

#[test]
fn json() {
    check(
        "demo-haircut.json",
        &["--policy", "haircut", "--format", "json"],
    );
}

#[test]
fn json_demix() {
    check(
        "demo-fifo-demix.json",
        &["--policy", "fifo", "--mixer", "demix", "--format", "json"],
    );
}

#[test]
fn csv() {
    check(
        "demo-haircut.csv",
        &["--policy", "haircut", "--format", "csv"],
    );
}

#[test]
fn dot() {
    check(
        "demo-haircut.dot",
        &["--policy", "haircut", "--format", "dot"],
    );
}

#[test]
fn graphml() {
    check(
        "demo-haircut.graphml",
        &["--policy", "haircut", "--format", "graphml"],
    );
}

#[test]
fn html() {
    check(
        "demo-haircut.html",
        &["--policy", "haircut", "--format", "html"],
    );
}
