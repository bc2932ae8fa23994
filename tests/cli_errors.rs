//! What the `fundtrail` command says when its input or its command line is
//! wrong: every test checks the exit code and the useful part of the message
//! (file, line, field, the value at fault), and that nothing panicked.
//!
//! Bad input files are written into temporary folders by the tests, and the
//! commands run inside those folders so the file names in messages are exact.

mod common;

use common::*;
use predicates::prelude::*;
use std::path::Path;

const NATIVE: &str = "native/example.jsonl";
const BTC_STREAM: &str = "bitcoin-etl/bitcoin/stream_50001_50002/expected_transactions.json";
const ETH_TXS: &str = "ethereum-etl/blocks_17173049_17173050_transactions.json";
const ETH_TOKENS: &str = "ethereum-etl/blocks_17173049_17173050_token_transfers.json";

/// 2^128 (one more than the largest amount fundtrail holds).
const TWO_POW_128: &str = "340282366920938463463374607431768211456";
/// 2^128 - 1 (the largest amount fundtrail holds).
const U128_MAX: &str = "340282366920938463463374607431768211455";

const A1: &str = "0x1111111111111111111111111111111111111111";
const A4: &str = "0x4444444444444444444444444444444444444444";
const A5: &str = "0x5555555555555555555555555555555555555555";
const ETH_SEED: &str = "0x3cd751e6b0078be393132286c442345e5dc49699";
const BTC_SEED: &str = "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae";

const HINT: &str = "use --on-error skip to go on without such records";

