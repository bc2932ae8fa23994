//! `fundtrail labels` over the real label sources in fixtures/labels.

mod common;
use common::*;

#[test]
fn every_label_source_loads_with_its_counts() {
    let mut c = fundtrail();
    c.args(["labels", "--format", "json"])
        .arg(fixture("labels"));
    let v = json_ok(&mut c);
    // OFAC: 152 ETH + 435 XBT addresses; Etherscan: 63 tornado-cash pools
    // and routers, 28 KuCoin, 188 bridge; GraphSense: 38 Tornado (39 tags,
    // one a trailing-space duplicate, all also in Etherscan's folder but one)
    // and 6 Ronin exploiter addresses (5 also on the OFAC list)
    assert_eq!(v["categories"]["sanctioned"], 587);
    assert_eq!(v["categories"]["exchange"], 28);
    assert_eq!(v["categories"]["bridge"], 188);
    assert_eq!(v["categories"]["hack"], 6);
    assert_eq!(v["categories"]["mixer"], 64);
}

#[test]
fn one_address_shows_every_source() {
    let mut c = fundtrail();
    c.args([
        "labels",
        "--format",
        "json",
        "--address",
        "0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
    ])
    .arg(fixture("labels"));
    let v = json_ok(&mut c);
    let cats: Vec<&str> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["hack", "sanctioned", "sanctioned"]);
    assert_eq!(v["labels"][0]["label"], "Ronin bridge exploiter");
}

#[test]
fn a_missing_label_file_is_an_error_naming_it() {
    let mut c = fundtrail();
    c.args(["labels"]).arg(fixture("nonexistent.yaml"));
    c.assert()
        .code(1)
        .stderr(stderr_has(&["nonexistent.yaml", "No such file"]));
}

#[test]
fn a_tagpack_exchange_label_makes_a_stop_service() {
    // the demo's Binance deposit address, labelled in a TagPack instead of CSV
    let dir = tempdir();
    let pack = write(
        dir.path(),
        "exchanges.yaml",
        "title: demo\ncategory: exchange\ntags:\n- address: '0x62696E616e6365E039637aF0906aEC166b649791'\n  label: Binance deposit\n",
    );
    let mut c = fundtrail();
    c.arg("trace")
        .arg(fixture("demo"))
        .args([
            "--seed",
            "0x6578706c6f69746572626500b45dc71b2a9d5d4b",
            "--policy",
            "haircut",
            "--format",
            "json",
            "--labels",
        ])
        .arg(&pack);
    let v = json_ok(&mut c);
    let binance = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == "0x62696e616e6365e039637af0906aec166b649791")
        .unwrap();
    assert_eq!(binance["kind"], "service");
    assert_eq!(binance["labels"][0]["category"], "exchange");
}
