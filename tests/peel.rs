//! Peel chains on the synthetic Bitfinex-like ledger (fixtures/synth): the
//! generator lays chains of 10 and 16 one-input, two-output steps that peel
//! to exchange deposit addresses; the trace report lists each chain on the
//! trail once, as one step, and marks its endpoints.

mod common;
use common::*;
use std::collections::BTreeSet;

#[test]
fn the_generated_peel_chains_are_found_whole_and_peel_only_to_true_endpoints() {
    let truth: serde_json::Value =
        serde_json::from_str(&fixture_text("synth/bitfinex-btc/truth.json")).unwrap();
    let case = &truth["cases"][0];
    let exchange: BTreeSet<&str> = case["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "exchange")
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    let thief: BTreeSet<&str> = case["launderers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(case["seeds"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    let mut c = fundtrail();
    c.args(["trace", "--policy", "haircut", "--format", "json"])
        .arg(fixture("synth/bitfinex-btc/transactions.json"))
        .arg("--labels")
        .arg(fixture("synth/bitfinex-btc/labels.csv"));
    for s in case["seeds"].as_array().unwrap() {
        c.args(["--seed", s.as_str().unwrap()]);
    }
    let v = json_ok(&mut c);
    let chains = v["peel_chains"].as_array().unwrap();
    assert_eq!(chains.len(), 11);
    let lens: Vec<u64> = chains
        .iter()
        .map(|c| c["steps"].as_u64().unwrap())
        .collect();
    assert_eq!(lens.iter().filter(|l| **l == 10).count(), 9, "{lens:?}");
    assert_eq!(lens.iter().filter(|l| **l == 16).count(), 2, "{lens:?}");
    for ch in chains {
        // the thief made every step, and every peel reached an exchange
        assert!(thief.contains(ch["first_owner"].as_str().unwrap()));
        let start: u128 = ch["start_value"].as_str().unwrap().parse().unwrap();
        let peeled: u128 = ch["total_peeled"].as_str().unwrap().parse().unwrap();
        let left: u128 = ch["final_change"].as_str().unwrap().parse().unwrap();
        assert!(peeled + left < start && peeled > 0);
        assert_eq!(ch["peel_recipients"], ch["steps"]);
        for e in ch["endpoints"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(
                exchange.contains(e) || e == ch["final_owner"].as_str().unwrap(),
                "{e} is on a chain but not a true endpoint"
            );
        }
    }
    // each endpoint on a chain points at it
    let marked = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["peel_chain"].is_u64())
        .count();
    let listed: usize = chains
        .iter()
        .map(|c| c["endpoints"].as_array().unwrap().len())
        .sum();
    assert_eq!(marked, listed);
}
