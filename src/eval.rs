//! Evaluation: trace every case of a ground truth (`truth.json`, written by
//! `fundtrail gen`) under each policy and score the endpoints found against
//! the true ones. Does no IO: the caller reads the truth file.
//!
//! Per policy, over all cases:
//! - an endpoint *counts* when the trace lists it (it holds or absorbed at
//!   least the threshold and more than zero) and, with a share floor, holds
//!   at least that share of its case's stolen amount;
//! - `precision` = true endpoints found / endpoints found, `recall` = true
//!   endpoints found / true endpoints, `f1` their harmonic mean (counted over
//!   all cases together);
//! - `located_share`: of the stolen value, the share the trace puts at true
//!   endpoints (each true endpoint counted up to its true amount), averaged
//!   over (case, asset) pairs;
//! - `decoy_share`: of the stolen value, the share the trace puts at decoy
//!   addresses, averaged the same way;
//! - `seconds`: wall time of the traces.

use crate::ledger::Ledger;
use crate::model::{canonical_address, AddrId, Amount};
use crate::trace::{self, Policy, TracePlan};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// `truth.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct Truth {
    pub cases: Vec<TruthCase>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TruthCase {
    pub name: String,
    pub seeds: Vec<String>,
    #[serde(default)]
    pub seed_txs: Vec<String>,
    /// Asset -> stolen amount (decimal string).
    pub stolen: BTreeMap<String, String>,
    pub endpoints: Vec<TruthEndpoint>,
    #[serde(default)]
    pub launderers: Vec<String>,
    #[serde(default)]
    pub decoys: Vec<Decoy>,
    /// The thief's mixer notes, when it used a pool.
    #[serde(default)]
    pub mixer: Option<TruthMixer>,
}

/// Transactions of the thief's mixer deposits and withdrawals: any of its
/// deposits funds any of its withdrawals (notes are interchangeable).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TruthMixer {
    pub deposits: Vec<String>,
    pub withdrawals: Vec<String>,
}

/// How well demixing links follow the thief's notes, over every case with
/// mixer truth. Weights are in notes (a link of confidence 0.4 weighs 0.4).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkScore {
    /// The thief's deposits and withdrawals found in the pools.
    pub deposits: u64,
    pub withdrawals: u64,
    /// Weight of the links out of the thief's deposits.
    pub linked: f64,
    /// Of that, the weight that lands on the thief's withdrawals.
    pub correct: f64,
    /// `correct / linked`: where the thief's taint goes, how much is right.
    pub precision: f64,
    /// `correct / withdrawals`: how much of the thief's withdrawn notes the
    /// links explain.
    pub recall: f64,
    /// Per heuristic (a link counts for each heuristic it carries):
    /// (name, linked weight, correct weight).
    pub by_heuristic: Vec<(&'static str, f64, f64)>,
}

/// Score the demixing links against the truth's mixer notes.
pub fn evaluate_links(
    ledger: &Ledger,
    truth: &Truth,
    demix: &crate::heuristics::mixer::Demix,
) -> LinkScore {
    use crate::heuristics::mixer::PPM;
    let tx = |h: &String| ledger.tx_id(h);
    let mut dep_tx = HashSet::new();
    let mut wd_tx = HashSet::new();
    for c in &truth.cases {
        if let Some(m) = &c.mixer {
            dep_tx.extend(m.deposits.iter().filter_map(tx));
            wd_tx.extend(m.withdrawals.iter().filter_map(tx));
        }
    }
    let thief_dep: Vec<bool> = demix
        .deposits
        .iter()
        .map(|d| dep_tx.contains(&d.tx))
        .collect();
    let thief_wd: Vec<bool> = demix
        .withdrawals
        .iter()
        .map(|w| wd_tx.contains(&w.tx))
        .collect();
    let mut out = LinkScore {
        deposits: thief_dep.iter().filter(|x| **x).count() as u64,
        withdrawals: thief_wd.iter().filter(|x| **x).count() as u64,
        ..Default::default()
    };
    let mut per: BTreeMap<&'static str, (f64, f64)> = BTreeMap::new();
    for l in &demix.links {
        if !thief_dep[l.deposit as usize] {
            continue;
        }
        let w = l.ppm as f64 / PPM as f64;
        let ok = thief_wd[l.withdrawal as usize];
        out.linked += w;
        if ok {
            out.correct += w;
        }
        for h in l.heuristics.names() {
            let e = per.entry(h).or_default();
            e.0 += w;
            if ok {
                e.1 += w;
            }
        }
    }
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    out.precision = div(out.correct, out.linked);
    out.recall = div(out.correct, out.withdrawals as f64);
    out.by_heuristic = per.into_iter().map(|(k, (a, b))| (k, a, b)).collect();
    out
}

