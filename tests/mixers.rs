//! `--mixer pass|stop|demix` and `--coinjoin` on the bundled demo (one
//! 100 ETH pool the thief deposits a note into, six withdrawals).

mod common;
use common::*;

const SEED: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";
const POOL: &str = "0x6d6978657231303054c9f98134bc332d300a5876";

fn demo(mode: &str) -> serde_json::Value {
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--format", "json", "--mixer", mode,
    ])
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels.csv"));
    json_ok(&mut c)
}

fn through_pool(v: &serde_json::Value) -> Vec<(String, String, Option<f64>)> {
    v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["mixer"].is_object())
        .map(|e| {
            assert_eq!(e["mixer"]["pool"], POOL);
            (
                e["address"].as_str().unwrap().to_string(),
                e["mixer"]["via"].as_str().unwrap().to_string(),
                e["mixer"]["confidence"].as_f64(),
            )
        })
        .collect()
}

#[test]
fn stop_makes_the_pool_an_endpoint_with_the_whole_note() {
    let v = demo("stop");
    assert_eq!(v["mixer"], "stop");
    assert!(v["stop_at"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "mixer"));
    let pool: Vec<&serde_json::Value> = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["address"] == POOL)
        .collect();
    assert_eq!(pool.len(), 1);
    assert_eq!(pool[0]["kind"], "service");
    assert_eq!(pool[0]["tainted"], "100000000000000000000");
    assert!(through_pool(&v).is_empty());
    assert_eq!(v["totals"]["ETH"]["conserved"], true);
}

#[test]
fn pass_and_demix_flag_every_endpoint_reached_through_the_pool() {
    let pass = demo("pass");
    let got = through_pool(&pass);
    assert_eq!(got.len(), 7, "{got:?}");
    assert!(got.iter().all(|(_, via, c)| via == "pass" && c.is_none()));
    let demix = demo("demix");
    assert_eq!(demix["mixer"], "demix");
    let got = through_pool(&demix);
    assert_eq!(got.len(), 7, "{got:?}");
    // no strong heuristic fires in the demo: the thief's note is shared
    // evenly over the six withdrawals of the window
    assert!(got
        .iter()
        .all(|(_, via, c)| via == "link" && *c == Some(0.166666)));
    for v in [&pass, &demix] {
        assert_eq!(v["totals"]["ETH"]["conserved"], true);
        assert_eq!(v["totals"]["ETH"]["seeded"], "1000000000000000000000");
    }
}

#[test]
fn a_bad_window_is_refused_by_name() {
    let mut c = fundtrail();
    c.args([
        "trace",
        "--seed",
        SEED,
        "--policy",
        "haircut",
        "--mixer",
        "demix",
        "--demix-window",
        "soon",
    ])
    .arg(fixture("demo"));
    c.assert()
        .failure()
        .stderr(stderr_has(&[
            "--demix-window",
            "\"soon\"",
            "not a duration",
        ]))
        .stderr(no_panic());
}

#[test]
fn stop_at_mixer_means_mixer_stop_and_contradictions_are_refused() {
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--format", "json",
    ])
    .args(["--stop-at", "exchange,mixer"])
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels.csv"));
    let v = json_ok(&mut c);
    assert_eq!(v["mixer"], "stop");
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--mixer", "demix",
    ])
    .args(["--stop-at", "exchange,mixer"])
    .arg(fixture("demo"));
    c.assert()
        .failure()
        .stderr(stderr_has(&[
            "--mixer demix contradicts --stop-at exchange,mixer",
        ]))
        .stderr(no_panic());
}

fn detect(args: &[&str], inputs: &[&str]) -> serde_json::Value {
    let mut c = fundtrail();
    c.args(["detect", "--format", "json", "--top", "0"])
        .args(args);
    for i in inputs {
        c.arg(fixture(i));
    }
    json_ok(&mut c)
}

#[test]
fn detect_lists_the_pool_its_notes_and_the_peel_chains() {
    let v = detect(
        &[
            "--labels",
            fixture("synth/lazarus-eth/labels.csv").to_str().unwrap(),
        ],
        &["synth/lazarus-eth"],
    );
    let pools = v["mixer_pools"].as_array().unwrap();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0]["denomination"], "100000000000000000000");
    // 16 of the thief's notes among clean users' deposits and withdrawals
    assert_eq!(pools[0]["deposits"], 22);
    assert_eq!(pools[0]["withdrawals"], 18);
    assert_eq!(v["peel_chains"]["count"], 1);
    assert_eq!(v["peel_chains"]["top"][0]["steps"], 5);
    // the Bitfinex-like ledger: exactly the generated chains, none of the
    // background's hot-wallet payouts (change back to the payer)
    let v = detect(&[], &["synth/bitfinex-btc/transactions.json"]);
    let steps: Vec<u64> = v["peel_chains"]["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["steps"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [16, 16, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    assert_eq!(v["coinjoins"]["count"], 0);
    assert!(v["mixer_pools"].as_array().unwrap().is_empty());
}
