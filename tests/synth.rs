//! `fundtrail gen` through the binary: the fixtures regenerate byte for
//! byte, and a poison trace from the truth's seeds finds every truth
//! endpoint of the same asset (poison over-approximates) for every typology
//! but the mixer (whose pool breaks the link by design).

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The fixture presets: (preset, seed, scale) as in fixtures/synth/README.md.
const FIXTURES: [(&str, u64, u64); 4] = [
    ("lazarus-eth", 1, 2000),
    ("bybit-eth", 1, 2000),
    ("bitfinex-btc", 1, 2000),
    ("background", 1, 2000),
];

fn gen(dir: &Path, scenario: &str, seed: u64, scale: u64, format: Option<&str>) {
    let mut c = fundtrail();
    c.args(["gen", "--scenario", scenario, "--seed", &seed.to_string()])
        .args(["--scale", &scale.to_string(), "--out"])
        .arg(dir);
    if let Some(f) = format {
        c.args(["--format", f]);
    }
    c.assert()
        .success()
        .stderr(stderr_has(&["fundtrail: wrote", "movements"]));
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "json" || x == "jsonl" || x == "csv")
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_synth_fixtures_regenerate_byte_for_byte() {
    for (preset, seed, scale) in FIXTURES {
        let tmp = tempdir();
        gen(tmp.path(), preset, seed, scale, None);
        let want = listing(&fixture(&format!("synth/{preset}")));
        let got = listing(tmp.path());
        assert!(!want.is_empty(), "fixtures/synth/{preset} is missing");
        assert_eq!(
            got.iter().map(|f| &f.0).collect::<Vec<_>>(),
            want.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.1 == w.1,
                "fixtures/synth/{preset}/{} differs from a fresh run",
                g.0
            );
        }
    }
}

#[test]
fn unknown_scenarios_and_formats_are_errors_listing_the_valid_names() {
    let tmp = tempdir();
    fundtrail()
        .args(["gen", "--scenario", "smurfing", "--out"])
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(stderr_has(&[
            "unknown scenario",
            "lazarus-eth",
            "peel-chain",
            "cash-out",
        ]));
    fundtrail()
        .args(["gen", "--scenario", "mixer", "--format", "csv", "--out"])
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(stderr_has(&[
            "unknown format",
            "ethereum-etl, bitcoin-etl, native",
        ]));
}

/// The ledger files of a generated directory (labels and truth are not
/// ledger records).
fn ledger_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n != "labels.csv" && n != "truth.json"
        })
        .collect();
    v.sort();
    v
}

#[test]
fn poison_from_the_truth_seeds_finds_every_truth_endpoint() {
    for (scenario, format) in [
        ("fan-out", "ethereum-etl"),
        ("peel-chain", "ethereum-etl"),
        ("peel-chain", "bitcoin-etl"),
        ("scatter-gather", "ethereum-etl"),
        ("gather-scatter", "native"),
        ("cycle", "ethereum-etl"),
        ("layers", "ethereum-etl"),
        ("bridge", "ethereum-etl"),
        ("swap", "ethereum-etl"),
        ("decoys", "ethereum-etl"),
        ("fan-out,cash-out", "bitcoin-etl"),
        ("bybit-eth", "ethereum-etl"),
        ("bitfinex-btc", "bitcoin-etl"),
    ] {
        let tmp = tempdir();
        gen(tmp.path(), scenario, 3, 3000, Some(format));
        let truth: Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("truth.json")).unwrap()).unwrap();
        let case = &truth["cases"][0];
        let mut c = fundtrail();
        c.arg("trace").args(ledger_files(tmp.path()));
        for s in case["seeds"].as_array().unwrap() {
            c.args(["--seed", s.as_str().unwrap()]);
        }
        c.args(["--policy", "poison", "--format", "json", "--labels"])
            .arg(tmp.path().join("labels.csv"))
            .args(["--stop-at", "exchange,bridge,dex"]);
        let out = json_ok(&mut c);
        let found: BTreeSet<(String, String)> = out["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["address"].as_str().unwrap().into(),
                    e["asset"].as_str().unwrap().into(),
                )
            })
            .collect();
        for e in case["endpoints"].as_array().unwrap() {
            if e.get("swapped_from").is_some() {
                // bought with stolen ETH, but a trace follows one asset: the
                // swap contract (a dex endpoint) is where the ETH ends
                continue;
            }
            let key = (
                e["address"].as_str().unwrap().to_string(),
                e["asset"].as_str().unwrap().to_string(),
            );
            assert!(
                found.contains(&key),
                "{scenario}: poison misses truth endpoint {e}"
            );
        }
    }
}
