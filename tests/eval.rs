//! `fundtrail eval` on a generated fixture with its ground truth.

mod common;
use common::*;

fn eval_json(extra: &[&str]) -> serde_json::Value {
    let dir = fixture("synth/lazarus-eth");
    let mut c = fundtrail_in(&dir);
    c.args([
        "eval",
        "--truth",
        "truth.json",
        "--format",
        "json",
        "--labels",
        "labels.csv",
    ])
    .args([
        "transactions.json",
        "traces.json",
        "token_transfers.json",
        "tokens.json",
    ])
    .args(extra);
    json_ok(&mut c)
}

#[test]
fn every_policy_is_scored_and_poison_finds_what_any_policy_finds() {
    let v = eval_json(&[]);
    let truth: serde_json::Value =
        serde_json::from_str(&fixture_text("synth/lazarus-eth/truth.json")).unwrap();
    let true_endpoints = truth["cases"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap().to_string(),
                e["asset"].as_str().unwrap().to_string(),
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    let policies = v["policies"].as_object().unwrap();
    assert_eq!(
        policies.keys().cloned().collect::<Vec<_>>(),
        ["fifo", "haircut", "lifo", "poison", "tiho"]
    );
    let poison = &policies["poison"];
    for (name, s) in policies {
        assert_eq!(s["true_endpoints"].as_u64(), Some(true_endpoints), "{name}");
        for k in [
            "precision",
            "recall",
            "f1",
            "located_share",
            "decoy_share",
            "seconds",
        ] {
            assert!(s[k].is_f64(), "{name}.{k}");
        }
        assert!(
            s["recall"].as_f64() <= poison["recall"].as_f64(),
            "{name} finds more than poison"
        );
        // poison's taint is at least any policy's at every address, so it
        // locates at least as much at the true endpoints
        assert!(
            s["located_share"].as_f64() <= poison["located_share"].as_f64(),
            "{name}"
        );
        let (p, r, f1) = (
            s["precision"].as_f64().unwrap(),
            s["recall"].as_f64().unwrap(),
            s["f1"].as_f64().unwrap(),
        );
        if p + r > 0.0 {
            assert!((f1 - 2.0 * p * r / (p + r)).abs() < 1e-12, "{name}");
        }
    }
    assert!(poison["located_share"].as_f64().unwrap() > 0.99);
}

#[test]
fn an_unknown_policy_is_refused_by_name() {
    let dir = fixture("synth/lazarus-eth");
    fundtrail_in(&dir)
        .args([
            "eval",
            "--truth",
            "truth.json",
            "--policies",
            "haircut,oldest",
            "transactions.json",
        ])
        .assert()
        .code(1)
        .stderr(stderr_has(&["--policies", "\"oldest\""]));
}

#[test]
fn a_generated_folder_traces_as_its_ledger_files_labels_and_truth_are_skipped() {
    let dir = fixture("synth/lazarus-eth");
    let truth: serde_json::Value =
        serde_json::from_str(&fixture_text("synth/lazarus-eth/truth.json")).unwrap();
    let seed = truth["cases"][0]["seeds"][0].as_str().unwrap().to_string();
    let run = |inputs: &[&str]| {
        let mut c = fundtrail_in(&dir);
        c.arg("trace")
            .args(inputs)
            .args(["--seed", &seed, "--policy", "fifo", "--format", "json"]);
        without_manifest(&stdout_ok(&mut c))
    };
    let whole = run(&["."]);
    let named = run(&[
        "transactions.json",
        "traces.json",
        "token_transfers.json",
        "tokens.json",
    ]);
    assert_eq!(whole, named);
}

#[test]
fn demixing_links_are_scored_and_locate_more_than_pass_or_stop() {
    let located = |mode: &str| {
        let v = eval_json(&["--policies", "haircut", "--mixer", mode]);
        assert_eq!(v["mixer"], mode);
        v["policies"]["haircut"]["located_share"].as_f64().unwrap()
    };
    let v = eval_json(&["--policies", "haircut", "--mixer", "demix"]);
    let d = &v["demix"];
    // the thief deposits 16 notes and withdraws 16 (5-6 per fresh address)
    assert_eq!(d["thief_deposits"], 16);
    assert_eq!(d["thief_withdrawals"], 16);
    let precision = d["precision"].as_f64().unwrap();
    let recall = d["recall"].as_f64().unwrap();
    assert!(precision > 0.85 && precision <= 1.0, "{d}");
    assert!(recall > 0.7 && recall <= 1.0, "{d}");
    // no strong heuristic applies to fresh addresses: the window links them
    assert!(d["by_heuristic"]["time-window"]["linked"].as_f64().unwrap() > 13.0);
    let (demix, pass, stop) = (located("demix"), located("pass"), located("stop"));
    assert!(
        demix > pass && pass > stop,
        "demix {demix}, pass {pass}, stop {stop}"
    );
    // pass and stop have no links to score
    assert!(eval_json(&["--mixer", "pass"]).get("demix").is_none());
}
