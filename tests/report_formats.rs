//! Trace outputs beyond SPEC.md §5 on the bundled demo: CSV rows, `--top`,
//! purity, and the run manifest that makes a result reproducible.

mod common;
use common::*;
use sha2::{Digest, Sha256};

const SEED: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";
const BINANCE: &str = "0x62696e616e6365e039637af0906aec166b649791";

fn demo(extra: &[&str], labels: &std::path::Path) -> String {
    let mut c = fundtrail();
    c.args(["trace", "--seed", SEED, "--policy", "haircut"])
        .args(extra)
        .arg(fixture("demo"))
        .arg("--labels")
        .arg(labels);
    stdout_ok(&mut c)
}

#[test]
fn csv_has_one_row_per_endpoint_with_exact_amounts_and_purity() {
    let csv = demo(&["--format", "csv"], &fixture("demo-labels.csv"));
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        rows[0],
        "rank,address,asset,tainted,tainted_units,kind,score,share,confidence,purity,received,hops,actionable,\
         weight_passage,weight_agreement,weight_hops,weight_purity,weight_category,policies_listing,categories,labels,\
         mixer_pool,mixer_via,mixer_confidence,mixer_tainted,mixer_share,coinjoin_tx,coinjoin_confidence,coinjoin_tainted,coinjoin_share,peel_chain,policy,fundtrail"
    );
    let json: serde_json::Value =
        serde_json::from_str(&demo(&["--format", "json"], &fixture("demo-labels.csv"))).unwrap();
    assert_eq!(rows.len() - 1, json["endpoints"].as_array().unwrap().len());
    let binance = rows.iter().find(|r| r.contains(BINANCE)).unwrap();
    let cells: Vec<&str> = binance.split(',').collect();
    let head: Vec<&str> = rows[0].split(',').collect();
    let col = |name: &str| cells[head.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("tainted"), "216399999999999999999");
    assert_eq!(col("kind"), "service");
    assert_eq!(col("received"), "298900000000000000000");
    assert_eq!(col("categories"), "exchange");
    assert_eq!(col("mixer_via"), "pass");
    // the score and every factor of it: 16.5 of its 216.4 ETH came out of
    // the mixer with no link (that share at 1/2), two hops, an exchange
    assert_eq!(col("actionable"), "true");
    assert_eq!(col("mixer_tainted"), "16499999999999999999");
    let via = 16_499_999_999_999_999_999u128 as f64 / 216_399_999_999_999_999_999u128 as f64;
    assert!((col("mixer_share").parse::<f64>().unwrap() - via).abs() < 1e-12);
    let passage = 1.0 - via * 0.5;
    assert!((col("weight_passage").parse::<f64>().unwrap() - passage).abs() < 1e-12);
    assert_eq!(col("weight_category"), "1");
    assert_eq!(col("weight_hops"), "0.98");
    let f = |name: &str| col(name).parse::<f64>().unwrap();
    let purity = 216.4 / 298.9;
    assert!((f("weight_purity") - (1.0 + purity) / 2.0).abs() < 1e-12);
    assert!((f("confidence") - passage * 0.98).abs() < 1e-12);
    assert!((f("share") - 0.2164).abs() < 1e-12);
    let score = f("share") * f("confidence") * f("weight_purity") * f("weight_category");
    assert!((f("score") - score).abs() < 1e-15, "{}", col("score"));
    let e = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == BINANCE)
        .unwrap();
    // purity: what it got of the stolen funds over all it received
    assert_eq!(e["received"], "298900000000000000000");
    let purity = e["purity"].as_f64().unwrap();
    assert!((purity - 216.4 / 298.9).abs() < 1e-12, "{purity}");
}

#[test]
fn top_limits_the_table_and_csv_but_not_the_totals() {
    let table = demo(&["--top", "3"], &fixture("demo-labels.csv"));
    assert!(
        table.contains("... and 14 more endpoints (--top 3"),
        "{table}"
    );
    assert!(table.contains("[conserved]"));
    let csv = demo(
        &["--format", "csv", "--top", "3"],
        &fixture("demo-labels.csv"),
    );
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 4);
}

#[test]
fn hostile_labels_are_quoted_and_never_formulas_in_csv() {
    let dir = tempdir();
    let labels = write(
        dir.path(),
        "labels.csv",
        format!(
            "address,category,label\n{BINANCE},exchange,\"=HYPERLINK(\"\"http://x\"\"), <script>alert(1)</script>\"\n"
        ),
    );
    let csv = demo(&["--format", "csv"], &labels);
    let row = csv.split("\r\n").find(|r| r.contains(BINANCE)).unwrap();
    assert!(
        row.contains("\"exchange: =HYPERLINK(\"\"http://x\"\"), <script>alert(1)</script> ("),
        "{row}"
    );
    // no cell starts a formula
    assert!(!row.contains(",=") && !row.contains(",\"="), "{row}");
}