/// The native example's lines with `extra` inserted before line `at` (1-based).
fn native_with(at: usize, extra: &str) -> String {
    let mut l = fixture_lines(NATIVE);
    l.insert(at - 1, extra.to_string());
    lines(&l.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A JSON object (one line) with `key` set to raw JSON `value` (or removed
/// when `value` is None).
fn with_field(line: &str, key: &str, value: Option<&str>) -> String {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).expect("fixture line is a JSON object");
    match value {
        Some(raw) => {
            // keep big integers exact: splice the raw text in place of a marker
            v.insert(key.into(), serde_json::Value::String("@@RAW@@".into()));
            return serde_json::to_string(&v)
                .unwrap()
                .replace("\"@@RAW@@\"", raw);
        }
        None => {
            v.remove(key);
        }
    }
    serde_json::to_string(&v).unwrap()
}

fn trace_json(dir: &Path, files: &[&str], seeds: &[&str], policy: &str) -> String {
    let mut c = fundtrail_in(dir);
    c.arg("trace").args(files);
    for s in seeds {
        c.args(["--seed", s]);
    }
    c.args(["--policy", policy, "--format", "json"]);
    without_manifest(&stdout_ok(&mut c))
}

// ---------------------------------------------------------------- records

#[test]
fn malformed_json_line_in_the_middle_names_file_and_line() {
    let d = tempdir();
    // line 3 of 8 is cut short (a missing comma, never closed)
    let bad = r#"{"kind":"transfer","block":100,"from":"0x1111111111111111111111111111111111111111" "to":"#;
    write(d.path(), "mal.jsonl", native_with(3, bad));
    fundtrail_in(d.path())
        .args(["trace", "mal.jsonl", "--seed", "1Alice", "--policy", "fifo"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(stderr_has(&["mal.jsonl:3: not valid JSON", HINT]));

    // the same in a real ethereum-etl export: line 5 of the transactions
    let mut l = fixture_lines(ETH_TXS);
    l.truncate(10);
    l[4] = l[4][..l[4].len() / 2].to_string();
    write(
        d.path(),
        "txs.json",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["stats", "txs.json"])
        .assert()
        .code(1)
        .stderr(stderr_has(&["txs.json:5: not valid JSON"]));
}

#[test]
fn missing_required_field_names_the_field() {
    let d = tempdir();
    // native: the fee record on line 2 without its `amount`
    let mut l = fixture_lines(NATIVE);
    l[1] = with_field(&l[1], "amount", None);
    write(
        d.path(),
        "miss.jsonl",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["stats", "miss.jsonl"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "miss.jsonl:2: field `amount`: required field is missing",
            HINT,
        ]));

    // ethereum-etl: line 7 without `from_address`
    let mut l = fixture_lines(ETH_TXS);
    l.truncate(10);
    l[6] = with_field(&l[6], "from_address", None);
    write(
        d.path(),
        "txs.json",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["ingest", "txs.json", "-o", "x.ftl"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "txs.json:7: field `from_address`: required field is missing",
        ]));
    assert!(
        !d.path().join("x.ftl").exists(),
        "no store is written after an error"
    );
}

#[test]
fn amount_above_u128_max_names_the_field_and_says_too_large() {
    let d = tempdir();
    // native, as a decimal string and as a JSON integer, on line 4
    for (name, amount) in [
        ("big-string.jsonl", format!("\"{TWO_POW_128}\"")),
        ("big-int.jsonl", TWO_POW_128.to_string()),
    ] {
        let rec = format!(
            r#"{{"kind":"transfer","block":101,"tx":"0xaa","from":"{A4}","to":"{A5}","asset":"ETH","amount":{amount}}}"#
        );
        write(d.path(), name, native_with(4, &rec));
        fundtrail_in(d.path())
            .args(["trace", name, "--seed", A1, "--policy", "haircut"])
            .assert()
            .code(1)
            .stderr(stderr_has(&[
                &format!("{name}:4: field `amount`: amount {amount} is too large"),
                "2^128-1",
            ]));
    }

    // bitcoin-etl: the output of the transaction on line 2
    let mut l = fixture_lines(BTC_STREAM);
    let mut v: serde_json::Value = serde_json::from_str(&l[1]).unwrap();
    v["outputs"][0]["value"] = serde_json::Value::String("@@".into());
    l[1] = v.to_string().replace("\"@@\"", TWO_POW_128);
    write(
        d.path(),
        "btc.json",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["stats", "btc.json"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[&format!(
            "btc.json:2: field `outputs[0].value`: amount {TWO_POW_128} is too large"
        )]));

    // ethereum-etl: `value` of the transaction on line 5
    let mut l = fixture_lines(ETH_TXS);
    l.truncate(10);
    l[4] = with_field(&l[4], "value", Some(TWO_POW_128));
    write(
        d.path(),
        "txs.json",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["stats", "txs.json"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            &format!("txs.json:5: field `value`: amount {TWO_POW_128} is too large"),
            "2^128-1 wei",
        ]));

    // Etherscan (values are strings): a second `txlist` result, pretty-printed,
    // whose record starts on line 24
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text(
        "etherscan/txlist_api_v1_accounts_transactions.json",
    ))
    .unwrap();
    let mut rec = v["result"][0].clone();
    rec["value"] = TWO_POW_128.into();
    rec["hash"] = format!("0x{}", "ab".repeat(32)).into();
    v["result"].as_array_mut().unwrap().push(rec);
    write(
        d.path(),
        "es.json",
        serde_json::to_string_pretty(&v).unwrap(),
    );
    fundtrail_in(d.path())
        .args(["stats", "es.json"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[&format!(
            "es.json:24: field `value`: amount \"{TWO_POW_128}\" is too large"
        )]));

    // exactly 2^128-1 is accepted, and a ledger moving it twice still counts
    // and traces without overflowing
    let text = lines(&[
        &format!(r#"{{"kind":"mint","block":1,"to":"{A4}","asset":"ETH","amount":"{U128_MAX}"}}"#),
        &format!(
            r#"{{"kind":"transfer","block":2,"from":"{A4}","to":"{A5}","asset":"ETH","amount":"{U128_MAX}"}}"#
        ),
    ]);
    write(d.path(), "max.jsonl", text);
    let out = json_ok(fundtrail_in(d.path()).args([
        "trace",
        "max.jsonl",
        "--seed",
        A4,
        "--policy",
        "haircut",
        "--format",
        "json",
    ]));
    assert_eq!(out["totals"]["ETH"]["seeded"], U128_MAX);
    assert_eq!(out["endpoints"][0]["tainted"], U128_MAX);
    let stats = json_ok(fundtrail_in(d.path()).args(["stats", "max.jsonl", "--format", "json"]));
    assert_eq!(stats["account_movements"], 2);
    // the volume of the two movements is 2 * (2^128-1), above 128 bits
    assert_eq!(
        stats["assets"]["ETH"]["volume"],
        "680564733841876926926749214863536422910"
    );
}

#[test]
fn malformed_address_names_the_field_and_the_address() {
    let d = tempdir();
    let rec = format!(
        r#"{{"kind":"transfer","block":101,"tx":"0xaa","from":"0x44444444444444444444444444444444444zz444","to":"{A5}","asset":"ETH","amount":"5"}}"#
    );
    write(d.path(), "addr.jsonl", native_with(4, &rec));
    fundtrail_in(d.path())
        .args(["trace", "addr.jsonl", "--seed", "1Alice", "--policy", "fifo"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "addr.jsonl:4: field `from`: not a valid EVM address: \"0x44444444444444444444444444444444444zz444\"",
        ]));

    let mut l = fixture_lines(ETH_TXS);
    l.truncate(10);
    l[7] = with_field(&l[7], "to_address", Some("\"0x1234\""));
    write(
        d.path(),
        "txs.json",
        lines(&l.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    fundtrail_in(d.path())
        .args(["stats", "txs.json"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "txs.json:8: field `to_address`:",
            "\"0x1234\"",
        ]));
}

#[test]
fn unknown_file_format_says_which_formats_are_read() {
    let d = tempdir();
    write(
        d.path(),
        "other.jsonl",
        "{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4}\n",
    );
    fundtrail_in(d.path())
        .args(["stats", "other.jsonl"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "other.jsonl: cannot tell the format of this file from its first record (keys: a, b)",
            "ethereum-etl, bitcoin-etl, Bitcoin Core RPC, Etherscan and its own format",
        ]));

    // a getblock result of verbosity 1 (txids only) is refused with the reason
    fundtrail()
        .args(["stats"])
        .arg(fixture("bitcoin-rpc/rejected"))
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "field `tx`: getblock must be called with verbosity 2",
        ]));
}

