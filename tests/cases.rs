//! `trace --cases`: many thefts in one run, each result equal to its own
//! single trace, and byte-identical output at any thread count.

mod common;
use common::*;

const EXPLOITER: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";
const LAYER1: &str = "0x6c61796572a0e70458d19e37e14d6388030a017c";

fn demo_trace(extra: &[&str], threads: &str) -> String {
    let mut c = fundtrail();
    c.env("RAYON_NUM_THREADS", threads)
        .arg("trace")
        .arg(fixture("demo"))
        .args(["--labels"])
        .arg(fixture("demo-labels.csv"))
        .args(["--format", "json"])
        .args(extra);
    stdout_ok(&mut c)
}

#[test]
fn every_case_equals_its_own_single_trace() {
    let dir = tempdir();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        format!(
            "{{\"name\":\"exploiter\",\"seeds\":[\"{EXPLOITER}\"]}}\n\
             {{\"name\":\"layer-fifo\",\"seeds\":[\"{LAYER1}\"],\"policy\":\"fifo\",\"min_taint\":\"1000\"}}\n"
        ),
    );
    let out = demo_trace(
        &["--policy", "haircut", "--cases", cases.to_str().unwrap()],
        "2",
    );
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let single = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&demo_trace(args, "2")).unwrap()
    };
    // a case's manifest is the single trace's, plus the case and its file
    let from_cases = |v: &mut serde_json::Value| {
        let p = v["manifest"]["parameters"].as_object_mut().unwrap();
        let case = p.remove("case").unwrap();
        let file = p.remove("cases").unwrap();
        assert_eq!(file["path"], cases.to_str().unwrap());
        assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
        case
    };
    let mut a = lines[0].clone();
    assert_eq!(
        a.as_object_mut().unwrap().remove("name").unwrap(),
        "exploiter"
    );
    assert_eq!(from_cases(&mut a), "exploiter");
    assert_eq!(a, single(&["--seed", EXPLOITER, "--policy", "haircut"]));
    let mut b = lines[1].clone();
    assert_eq!(
        b.as_object_mut().unwrap().remove("name").unwrap(),
        "layer-fifo"
    );
    assert_eq!(from_cases(&mut b), "layer-fifo");
    assert_eq!(
        b,
        single(&["--seed", LAYER1, "--policy", "fifo", "--min-taint", "1000"])
    );
}

#[test]
fn a_case_whose_seeds_are_not_in_the_ledger_fails_alone_with_a_nonzero_exit() {
    let dir = tempdir();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        format!(
            "{{\"name\":\"ghost\",\"seeds\":[\"0x0000000000000000000000000000000000000bad\"]}}\n\
             {{\"name\":\"exploiter\",\"seeds\":[\"{EXPLOITER}\"]}}\n"
        ),
    );
    let out = fundtrail()
        .arg("trace")
        .arg(fixture("demo"))
        .args(["--policy", "tiho", "--format", "json", "--cases"])
        .arg(&cases)
        .assert()
        .code(1)
        .stderr(stderr_has(&["1 of 2 cases could not be traced"]))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["name"], "ghost");
    assert!(first["error"]
        .as_str()
        .unwrap()
        .contains("none of the seeds appear in the ledger"));
    let second: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["name"], "exploiter");
    assert_eq!(second["totals"]["ETH"]["seeded"], "1000000000000000000000");
}

#[test]
fn a_bad_cases_line_names_file_line_and_field() {
    let dir = tempdir();
    write(
        dir.path(),
        "cases.jsonl",
        format!("{{\"name\":\"a\",\"seeds\":[\"{EXPLOITER}\"]}}\n{{\"name\":\"b\",\"seeds\":[\"{EXPLOITER}\"],\"policy\":\"newest\"}}\n"),
    );
    fundtrail_in(dir.path())
        .arg("trace")
        .arg(fixture("demo"))
        .args(["--policy", "haircut", "--cases", "cases.jsonl"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "cases.jsonl:2",
            "field `policy`",
            "\"newest\"",
        ]));
}

#[test]
fn the_threads_flag_changes_no_byte_and_wants_one_or_more() {
    let run = |threads: &str| {
        let mut c = fundtrail();
        c.env_remove("RAYON_NUM_THREADS")
            .args(["--threads", threads, "trace"])
            .arg(fixture("demo"))
            .args(["--seed", EXPLOITER, "--policy", "fifo", "--format", "json"]);
        stdout_ok(&mut c)
    };
    assert_eq!(run("1"), run("3"));
    // the pool has the threads asked for (`--timings` says how many)
    fundtrail()
        .env("RAYON_NUM_THREADS", "2")
        .args(["--threads", "3", "--timings", "stats"])
        .arg(fixture("demo"))
        .assert()
        .success()
        .stderr(stderr_has(&["fundtrail: timing: worker threads: 3"]));
    fundtrail()
        .args(["--threads", "0", "stats"])
        .arg(fixture("demo"))
        .assert()
        .code(2)
        .stderr(stderr_has(&["--threads", "0"]));
}

#[test]
fn output_is_byte_identical_at_one_and_two_threads() {
    let dir = tempdir();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        (0..6)
            .map(|k| {
                let p = ["poison", "haircut", "fifo", "lifo", "tiho", "haircut"][k];
                format!("{{\"name\":\"c{k}\",\"seeds\":[\"{EXPLOITER}\"],\"policy\":\"{p}\"}}\n")
            })
            .collect::<String>(),
    );
    let args = ["--policy", "haircut", "--cases", cases.to_str().unwrap()];
    assert_eq!(demo_trace(&args, "1"), demo_trace(&args, "2"));
    for p in ["poison", "haircut", "fifo", "lifo", "tiho"] {
        let args = ["--seed", EXPLOITER, "--policy", p];
        assert_eq!(demo_trace(&args, "1"), demo_trace(&args, "2"), "{p}");
    }
}
