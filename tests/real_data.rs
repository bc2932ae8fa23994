//! Traces of the real fixtures, with every expected amount worked out by hand
//! from the fixture JSON (the working is in the comment next to each
//! assertion). Amounts are base units: satoshi, wei, token base units.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

const POLICIES: [&str; 5] = ["poison", "haircut", "fifo", "lifo", "tiho"];

/// `trace INPUTS --seed S.. --policy P --format json`, parsed.
fn trace(inputs: &[PathBuf], seeds: &[&str], policy: &str, extra: &[&str]) -> Value {
    let mut c = fundtrail();
    c.arg("trace").args(inputs);
    for s in seeds {
        c.args(["--seed", s]);
    }
    c.args(["--policy", policy, "--format", "json"]).args(extra);
    let v = json_ok(&mut c);
    assert_eq!(v["policy"], policy);
    assert_eq!(v["seeds"], serde_json::json!(seeds));
    v
}

/// The endpoints as (address, asset, tainted, kind, hops), in rank order.
fn endpoints(v: &Value) -> Vec<(String, String, String, String, u64)> {
    let eps = v["endpoints"].as_array().expect("endpoints is an array");
    for (i, e) in eps.iter().enumerate() {
        assert_eq!(e["rank"], i + 1, "endpoints are sorted by rank");
    }
    eps.iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap().to_string(),
                e["asset"].as_str().unwrap().to_string(),
                e["tainted"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["hops"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The endpoints of one asset as (address, tainted).
fn endpoints_of(v: &Value, asset: &str) -> Vec<(String, String)> {
    endpoints(v)
        .into_iter()
        .filter(|e| e.1 == asset)
        .map(|e| (e.0, e.2))
        .collect()
}

/// One asset's totals: [seeded, held, absorbed, fees, below_threshold].
fn totals(v: &Value, asset: &str) -> [String; 5] {
    let t = &v["totals"][asset];
    assert!(t.is_object(), "no totals for {asset}: {v}");
    ["seeded", "held", "absorbed", "fees", "below_threshold"].map(|k| {
        t[k].as_str()
            .unwrap_or_else(|| panic!("{k} is a string"))
            .to_string()
    })
}

/// `seeded == held + absorbed + fees + below_threshold`, exactly (SPEC §3),
/// and the report says so, for every policy but poison.
fn check_conservation(v: &Value) {
    let conserves = v["policy"] != "poison";
    for (asset, t) in v["totals"].as_object().unwrap() {
        let n = |k: &str| t[k].as_str().unwrap().parse::<u128>().unwrap();
        if conserves {
            assert_eq!(
                n("seeded"),
                n("held") + n("absorbed") + n("fees") + n("below_threshold"),
                "{asset}"
            );
            assert_eq!(t["conserved"], true, "{asset}");
        } else {
            assert_eq!(t["conserved"], false, "{asset}");
        }
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

// -------------------------------------------------- Bitcoin blocks 50001-2

const DOQE: &str = "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae";
const PZMG: &str = "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9";
const DXBN: &str = "18dxbN6m8zxieN8F9BchXmhbeXUdFLr8fD";
const HAHT: &str = "1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ";

/// Blocks 50001-50002 as bitcoin-etl (inputs enriched) and as Core RPC
/// (`getblock` of both blocks plus `getrawtransaction` of the three coinbases
/// that block 50001 spends).
fn btc_sources() -> [(&'static str, Vec<PathBuf>); 2] {
    [
        (
            "bitcoin-etl",
            vec![fixture("bitcoin-etl/bitcoin/stream_50001_50002")],
        ),
        ("bitcoin-rpc", vec![fixture("bitcoin-rpc/bitcoin")]),
    ]
}

#[test]
fn bitcoin_50001_one_seed_every_policy() {
    // Block 50001, tx 7940cdde..455a (index 1) spends two 50 BTC coinbase
    // outputs, input 0 = 76a8d70a..:0 owned by 1DoQe.. (5000000000 sat) and
    // input 1 = 0dd0394c..:0 owned by 1PZMg.. (5000000000 sat), into one
    // output 0 to 1HaHT.. of 10000000000 sat. Fee = 10000000000 - 10000000000
    // = 0. 1DoQe.. appears nowhere else in the two blocks.
    //
    // Seed 1DoQe..: it holds 5000000000 tainted (its own output, before the
    // sample in bitcoin-etl, the coinbase 76a8d70a.. in RPC) => seeded
    // 5000000000. Inputs V = 10000000000, T = 5000000000.
    //   poison:  a tainted input taints the whole output: 1HaHT.. 10000000000
    //            (held 10000000000 > seeded: poison does not conserve).
    //   haircut: floor(10000000000 * 5000000000 / 10000000000) = 5000000000;
    //            fee bucket gets the remainder 5000000000 - 5000000000 = 0.
    //   fifo:    chunks [5000000000 tainted, 5000000000 clean]; the output
    //            takes 10000000000 from the front = 5000000000 tainted.
    //   lifo:    from the back: the same two chunks, 5000000000 tainted.
    //   tiho:    taint to the highest output first: min(10000000000,
    //            5000000000) = 5000000000.
    // Seed 1PZMg.. (input 1) is the mirror image: the same amounts.
    for (name, inputs) in btc_sources() {
        for seed in [DOQE, PZMG] {
            for policy in POLICIES {
                let v = trace(&inputs, &[seed], policy, &[]);
                let want = if policy == "poison" {
                    "10000000000"
                } else {
                    "5000000000"
                };
                assert_eq!(
                    endpoints(&v),
                    vec![(s(HAHT), s("BTC"), s(want), s("holding"), 1)],
                    "{name} {seed} {policy}"
                );
                assert_eq!(
                    totals(&v, "BTC"),
                    [s("5000000000"), s(want), s("0"), s("0"), s("0")],
                    "{name} {seed} {policy}"
                );
                check_conservation(&v);
                assert_eq!(v["warnings"], serde_json::json!([]), "{name}");
            }
        }
    }
}

#[test]
fn bitcoin_50001_two_seeds_every_policy() {
    // Seeds 1DoQe.. and 18dxbN..: 1DoQe.. as above (5000000000 into
    // 7940cdde..), and 18dxbN.. owns 0d37522b..:0 (5000000000 sat), spent
    // whole by f8476145..c60a (index 2) into one output to 1HaHT.. of
    // 5000000000 (fee 5000000000 - 5000000000 = 0).
    // seeded = 5000000000 + 5000000000 = 10000000000.
    //   non-poison: 1HaHT.. gets 5000000000 (7940cdde.., as above)
    //               + 5000000000 (f8476145.., fully tainted) = 10000000000.
    //   poison:     10000000000 (all of 7940cdde..) + 5000000000 = 15000000000.
    for (name, inputs) in btc_sources() {
        for policy in POLICIES {
            let v = trace(&inputs, &[DOQE, DXBN], policy, &[]);
            let want = if policy == "poison" {
                "15000000000"
            } else {
                "10000000000"
            };
            assert_eq!(
                endpoints(&v),
                vec![(s(HAHT), s("BTC"), s(want), s("holding"), 1)],
                "{name} {policy}"
            );
            assert_eq!(
                totals(&v, "BTC"),
                [s("10000000000"), s(want), s("0"), s("0"), s("0")],
                "{name} {policy}"
            );
            check_conservation(&v);
        }
    }
}

#[test]
fn bitcoin_50001_etl_and_rpc_give_identical_endpoints_and_totals() {
    let [(_, etl), (_, rpc)] = btc_sources();
    for seeds in [vec![DOQE], vec![PZMG], vec![DOQE, DXBN], vec![DXBN, PZMG]] {
        for policy in POLICIES {
            let a = trace(&etl, &seeds, policy, &[]);
            let b = trace(&rpc, &seeds, policy, &[]);
            assert_eq!(a["endpoints"], b["endpoints"], "{seeds:?} {policy}");
            assert_eq!(a["totals"], b["totals"], "{seeds:?} {policy}");
        }
    }
}

#[test]
fn bitcoin_50001_unenriched_export_seed_tx() {
    // block_with_transactions has the same four transactions with inputs NOT
    // enriched (`addresses: []`, `value: null`): 7940cdde.. has 2 such inputs,
    // f8476145.. 1, so 3 inputs of unknown value, taken as clean.
    let inputs = vec![fixture("bitcoin-etl/bitcoin/block_with_transactions")];
    // Seeding the theft transaction 7940cdde..: every amount it moves is
    // tainted where it lands: its one output, 10000000000 sat to 1HaHT..
    // Its unknown inputs balance it with zero fee: max(0, 10000000000 - 0).
    for policy in POLICIES {
        let mut c = fundtrail();
        c.arg("trace").args(&inputs).args([
            "--seed-tx",
            "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a",
            "--policy",
            policy,
            "--format",
            "json",
        ]);
        let v = json_ok(&mut c);
        assert_eq!(
            endpoints(&v),
            vec![(s(HAHT), s("BTC"), s("10000000000"), s("holding"), 1)],
            "{policy}"
        );
        assert_eq!(totals(&v, "BTC")[0], "10000000000");
        assert_eq!(totals(&v, "BTC")[3], "0");
        assert_eq!(
            v["warnings"],
            serde_json::json!([
                "3 UTXO inputs of unknown value (spent outputs not in the sample) were taken as clean"
            ])
        );
    }
    // Without enrichment, the spender 1DoQe.. is not in this export at all.
    fundtrail()
        .arg("trace")
        .args(&inputs)
        .args(["--seed", DOQE, "--policy", "haircut"])
        .assert()
        .code(1)
        .stderr(stderr_has(&[&format!(
            "none of the seeds appear in the ledger ({DOQE})"
        )]));
}

// ------------------------------------------------------- native example

const N1: &str = "0x1111111111111111111111111111111111111111";
const N2: &str = "0x2222222222222222222222222222222222222222";
const N3: &str = "0x3333333333333333333333333333333333333333";
const USDT: &str = "0xdac17f958d2ee523a2206206994597c13d831ec7";

#[test]
fn native_example_three_seeds_every_policy() {
    // fixtures/native/example.jsonl:
    //   block 100 tx 0: 0x1111.. -> 0x2222.. 1000000000000000000 wei, then
    //                   0x1111.. pays fee 21000000000000 wei
    //   block 100 tx 1: 0x2222.. -> 0x3333.. 250000000 USDT base units
    //                   (asset 0xdAC17F.. stored lower-case)
    //   block 100 tx 2: mint 2000000000000000000 wei to 0x4444.. (clean)
    //   BTC block 7: coinbase 5000000000 sat to 1Alice
    //   BTC block 8: 1Alice's 5000000000 -> 1Bob 4000000000,
    //                "1Carol,1Dave" 999990000; fee 5000000000 - 4000000000
    //                - 999990000 = 10000.
    // Seeds 0x1111.., 0x2222.., 1Alice:
    //   ETH: 0x1111.. has no history, so each debit's shortfall is its own,
    //        tainted (a seed): seeded 1000000000000000000 + 21000000000000 =
    //        1000021000000000000. 0x2222.. is a seed, so the 1 ETH arrives
    //        already tainted and is not counted again; it stays there
    //        (endpoint, hops 0). fees 21000000000000.
    //   USDT: 0x2222.. sends 250000000 it never received in the sample:
    //        tainted shortfall, seeded 250000000, all at 0x3333.. (hops 1).
    //   BTC: the coinbase makes 5000000000 for the seed 1Alice (seeded); the
    //        spend is all tainted under every policy (one all-tainted input):
    //        1Bob 4000000000, 1Carol,1Dave 999990000, fees 10000.
    // Rank by share of the seeded total: 250000000/250000000 = 1,
    // 1e18/1000021e12 = 0.99998, 4000000000/5000000000 = 0.8,
    // 999990000/5000000000 = 0.199998.
    let inputs = vec![fixture("native/example.jsonl")];
    for policy in POLICIES {
        let v = trace(&inputs, &[N1, N2, "1Alice"], policy, &[]);
        assert_eq!(
            endpoints(&v),
            vec![
                (s(N3), s(USDT), s("250000000"), s("holding"), 1),
                (s(N2), s("ETH"), s("1000000000000000000"), s("holding"), 0),
                (s("1Bob"), s("BTC"), s("4000000000"), s("holding"), 1),
                (s("1Carol,1Dave"), s("BTC"), s("999990000"), s("holding"), 1),
            ],
            "{policy}"
        );
        assert_eq!(
            totals(&v, "ETH"),
            [
                s("1000021000000000000"),
                s("1000000000000000000"),
                s("0"),
                s("21000000000000"),
                s("0")
            ],
            "{policy}"
        );
        assert_eq!(
            totals(&v, USDT),
            [s("250000000"), s("250000000"), s("0"), s("0"), s("0")],
            "{policy}"
        );
        assert_eq!(
            totals(&v, "BTC"),
            [s("5000000000"), s("4999990000"), s("0"), s("10000"), s("0")],
            "{policy}"
        );
        check_conservation(&v);
    }
}

#[test]
fn native_example_exchange_absorbs() {
    // As above with 0x3333.. labelled an exchange (a stop service by
    // default): the 250000000 USDT that reaches it is absorbed there
    // (kind `service`), held 0.
    let d = tempdir();
    let labels = write(
        d.path(),
        "labels.csv",
        format!("address,category,label\n{N3},exchange,Example Exchange\n"),
    );
    let inputs = vec![fixture("native/example.jsonl")];
    for policy in POLICIES {
        let v = trace(
            &inputs,
            &[N2],
            policy,
            &["--labels", labels.to_str().unwrap()],
        );
        // Seed 0x2222.. alone: it receives 1000000000000000000 wei from
        // 0x1111.. (taint turns on there: seeded) and keeps it (hops 0);
        // its 250000000 USDT go to the exchange. Both are 100% of their
        // asset's seeded total; the exchange ranks first (actionable).
        assert_eq!(
            endpoints(&v),
            vec![
                (s(N3), s(USDT), s("250000000"), s("service"), 1),
                (s(N2), s("ETH"), s("1000000000000000000"), s("holding"), 0),
            ],
            "{policy}"
        );
        assert_eq!(v["endpoints"][0]["labels"][0]["category"], "exchange");
        assert_eq!(v["endpoints"][0]["score"], 1.0);
        assert_eq!(v["endpoints"][1]["score"], 0.5);
        assert_eq!(v["endpoints"][0]["labels"][0]["label"], "Example Exchange");
        assert_eq!(
            totals(&v, USDT),
            [s("250000000"), s("0"), s("250000000"), s("0"), s("0")],
            "{policy}"
        );
        assert_eq!(
            totals(&v, "ETH"),
            [
                s("1000000000000000000"),
                s("1000000000000000000"),
                s("0"),
                s("0"),
                s("0")
            ],
            "{policy}"
        );
        check_conservation(&v);
    }
}

// ------------------------------------- Ethereum blocks 17173049-17173050

const ETH_TXS: &str = "ethereum-etl/blocks_17173049_17173050_transactions.json";
const ETH_TOKENS: &str = "ethereum-etl/blocks_17173049_17173050_token_transfers.json";

fn eth_inputs() -> Option<Vec<PathBuf>> {
    let files = vec![fixture(ETH_TXS), fixture(ETH_TOKENS)];
    if files.iter().all(|f| f.is_file()) {
        Some(files)
    } else {
        eprintln!("skipped: the ethereum-etl fixtures are not there");
        None
    }
}

#[test]
fn ethereum_seed_0x3cd751_eth_to_four_recipients() {
    let Some(inputs) = eth_inputs() else { return };
    // 0x3cd751e6.. sends ETH four times in block 17173050 and receives none
    // (no ETH in, no token transfers); every receipt_status is 1 and every
    // recipient sends no ETH in the sample:
    //   idx  98 0x3548e5c9.. -> 0x0e6aff6b.. value 151464660000000000
    //   idx 102 0x15904583.. -> 0x7965d174.. value   4719056000000000
    //   idx 103 0x3d047815.. -> 0xbec38b34.. value   1361740000000000
    //   idx 107 0xd18bce12.. -> 0xe806d7b7.. value   6770110000000000
    // each receipt_gas_used 21000 * receipt_effective_gas_price 78334732501
    //   = 1645029382521000 wei; 4 fees = 6580117530084000.
    // Everything the seed sends is tainted (missing history of a seed), so
    //   seeded = 164315566000000000 (values) + 6580117530084000 (fees)
    //          = 170895683530084000; held = 164315566000000000.
    // Every policy agrees here (the seed's whole balance is tainted).
    let seed = "0x3cd751e6b0078be393132286c442345e5dc49699";
    for policy in POLICIES {
        let v = trace(&inputs, &[seed], policy, &[]);
        assert_eq!(
            endpoints(&v),
            vec![
                (
                    s("0x0e6aff6b4dbfa81fd71d2f94debdc675365fc5f6"),
                    s("ETH"),
                    s("151464660000000000"),
                    s("holding"),
                    1
                ),
                (
                    s("0xe806d7b7dfa8657cb8265f01ec8905706e6dd474"),
                    s("ETH"),
                    s("6770110000000000"),
                    s("holding"),
                    1
                ),
                (
                    s("0x7965d17409462603889290eb2b24b245766c8931"),
                    s("ETH"),
                    s("4719056000000000"),
                    s("holding"),
                    1
                ),
                (
                    s("0xbec38b34bdcb2eeab93a76aed0a2e85d367550ea"),
                    s("ETH"),
                    s("1361740000000000"),
                    s("holding"),
                    1
                ),
            ],
            "{policy}"
        );
        assert_eq!(
            totals(&v, "ETH"),
            [
                s("170895683530084000"),
                s("164315566000000000"),
                s("0"),
                s("6580117530084000"),
                s("0")
            ],
            "{policy}"
        );
        check_conservation(&v);
    }
    // EVM addresses match in any case
    let upper = trace(
        &inputs,
        &["0x3CD751E6B0078BE393132286C442345E5DC49699"],
        "haircut",
        &[],
    );
    let lower = trace(&inputs, &[seed], "haircut", &[]);
    assert_eq!(upper["endpoints"], lower["endpoints"]);
    assert_eq!(upper["totals"], lower["totals"]);
}

#[test]
fn ethereum_seed_0xae2fc4_fees_at_four_gas_prices() {
    let Some(inputs) = eth_inputs() else { return };
    // 0xae2fc483.. sends ETH four times to 0x6b75d8af.. (which sends no ETH
    // in the sample), each with its own gas:
    //   17173049 idx 0 0xeb107a40.. value 1642894143 gas 85143 * 80869370967
    //                  = 6885460852243281
    //   17173049 idx 2 0xfb6562bc.. value 1697698321 gas 75370 * 3031354143574
    //                  = 228473161801172380
    //   17173050 idx 3 0xa0d65880.. value 1283425589 gas 76421 * 77334732501
    //                  = 5909997592458921
    //   17173050 idx 5 0xd801359c.. value 1271470930 gas 75978 * 587255507926
    //                  = 44618498981201628
    // values: 1642894143 + 1697698321 + 1283425589 + 1271470930 = 5895488983
    // fees:   6885460852243281 + 228473161801172380 + 5909997592458921
    //         + 44618498981201628 = 285887119227076210
    // seeded = 5895488983 + 285887119227076210 = 285887125122565193.
    let v = trace(
        &inputs,
        &["0xae2fc483527b8ef99eb5d9b44875f005ba1fae13"],
        "haircut",
        &[],
    );
    assert_eq!(
        endpoints(&v),
        vec![(
            s("0x6b75d8af000000e20b7a7ddf000ba900b4009a80"),
            s("ETH"),
            s("5895488983"),
            s("holding"),
            1
        )]
    );
    assert_eq!(
        totals(&v, "ETH"),
        [
            s("285887125122565193"),
            s("5895488983"),
            s("0"),
            s("285887119227076210"),
            s("0")
        ]
    );
    check_conservation(&v);
}

#[test]
fn ethereum_erc20_token_above_2_pow_64() {
    let Some(inputs) = eth_inputs() else { return };
    // Seed 0x7e3651ed.. (it sends no ETH). Token 0xd87d7224.. (named by its
    // contract address): the seed sends it twice and never receives it, and
    // neither recipient sends it on:
    //   block 17173049 log 165 (tx 0xb559b702..) -> 0x2d2e7976..
    //                                            3181817370169481489040062
    //   block 17173050 log 251 (tx 0x2590db36..) -> 0x7aea41e5..
    //                                           34402975940539260825628246
    //   seeded = 3181817370169481489040062 + 34402975940539260825628246
    //          = 37584793310708742314668308 (all above 2^64).
    // It also receives WETH 0xc02aaa39..: 163431800996002843 (log 162) +
    //   1780198792724976146 (log 250) = 1943630593720978989, tainted on
    //   arrival at a seed and still there (hops 0).
    let seed = "0x7e3651eddcaaa8a50a2d11000c75cad27f3a5910";
    let token = "0xd87d72248093597df8d56d2a53c1ab7c1a0cc8da";
    let weth = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2";
    for policy in POLICIES {
        let v = trace(&inputs, &[seed], policy, &[]);
        assert_eq!(
            endpoints_of(&v, token),
            vec![
                (
                    s("0x7aea41e5216a732fd10f183fd2783f309a9930c5"),
                    s("34402975940539260825628246")
                ),
                (
                    s("0x2d2e797653ae7f644e7e23041576627c5dd96cee"),
                    s("3181817370169481489040062")
                ),
            ],
            "{policy}"
        );
        assert_eq!(
            totals(&v, token),
            [
                s("37584793310708742314668308"),
                s("37584793310708742314668308"),
                s("0"),
                s("0"),
                s("0")
            ],
            "{policy}"
        );
        assert_eq!(
            endpoints_of(&v, weth),
            vec![(s(seed), s("1943630593720978989"))],
            "{policy}"
        );
        assert!(endpoints_of(&v, "ETH").is_empty(), "{policy}");
        check_conservation(&v);
    }
}

// -------------------------------------------------------------------- stats

#[test]
fn stats_counts_of_the_fixtures() {
    // native example: 4 account records (transfer ETH, fee, transfer USDT,
    // mint), 2 UTXO transactions with 1 input and 1 + 2 outputs; 7 records
    // (the `asset` record carries no movement); addresses 0x1111.., 0x2222..,
    // 0x3333.., 0x4444.., 1Alice, 1Bob, "1Carol,1Dave" = 7.
    // ETH volume 1000000000000000000 + 21000000000000 + 2000000000000000000
    //   = 3000021000000000000; BTC: outputs 5000000000 + 4000000000
    //   + 999990000 = 9999990000.
    let v = json_ok(
        fundtrail()
            .arg("stats")
            .arg(fixture("native/example.jsonl"))
            .args(["--format", "json"]),
    );
    assert_eq!(v["account_movements"], 4);
    assert_eq!(v["utxo_transactions"], 2);
    assert_eq!(v["utxo_inputs"], 1);
    assert_eq!(v["utxo_outputs"], 3);
    assert_eq!(v["addresses"], 7);
    assert_eq!(v["duplicates"], 0);
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["records"]["fundtrail"], 7);
    assert_eq!(v["assets"]["ETH"]["movements"], 3);
    assert_eq!(v["assets"]["ETH"]["volume"], "3000021000000000000");
    assert_eq!(v["assets"]["BTC"]["transactions"], 2);
    assert_eq!(v["assets"]["BTC"]["volume"], "9999990000");
    assert_eq!(v["assets"][USDT]["movements"], 1);
    assert_eq!(v["blocks"], serde_json::json!({"first": 7, "last": 100}));

    // bitcoin-etl blocks 50001-50002: 4 transactions, 3 inputs, 4 outputs
    // (50 + 100 + 50 + 50 BTC = 25000000000 sat), addresses 1PkqK.., 1DoQe..,
    // 1PZMg.., 18dxbN.., 1HaHT.., 1CvMv.. = 6.
    let v = json_ok(
        fundtrail()
            .arg("stats")
            .arg(fixture("bitcoin-etl/bitcoin/stream_50001_50002"))
            .args(["--format", "json"]),
    );
    assert_eq!(v["utxo_transactions"], 4);
    assert_eq!(v["utxo_inputs"], 3);
    assert_eq!(v["utxo_outputs"], 4);
    assert_eq!(v["addresses"], 6);
    assert_eq!(v["assets"]["BTC"]["volume"], "25000000000");
    assert_eq!(v["duplicates"], 0);
    assert_eq!(v["unknown_value_inputs"], 0);
    assert_eq!(
        v["blocks"],
        serde_json::json!({"first": 50001, "last": 50002})
    );

    // the same blocks read twice: every record is a duplicate
    let dir = fixture("bitcoin-etl/bitcoin/stream_50001_50002");
    let v = json_ok(
        fundtrail()
            .arg("stats")
            .arg(&dir)
            .arg(dir.join("expected_transactions.json"))
            .args(["--format", "json"]),
    );
    assert_eq!(v["utxo_transactions"], 4);
    assert_eq!(v["duplicates"], 4);
    assert_eq!(v["records"]["bitcoin-etl"], 8);

    let Some(inputs) = eth_inputs() else { return };
    // ethereum-etl blocks 17173049-17173050: 298 transactions, 9 failed
    // (status 0: no value moves, the fee is paid). ETH movements: 127 value
    // transfers (status 1 and value > 0) + 298 fees (all have receipts, all
    // non-zero) = 425. Token movements: 291 transfers - 3 of value 0
    // (token 0xeebc1b0e..) = 288. Total 425 + 288 = 713. ETH volume: sum of
    // those values + sum of gas_used * effective_gas_price =
    // 84609133783046580294. 589 records, no duplicates.
    let v = json_ok(
        fundtrail()
            .arg("stats")
            .args(&inputs)
            .args(["--format", "json"]),
    );
    assert_eq!(v["account_movements"], 713);
    assert_eq!(v["utxo_transactions"], 0);
    assert_eq!(v["assets"]["ETH"]["movements"], 425);
    assert_eq!(v["assets"]["ETH"]["volume"], "84609133783046580294");
    assert_eq!(v["records"]["ethereum-etl"], 589);
    assert_eq!(v["duplicates"], 0);
    assert_eq!(v["unknown_fee_transactions"], 0);
    assert_eq!(
        v["blocks"],
        serde_json::json!({"first": 17173049, "last": 17173050})
    );
    assert_eq!(
        v["time"],
        serde_json::json!({"first": 1683029999u64, "last": 1683030011u64})
    );
}