#[test]
fn a_text_file_that_is_not_json_is_refused_by_name() {
    // A labels CSV given as ledger input by mistake, and a short note: plain
    // text with commas outside any JSON value.
    let d = tempdir();
    write(
        d.path(),
        "labels.csv",
        "address,category,label\n1Alice,exchange,Alice Exchange\n",
    );
    write(d.path(), "note.txt", "hello world, not a ledger\n");
    for name in ["labels.csv", "note.txt"] {
        fundtrail_in(d.path())
            .args(["stats", name])
            .assert()
            .code(1)
            .stderr(stderr_has(&[&format!("fundtrail: error: {name}")]));
    }
}

// --------------------------------------------------------- --on-error skip

/// Bad lines mixed into a good file: `--on-error skip` goes on, says how
/// many it rejected, keeps them verbatim, and traces as if they were absent.
fn check_skip(clean_name: &str, clean: &str, dirty: &str, bad: &[String], seeds: &[&str]) {
    let d = tempdir();
    let cd = d.path().join("clean");
    let dd = d.path().join("dirty");
    write(&cd, clean_name, clean);
    write(&dd, clean_name, dirty);

    // without skip: an error and a non-zero exit
    fundtrail_in(&dd)
        .args(["stats", clean_name])
        .assert()
        .code(1)
        .stderr(stderr_has(&[&format!("{clean_name}:"), HINT]));

    for policy in ["poison", "haircut", "fifo", "lifo", "tiho"] {
        let want = trace_json(&cd, &[clean_name], seeds, policy);
        let mut c = fundtrail_in(&dd);
        c.args([
            "trace",
            clean_name,
            "--on-error",
            "skip",
            "--rejects",
            "rejected.jsonl",
        ]);
        for s in seeds {
            c.args(["--seed", s]);
        }
        c.args(["--policy", policy, "--format", "json"]);
        let n = bad.len();
        let got = c
            .assert()
            .code(0)
            .stderr(stderr_has(&[&format!(
                "fundtrail: rejected {n} records; they are in rejected.jsonl"
            )]))
            .get_output()
            .stdout
            .clone();
        assert_eq!(
            without_manifest(&String::from_utf8(got).unwrap()),
            without_manifest(&want),
            "policy {policy}"
        );
        let rejects = std::fs::read_to_string(dd.join("rejected.jsonl")).unwrap();
        assert_eq!(
            rejects,
            lines(&bad.iter().map(String::as_str).collect::<Vec<_>>())
        );
    }

    // stats counts them too
    let stats = json_ok(fundtrail_in(&dd).args([
        "stats",
        clean_name,
        "--on-error",
        "skip",
        "--rejects",
        "r2.jsonl",
        "--format",
        "json",
    ]));
    assert_eq!(stats["rejected"], bad.len());
}