#[test]
fn the_manifest_names_every_input_with_its_sha256_and_every_parameter() {
    let v: serde_json::Value = serde_json::from_str(&demo(
        &["--format", "json", "--mixer", "demix", "--min-taint", "5"],
        &fixture("demo-labels.csv"),
    ))
    .unwrap();
    let m = &v["manifest"];
    assert_eq!(m["command"], "trace");
    assert_eq!(m["fundtrail"], env!("CARGO_PKG_VERSION"));
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 4, "the demo folder's four export files");
    for f in inputs.iter().chain(m["labels"].as_array().unwrap()) {
        let bytes = std::fs::read(f["path"].as_str().unwrap()).unwrap();
        assert_eq!(f["bytes"], bytes.len());
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(&bytes)));
    }
    let p = &m["parameters"];
    assert_eq!(p["policy"], "haircut");
    assert_eq!(p["seeds"][0], SEED);
    assert_eq!(p["mixer"], "demix");
    assert_eq!(p["demix_window"], "7d");
    assert_eq!(p["min_taint"], "5");
    assert_eq!(p["stop_at"], "exchange");
    assert_eq!(p["coinjoin"], "pass");
}

#[test]
fn policies_say_where_they_agree() {
    let mut c = fundtrail();
    c.args([
        "trace",
        "--seed",
        SEED,
        "--policies",
        "haircut,fifo,poison",
        "--format",
        "json",
    ])
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels.csv"));
    let v = json_ok(&mut c);
    assert_eq!(v["policy"], "haircut");
    assert_eq!(
        v["policies_compared"],
        serde_json::json!(["haircut", "fifo", "poison"])
    );
    let single = |p: &str| -> serde_json::Value {
        let mut c = fundtrail();
        c.args(["trace", "--seed", SEED, "--policy", p, "--format", "json"])
            .arg(fixture("demo"))
            .arg("--labels")
            .arg(fixture("demo-labels.csv"));
        json_ok(&mut c)
    };
    let (fifo, poison) = (single("fifo"), single("poison"));
    let amount = |v: &serde_json::Value, addr: &str, asset: &str| -> Option<u128> {
        v["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["address"] == addr && e["asset"] == asset)
            .map(|e| e["tainted"].as_str().unwrap().parse().unwrap())
    };
    for e in v["endpoints"].as_array().unwrap() {
        let a = &e["agreement"];
        assert_eq!(a["of"], 3);
        let (addr, asset) = (e["address"].as_str().unwrap(), e["asset"].as_str().unwrap());
        let mine: u128 = e["tainted"].as_str().unwrap().parse().unwrap();
        let others = [amount(&fifo, addr, asset), amount(&poison, addr, asset)];
        let listed: Vec<&str> = a["listed_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(listed[0], "haircut");
        assert_eq!(listed.contains(&"fifo"), others[0].is_some());
        assert_eq!(listed.contains(&"poison"), others[1].is_some());
        let all: Vec<u128> = std::iter::once(mine)
            .chain(others.iter().map(|o| o.unwrap_or(0)))
            .collect();
        assert_eq!(a["min"], all.iter().min().unwrap().to_string());
        assert_eq!(a["max"], all.iter().max().unwrap().to_string());
    }
    // without --policy or --policies there is nothing to trace by
    let mut c = fundtrail();
    c.args(["trace", "--seed", SEED]).arg(fixture("demo"));
    c.assert().failure().stderr(no_panic());
}

#[test]
fn path_shows_the_heaviest_route_from_the_seed_with_every_transaction() {
    const KRAKEN: &str = "0x6b72616b656e254457ef5f919dcaa2128d879f8e";
    let mut c = fundtrail();
    c.args([
        "path", "--seed", SEED, "--policy", "haircut", "--format", "json", "--to",
    ])
    .arg(KRAKEN.to_uppercase().replace("0X", "0x"))
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels.csv"));
    let v = json_ok(&mut c);
    let ends = v["endpoints"].as_array().unwrap();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["endpoint"], KRAKEN);
    assert_eq!(ends[0]["tainted"], "60000000000000000000");
    // three paths (the default --paths 3), widest first: the first peel
    // straight to Kraken, then two that run down the peel chain, each
    // shown as one step
    let paths = ends[0]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 3);
    let p = &paths[0];
    assert_eq!(p["width"], "20000000000000000000");
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1]["kind"], "transfer");
    assert_eq!(
        steps[1]["peel_chain"], 1,
        "a single peel is marked with its chain"
    );
    assert_eq!(steps[0]["from"], SEED);
    assert_eq!(steps[0]["tainted"], "200000000000000000000");
    assert_eq!(steps[1]["to"], KRAKEN);
    assert_eq!(steps[0]["to"], steps[1]["from"]);
    assert_eq!(
        steps[1]["tx"],
        "0x7a4c591179ac54c333ddf55f2f186f97bf640f9fef829b868836e035e0615d3e"
    );
    assert!(steps[0]["block"].as_u64() < steps[1]["block"].as_u64());
    for (k, transfers) in [(1, 2), (2, 3)] {
        let chain = &paths[k]["steps"][1];
        assert_eq!(chain["kind"], "peel_chain");
        assert_eq!(chain["peel_chain"], 1);
        assert_eq!(chain["transfers"], transfers);
        assert_eq!(chain["from"], steps[0]["to"]);
        assert_eq!(chain["to"], KRAKEN);
        assert_eq!(chain["tainted"], "20000000000000000000");
    }
    assert_eq!(v["peel_chains"][0]["id"], 1);
    assert_eq!(v["peel_chains"][0]["steps"], 3);
    assert_eq!(v["manifest"]["parameters"]["policy"], "haircut");
    // --paths 1 keeps the widest only
    let mut c = fundtrail();
    c.args([
        "path", "--seed", SEED, "--policy", "haircut", "--format", "json", "--paths", "1", "--to",
        KRAKEN,
    ])
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels.csv"));
    let one = json_ok(&mut c);
    assert_eq!(one["endpoints"][0]["paths"].as_array().unwrap().len(), 1);
    assert_eq!(one["endpoints"][0]["paths"][0], paths[0]);
    // an address taint never reached is refused by name
    let mut c = fundtrail();
    c.args([
        "path",
        "--seed",
        SEED,
        "--policy",
        "haircut",
        "--to",
        "0x0000000000000000000000000000000000000bad",
    ])
    .arg(fixture("demo"));
    c.assert()
        .failure()
        .stderr(stderr_has(&["0x0000000000000000000000000000000000000bad"]))
        .stderr(no_panic());
}