#[derive(Clone, Debug, Deserialize)]
pub struct TruthEndpoint {
    pub address: String,
    pub asset: String,
    pub amount: String,
}

/// A decoy: an address, or an object naming one.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Decoy {
    Address(String),
    Entry { address: String },
}

impl Decoy {
    pub fn address(&self) -> &str {
        match self {
            Decoy::Address(a) | Decoy::Entry { address: a } => a,
        }
    }
}

/// The scores of one policy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub located_share: f64,
    pub decoy_share: f64,
    pub seconds: f64,
    /// Counts behind the ratios.
    pub true_positives: u64,
    pub found: u64,
    pub truth: u64,
}

/// How to trace each case.
#[derive(Clone, Debug, Default)]
pub struct EvalPlan {
    pub stops: HashSet<AddrId>,
    pub min_taint: Amount,
    /// An endpoint also counts only when it holds at least this many
    /// millionths of its case's stolen amount of the asset (0: no such floor).
    pub min_share_ppm: u64,
    /// Mixer pools, and their links for `--mixer demix` (see `TracePlan`).
    pub mixers: HashSet<AddrId>,
    pub demix: Option<std::sync::Arc<crate::heuristics::mixer::Demix>>,
    /// Detected CoinJoins and `--coinjoin` (see `TracePlan`).
    pub coinjoins: Option<std::sync::Arc<crate::trace::CoinJoins>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("case {case:?}: {what}")]
    Case { case: String, what: String },
}

fn amount(case: &str, field: &str, v: &str) -> Result<Amount, EvalError> {
    crate::amount::parse_integer(v).map_err(|e| EvalError::Case {
        case: case.to_string(),
        what: format!("{field}: {e}"),
    })
}