#[test]
fn on_error_skip_goes_on_counts_and_keeps_the_rejects_native() {
    let bad = vec![
        r#"{"kind":"transfer","block":100,"from":"0x1111111111111111111111111111111111111111" "to":"#.to_string(),
        format!(
            r#"{{"kind":"transfer","block":101,"tx":"0xaa","from":"{A4}","to":"{A5}","asset":"ETH","amount":"{TWO_POW_128}"}}"#
        ),
        format!(r#"{{"kind":"fee","block":101,"tx":"0xaa","from":"{A4}","asset":"ETH"}}"#),
        format!(
            r#"{{"kind":"transfer","block":99,"tx":"0xbb","from":"0x12345","to":"{A1}","asset":"ETH","amount":"7"}}"#
        ),
    ];
    let clean = fixture_lines(NATIVE);
    let mut dirty = clean.clone();
    // after line 1, after (old) line 3, after line 5, at the end
    dirty.insert(1, bad[0].clone());
    dirty.insert(4, bad[1].clone());
    dirty.insert(7, bad[2].clone());
    dirty.push(bad[3].clone());
    let j = |v: &Vec<String>| lines(&v.iter().map(String::as_str).collect::<Vec<_>>());
    check_skip("data.jsonl", &j(&clean), &j(&dirty), &bad, &[A1, "1Alice"]);
}

#[test]
fn on_error_skip_goes_on_counts_and_keeps_the_rejects_ethereum_etl() {
    let clean = fixture_lines(ETH_TXS);
    let bad = vec![
        clean[20][..clean[20].len() - 40].to_string(),
        with_field(&clean[60], "value", Some(TWO_POW_128)),
        with_field(&clean[150], "from_address", Some("\"0xnothex\"")),
    ];
    let mut dirty = clean.clone();
    dirty.insert(10, bad[0].clone());
    dirty.insert(100, bad[1].clone());
    dirty.insert(200, bad[2].clone());
    let j = |v: &Vec<String>| lines(&v.iter().map(String::as_str).collect::<Vec<_>>());
    check_skip("txs.json", &j(&clean), &j(&dirty), &bad, &[ETH_SEED]);
}

#[test]
fn on_error_skip_writes_the_default_rejects_file() {
    let d = tempdir();
    let bad = format!(r#"{{"kind":"fee","block":101,"tx":"0xaa","from":"{A4}","asset":"ETH"}}"#);
    write(d.path(), "data.jsonl", native_with(2, &bad));
    fundtrail_in(d.path())
        .args(["ingest", "data.jsonl", "-o", "x.ftl", "--on-error", "skip"])
        .assert()
        .code(0)
        .stderr(stderr_has(&[
            "fundtrail: rejected 1 record; they are in fundtrail-rejects.jsonl",
            "data.jsonl:2: field `amount`",
        ]));
    assert_eq!(
        std::fs::read_to_string(d.path().join("fundtrail-rejects.jsonl")).unwrap(),
        format!("{bad}\n")
    );
    // the store remembers how many were rejected
    let stats = json_ok(fundtrail_in(d.path()).args(["stats", "x.ftl", "--format", "json"]));
    assert_eq!(stats["rejected"], 1);
}

// -------------------------------------------------------------- duplicates

#[test]
fn duplicates_across_overlapping_files_are_dropped_and_counted() {
    let d = tempdir();
    // ethereum-etl: lines 1-200 and 150-298 overlap in 51 transactions
    let l = fixture_lines(ETH_TXS);
    assert_eq!(l.len(), 298);
    let j = |v: &[String]| lines(&v.iter().map(String::as_str).collect::<Vec<_>>());
    write(d.path(), "a.json", j(&l[..200]));
    write(d.path(), "b.json", j(&l[149..]));
    write(d.path(), "txs.json", j(&l));
    write(d.path(), "tokens.json", fixture_text(ETH_TOKENS));

    let stats = json_ok(fundtrail_in(d.path()).args([
        "stats",
        "a.json",
        "b.json",
        "tokens.json",
        "--format",
        "json",
    ]));
    assert_eq!(stats["duplicates"], 51);
    // 298 transactions + 291 token transfers, 51 read twice
    assert_eq!(stats["records"]["ethereum-etl"], 298 + 291 + 51);
    let whole = json_ok(fundtrail_in(d.path()).args([
        "stats",
        "txs.json",
        "tokens.json",
        "--format",
        "json",
    ]));
    assert_eq!(whole["duplicates"], 0);
    assert_eq!(stats["account_movements"], whole["account_movements"]);
    assert_eq!(stats["assets"], whole["assets"]);

    fundtrail_in(d.path())
        .args(["stats", "a.json", "b.json", "tokens.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("duplicates dropped: 51"));
    fundtrail_in(d.path())
        .args(["ingest", "a.json", "b.json", "-o", "x.ftl"])
        .assert()
        .success()
        .stderr(stderr_has(&["51 duplicates dropped"]));

    for policy in ["poison", "haircut", "fifo", "lifo", "tiho"] {
        assert_eq!(
            trace_json(
                d.path(),
                &["a.json", "b.json", "tokens.json"],
                &[ETH_SEED],
                policy
            ),
            trace_json(d.path(), &["txs.json", "tokens.json"], &[ETH_SEED], policy),
            "policy {policy}"
        );
    }

    // bitcoin-etl: lines 1-3 and 2-4 of blocks 50001-50002 overlap in 2
    let b = fixture_lines(BTC_STREAM);
    assert_eq!(b.len(), 4);
    write(d.path(), "btc1.json", j(&b[..3]));
    write(d.path(), "btc2.json", j(&b[1..]));
    write(d.path(), "btc.json", j(&b));
    let stats = json_ok(fundtrail_in(d.path()).args([
        "stats",
        "btc1.json",
        "btc2.json",
        "--format",
        "json",
    ]));
    assert_eq!(stats["duplicates"], 2);
    assert_eq!(stats["utxo_transactions"], 4);
    for policy in ["poison", "haircut", "fifo", "lifo", "tiho"] {
        assert_eq!(
            trace_json(d.path(), &["btc1.json", "btc2.json"], &[BTC_SEED], policy),
            trace_json(d.path(), &["btc.json"], &[BTC_SEED], policy),
            "policy {policy}"
        );
    }
}

// ------------------------------------------------------------------- seeds

#[test]
fn a_seed_not_in_the_ledger_is_an_error_that_names_it() {
    fundtrail()
        .arg("trace")
        .arg(fixture(NATIVE))
        .args(["--seed", "1Nobody", "--policy", "fifo"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(stderr_has(&[
            "none of the seeds appear in the ledger (1Nobody)",
        ]));
    fundtrail()
        .arg("trace")
        .arg(fixture(NATIVE))
        .args(["--seed-tx", "deadbeef", "--policy", "fifo"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "none of the seeds appear in the ledger (deadbeef)",
        ]));

    // one missing seed among found ones: traced, with a warning naming it
    let out = json_ok(fundtrail().arg("trace").arg(fixture(NATIVE)).args([
        "--seed", "1Alice", "--seed", "1Nobody", "--policy", "fifo", "--format", "json",
    ]));
    assert_eq!(
        out["warnings"],
        serde_json::json!(["seed 1Nobody does not appear in the ledger"])
    );
}

#[test]
fn a_seed_that_is_also_a_stop_service_is_an_error_that_says_both() {
    let d = tempdir();
    write(
        d.path(),
        "labels.csv",
        "address,category,label\n1Alice,exchange,Alice Exchange\n",
    );
    let mut c = fundtrail_in(d.path());
    c.arg("trace").arg(fixture(NATIVE)).args([
        "--seed",
        "1Alice",
        "--policy",
        "fifo",
        "--labels",
        "labels.csv",
    ]);
    c.assert().code(1).stdout("").stderr(stderr_has(&[
        "1Alice is both a seed and a stop service (labelled exchange)",
        "--stop-at",
    ]));
    // with no stop categories it is an ordinary seed
    fundtrail_in(d.path())
        .arg("trace")
        .arg(fixture(NATIVE))
        .args([
            "--seed",
            "1Alice",
            "--policy",
            "fifo",
            "--labels",
            "labels.csv",
        ])
        .args(["--stop-at", "none"])
        .assert()
        .success()
        .stderr(no_panic());
}

#[test]
fn no_seed_at_all_is_an_error() {
    fundtrail()
        .arg("trace")
        .arg(fixture(NATIVE))
        .args(["--policy", "fifo"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(stderr_has(&[
            "nothing to trace: give the thief's address with --seed ADDR or a theft transaction with --seed-tx HASH",
        ]));
}

#[test]
fn min_taint_must_be_an_integer() {
    for (arg, msg) in [
        ("1.5", "--min-taint: not an integer amount: \"1.5\""),
        ("abc", "--min-taint: not an integer amount: \"abc\""),
        ("-5", "--min-taint: negative amount: -5"),
        (TWO_POW_128, "--min-taint:"),
    ] {
        fundtrail()
            .arg("trace")
            .arg(fixture(NATIVE))
            .args(["--seed", "1Alice", "--policy", "fifo"])
            .arg(format!("--min-taint={arg}"))
            .assert()
            .code(1)
            .stdout("")
            .stderr(stderr_has(&[msg, "give an integer amount in base units"]));
    }
}

#[test]
fn command_line_mistakes_are_usage_errors() {
    // clap's own usage errors exit 2 and name the flag or value
    fundtrail()
        .arg("trace")
        .arg(fixture(NATIVE))
        .args(["--seed", "1Alice"])
        .assert()
        .code(2)
        .stderr(stderr_has(&["--policy"]));
    fundtrail()
        .arg("trace")
        .arg(fixture(NATIVE))
        .args(["--seed", "1Alice", "--policy", "fairest"])
        .assert()
        .code(2)
        .stderr(stderr_has(&[
            "fairest", "poison", "haircut", "fifo", "lifo", "tiho",
        ]));
    fundtrail()
        .args(["ingest", "-o", "x.ftl"])
        .assert()
        .code(2)
        .stderr(stderr_has(&["FILES"]));
}

// ------------------------------------------------------------------ stores

fn native_store(dir: &Path) -> Vec<u8> {
    fundtrail_in(dir)
        .arg("ingest")
        .arg(fixture(NATIVE))
        .args(["-o", "x.ftl"])
        .assert()
        .success()
        .stderr(stderr_has(&[
            "wrote x.ftl (4 account movements, 2 UTXO transactions",
        ]));
    std::fs::read(dir.join("x.ftl")).unwrap()
}

#[test]
fn a_corrupt_store_is_damaged() {
    let d = tempdir();
    let good = native_store(d.path());
    assert!(good.len() > 64);

    // one flipped byte in the middle of the body
    let mut bad = good.clone();
    let mid = good.len() / 2;
    bad[mid] ^= 0xff;
    write(d.path(), "bad.ftl", &bad);
    for cmd in [
        vec!["trace", "bad.ftl", "--seed", "1Alice", "--policy", "fifo"],
        vec!["stats", "bad.ftl"],
        vec!["inspect", "bad.ftl", "1Alice"],
    ] {
        fundtrail_in(d.path())
            .args(&cmd)
            .assert()
            .code(1)
            .stdout("")
            .stderr(stderr_has(&[
                "bad.ftl is damaged (checksum mismatch",
                "re-run `fundtrail ingest`",
            ]));
    }

    // cut short
    write(d.path(), "short.ftl", &good[..good.len() - 10]);
    fundtrail_in(d.path())
        .args(["stats", "short.ftl"])
        .assert()
        .code(1)
        .stderr(stderr_has(&["short.ftl is damaged (truncated"]));

    // every byte after the magic, flipped in turn (a stride through the
    // file): a clear error naming the file, never a panic
    for i in (8..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        write(d.path(), "flip.ftl", &bad);
        let part = if i < 12 {
            "flip.ftl was written by"
        } else {
            "flip.ftl is damaged ("
        };
        fundtrail_in(d.path())
            .args(["stats", "flip.ftl"])
            .assert()
            .code(1)
            .stderr(stderr_has(&[part]));
    }
}

#[test]
fn a_foreign_file_where_a_store_is_expected() {
    let d = tempdir();
    // a PNG header: binary, not a store and not an export
    write(
        d.path(),
        "picture.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa",
    );
    fundtrail_in(d.path())
        .args(["inspect", "picture.png", "1Alice"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "picture.png: not UTF-8 text",
            "is this a JSON export?",
        ]));

    // the store's magic, but a format this build does not read
    let mut future = b"FTLEDGER".to_vec();
    future.extend(99u32.to_le_bytes());
    future.extend([0u8; 40]);
    write(d.path(), "future.ftl", &future);
    fundtrail_in(d.path())
        .args(["trace", "future.ftl", "--seed", "1Alice", "--policy", "fifo"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[
            "future.ftl was written by a newer fundtrail (store format 99; this build reads format 3)",
        ]));

    // plain text named like a store
    write(d.path(), "notes.ftl", "hello world, not a store\n");
    fundtrail_in(d.path())
        .args(["inspect", "notes.ftl", "1Alice"])
        .assert()
        .code(1)
        .stderr(stderr_has(&["fundtrail: error: notes.ftl"]));
}

#[test]
fn a_store_and_export_files_together_is_an_error() {
    let d = tempdir();
    native_store(d.path());
    let native = fixture(NATIVE);
    for args in [
        vec![Path::new("x.ftl"), native.as_path()],
        vec![native.as_path(), Path::new("x.ftl")],
        vec![Path::new("x.ftl"), Path::new("x.ftl")],
    ] {
        fundtrail_in(d.path())
            .arg("trace")
            .args(&args)
            .args(["--seed", "1Alice", "--policy", "fifo"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(stderr_has(&[
                "x.ftl is a fundtrail store: give one store, or export files, not both",
            ]));
    }
}

#[test]
fn a_missing_input_path_is_named_once() {
    let d = tempdir();
    for cmd in [
        vec!["trace", "nope.json", "--seed", "1Alice", "--policy", "fifo"],
        vec!["stats", "nope.json"],
        vec!["ingest", "nope.json", "-o", "x.ftl"],
        vec!["inspect", "nope.json", "1Alice"],
    ] {
        let out = fundtrail_in(d.path())
            .args(&cmd)
            .assert()
            .code(1)
            .stderr(stderr_has(&[
                "fundtrail: error: nope.json: No such file or directory",
            ]))
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "the cause is said once: {err}"
        );
    }
}

// -------------------------------------------------------------------- help

#[test]
fn help_of_each_subcommand_mentions_its_key_flags() {
    let cases: [(&str, &[&str]); 4] = [
        ("ingest", &["--output", "--on-error", "--rejects", "FILES"]),
        (
            "trace",
            &[
                "--seed",
                "--seed-tx",
                "--policy",
                "--labels",
                "--stop-at",
                "--min-taint",
                "--format",
                "--out",
                "--on-error",
                "poison",
                "haircut",
                "fifo",
                "lifo",
                "tiho",
            ],
        ),
        ("stats", &["--format", "--on-error", "--rejects"]),
        ("inspect", &["--labels", "--limit", "STORE", "ADDR"]),
    ];
    for (sub, flags) in cases {
        let mut p: predicates::BoxPredicate<str> = no_panic();
        for f in flags {
            p = predicates::BoxPredicate::new(p.and(predicate::str::contains(*f)));
        }
        fundtrail().args([sub, "--help"]).assert().code(0).stdout(p);
    }
    fundtrail().arg("--help").assert().code(0).stdout(
        predicate::str::contains("ingest")
            .and(predicate::str::contains("trace"))
            .and(predicate::str::contains("stats"))
            .and(predicate::str::contains("inspect")),
    );
}

// ------------------------------------------------- store == files, exactly

#[test]
fn a_store_traces_byte_identically_to_its_export_files() {
    let native = fixture(NATIVE);
    let btc_etl = fixture("bitcoin-etl/bitcoin/stream_50001_50002");
    let btc_rpc = fixture("bitcoin-rpc/bitcoin");
    let eth_txs = fixture(ETH_TXS);
    let eth_tok = fixture(ETH_TOKENS);
    let sets: Vec<(Vec<&Path>, Vec<&str>)> = vec![
        (
            vec![&native],
            vec![A1, "1Alice", "0x2222222222222222222222222222222222222222"],
        ),
        (vec![&btc_etl], vec![BTC_SEED]),
        (
            vec![&btc_rpc],
            vec![BTC_SEED, "18dxbN6m8zxieN8F9BchXmhbeXUdFLr8fD"],
        ),
        (
            vec![&eth_txs, &eth_tok],
            vec![ETH_SEED, "0x7e3651eddcaaa8a50a2d11000c75cad27f3a5910"],
        ),
    ];
    let d = tempdir();
    for (files, seeds) in sets {
        fundtrail_in(d.path())
            .arg("ingest")
            .args(&files)
            .args(["-o", "x.ftl"])
            .assert()
            .success()
            .stderr(stderr_has(&["wrote x.ftl"]));
        for policy in ["poison", "haircut", "fifo", "lifo", "tiho"] {
            let run = |inputs: &[&Path]| {
                let mut c = fundtrail_in(d.path());
                c.arg("trace").args(inputs);
                for s in &seeds {
                    c.args(["--seed", s]);
                }
                c.args(["--policy", policy, "--format", "json"]);
                without_manifest(&stdout_ok(&mut c))
            };
            let from_files = run(&files);
            let from_store = run(&[Path::new("x.ftl")]);
            assert!(from_files.contains("\"endpoints\""));
            assert_eq!(from_store, from_files, "{files:?} policy {policy}");
        }
    }
}