#[test]
fn csv_written_to_a_file_gets_its_manifest_beside_it() {
    let dir = tempdir();
    let out = dir.path().join("endpoints.csv");
    demo(
        &["--format", "csv", "--out", out.to_str().unwrap()],
        &fixture("demo-labels.csv"),
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        csv.starts_with("rank,address,"),
        "the CSV stays a plain table"
    );
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("endpoints.csv.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["parameters"]["policy"], "haircut");
    let labels = std::fs::read(fixture("demo-labels.csv")).unwrap();
    assert_eq!(
        m["labels"][0]["sha256"],
        hex::encode(Sha256::digest(&labels))
    );
    assert_eq!(m["inputs"].as_array().unwrap().len(), 4);
}

/// Run `c`, which must succeed and name every one of `phases` on stderr
/// as a `--timings` line; its stdout.
fn with_timings(c: &mut assert_cmd::Command, phases: &[&str]) -> Vec<u8> {
    let out = c.arg("--timings").output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    for phase in phases {
        let line = format!("fundtrail: timing: {phase}: ");
        assert!(err.contains(&line), "no {line:?} in {err}");
    }
    out.stdout
}

#[test]
fn timings_name_every_phase_on_stderr_and_change_nothing_on_stdout() {
    let dir = tempdir();
    let store = dir.path().join("demo.ftl");
    let mut c = fundtrail();
    c.args(["ingest", "-o"]).arg(&store).arg(fixture("demo"));
    with_timings(
        &mut c,
        &[
            "ingest",
            "ingest: read + parse + lower (parallel per chunk)",
            "ingest: finish: rank strings + string tables",
            "write the store",
        ],
    );
    let mut c = fundtrail();
    c.args(["trace", "--seed", SEED, "--policy", "haircut"])
        .args(["--format", "json"])
        .arg(&store)
        .arg("--labels")
        .arg(fixture("demo-labels.csv"));
    let timed = with_timings(
        &mut c,
        &[
            "open the store",
            "trace",
            "report",
            "wait for the inputs' sha256",
            "write the output",
        ],
    );
    // the same endpoints as from the exports (timings only add stderr lines)
    let plain = demo(&["--format", "json"], &fixture("demo-labels.csv"));
    let a: serde_json::Value = serde_json::from_str(&plain).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&timed).unwrap();
    assert_eq!(a["endpoints"], b["endpoints"]);
    assert_eq!(a["totals"], b["totals"]);
}