/// Score `policies` on every case of `truth`.
pub fn evaluate(
    ledger: &Ledger,
    truth: &Truth,
    policies: &[Policy],
    plan: &EvalPlan,
) -> Result<BTreeMap<Policy, Score>, EvalError> {
    let mut out = BTreeMap::new();
    for &policy in policies {
        let mut s = Score::default();
        let (mut located_sum, mut decoy_sum, mut pairs) = (0f64, 0f64, 0usize);
        let start = std::time::Instant::now();
        for case in &truth.cases {
            let seeds: Vec<AddrId> = case
                .seeds
                .iter()
                .filter_map(|a| ledger.addr_id(a))
                .collect();
            let seed_txs = case
                .seed_txs
                .iter()
                .filter_map(|t| ledger.tx_id(t))
                .collect();
            let tp = TracePlan {
                policy: Some(policy),
                seeds,
                seed_txs,
                stops: plan.stops.clone(),
                min_taint: plan.min_taint,
                full_replay: false,
                mixers: plan.mixers.clone(),
                demix: plan.demix.clone(),
                coinjoins: plan.coinjoins.clone(),
                record_flows: false,
            };
            let result = trace::run(ledger, &tp);
            // (address, asset) -> tainted, for endpoints the trace lists
            let mut found: BTreeMap<(String, String), Amount> = BTreeMap::new();
            let floor = |asset: &str| -> Amount {
                let stolen = case
                    .stolen
                    .get(asset)
                    .and_then(|v| crate::amount::parse_integer(v).ok())
                    .unwrap_or(0);
                crate::amount::mul_div_floor(stolen, plan.min_share_ppm as Amount, 1_000_000)
                    .unwrap_or(0)
            };
            for e in result
                .endpoints
                .iter()
                .filter(|e| e.tainted > 0 && e.tainted >= plan.min_taint)
                .filter(|e| e.tainted >= floor(&ledger.asset(e.asset).name))
            {
                *found
                    .entry((
                        ledger.address(e.addr).to_string(),
                        ledger.asset(e.asset).name.clone(),
                    ))
                    .or_default() += e.tainted;
            }
            let mut truth_set: BTreeMap<(String, String), Amount> = BTreeMap::new();
            for t in &case.endpoints {
                *truth_set
                    .entry((canonical_address(&t.address), t.asset.clone()))
                    .or_default() += amount(&case.name, "endpoints.amount", &t.amount)?;
            }
            let decoys: BTreeSet<String> = case
                .decoys
                .iter()
                .map(|d| canonical_address(d.address()))
                .collect();
            let tps = found.keys().filter(|k| truth_set.contains_key(*k)).count() as u64;
            s.true_positives += tps;
            s.found += found.len() as u64;
            s.truth += truth_set.len() as u64;
            for (asset, stolen) in &case.stolen {
                let stolen = amount(&case.name, "stolen", stolen)?;
                if stolen == 0 {
                    continue;
                }
                let located: Amount = truth_set
                    .iter()
                    .filter(|((_, a), _)| a == asset)
                    .map(|(k, true_amount)| found.get(k).copied().unwrap_or(0).min(*true_amount))
                    .sum();
                let on_decoys: Amount = found
                    .iter()
                    .filter(|((addr, a), _)| a == asset && decoys.contains(addr))
                    .map(|(_, t)| *t)
                    .sum();
                located_sum += located as f64 / stolen as f64;
                decoy_sum += on_decoys as f64 / stolen as f64;
                pairs += 1;
            }
        }
        s.seconds = start.elapsed().as_secs_f64();
        s.precision = ratio(s.true_positives, s.found);
        s.recall = ratio(s.true_positives, s.truth);
        s.f1 = if s.precision + s.recall > 0.0 {
            2.0 * s.precision * s.recall / (s.precision + s.recall)
        } else {
            0.0
        };
        if pairs > 0 {
            s.located_share = located_sum / pairs as f64;
            s.decoy_share = decoy_sum / pairs as f64;
        }
        out.insert(policy, s);
    }
    Ok(out)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::build::build;
    use crate::ingest::raw::{Raw, RawMove};
    use crate::ingest::Loc;
    use crate::model::MoveKind;

    fn mv(block: u64, from: &str, to: &str, amount: u128) -> (Raw, Loc) {
        (
            Raw::Move(RawMove {
                tx_hash: Some(format!("t{block}")),
                block,
                time: block,
                tx_index: 0,
                seq: 0,
                from: Some(from.into()),
                to: Some(to.into()),
                asset: "ETH".into(),
                amount,
                kind: MoveKind::Native,
            }),
            Loc::default(),
        )
    }

    #[test]
    fn scores_count_true_endpoints_found_and_value_located() {
        // the thief sends 60 to a, 30 to b (true endpoints) and 10 to a decoy;
        // a clean user gives b 30 more, and b pays 30 to c (a false lead
        // under poison, half tainted under haircut)
        let l = build(
            vec![
                mv(1, "thief", "a", 60),
                mv(2, "thief", "b", 30),
                mv(3, "thief", "decoy", 10),
                mv(4, "clean", "b", 30),
                mv(5, "b", "c", 30),
            ],
            &[],
        )
        .unwrap()
        .ledger;
        let truth: Truth = serde_json::from_str(
            r#"{"cases":[{"name":"t","seeds":["thief"],"stolen":{"ETH":"100"},
                "endpoints":[{"address":"a","asset":"ETH","amount":"60"},{"address":"b","asset":"ETH","amount":"30"}],
                "launderers":[],"decoys":[{"address":"decoy","asset":"ETH","amount":"10"}]}]}"#,
        )
        .unwrap();
        let scores = evaluate(
            &l,
            &truth,
            &[Policy::Poison, Policy::Haircut, Policy::Fifo],
            &EvalPlan::default(),
        )
        .unwrap();
        let p = &scores[&Policy::Poison];
        // poison finds a, b (30 left), c, decoy: 2 of 4 true
        assert_eq!((p.true_positives, p.found, p.truth), (2, 4, 2));
        assert_eq!((p.precision, p.recall), (0.5, 1.0));
        assert_eq!(p.decoy_share, 0.1);
        let h = &scores[&Policy::Haircut];
        // haircut: b holds 15 tainted after paying half of its 30 taint to c
        assert_eq!((h.true_positives, h.found), (2, 4));
        assert_eq!(h.located_share, 0.75);
        let f = &scores[&Policy::Fifo];
        // FIFO: b's oldest 30 (tainted) go to c; b keeps the clean 30
        assert_eq!((f.true_positives, f.found), (1, 3));
        assert_eq!(f.located_share, 0.6);
    }
}
