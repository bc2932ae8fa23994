//! The worked example of the literature, per policy, and hand-checked UTXO
//! cases. Amounts are exact; every non-poison case checks conservation.

use super::*;
use crate::ingest::raw::{Raw, RawMove};
use crate::model::MoveKind;

const COIN: u128 = 100_000_000;

fn mv(block: u64, from: Option<&str>, to: Option<&str>, amount: u128) -> Raw {
    Raw::Move(RawMove {
        tx_hash: Some(format!("t{block}")),
        block,
        time: block * 10,
        tx_index: 0,
        seq: 0,
        from: from.map(String::from),
        to: to.map(String::from),
        asset: "ETH".into(),
        amount,
        kind: if to.is_none() {
            MoveKind::Fee
        } else {
            MoveKind::Native
        },
    })
}

fn ledger(raws: Vec<Raw>) -> Ledger {
    crate::ingest::build::ledger_of(raws)
}

fn trace(l: &Ledger, policy: Policy, seeds: &[&str], stops: &[&str], min: u128) -> TraceResult {
    let plan = TracePlan {
        policy: Some(policy),
        seeds: seeds
            .iter()
            .map(|s| l.addr_id(s).expect("seed in ledger"))
            .collect(),
        stops: stops
            .iter()
            .map(|s| l.addr_id(s).expect("stop in ledger"))
            .collect(),
        min_taint: min,
        ..Default::default()
    };
    let r = run(l, &plan);
    if policy.conserves() {
        for t in r.totals.values() {
            assert!(t.conserved(), "{policy:?} does not conserve: {t:?}");
        }
    }
    r
}

fn held(l: &Ledger, r: &TraceResult, addr: &str) -> u128 {
    let id = l.addr_id(addr).unwrap();
    r.endpoints
        .iter()
        .filter(|e| e.addr == id)
        .map(|e| e.tainted)
        .sum()
}

/// `a` receives 3 stolen coins from the thief, then 7 clean ones, then pays
/// 5 to `x` and 5 to `y`.
fn worked_example() -> Ledger {
    ledger(vec![
        mv(1, Some("thief"), Some("a"), 3 * COIN),
        mv(2, Some("clean"), Some("a"), 7 * COIN),
        mv(3, Some("a"), Some("x"), 5 * COIN),
        mv(4, Some("a"), Some("y"), 5 * COIN),
    ])
}

#[test]
fn worked_example_poison_taints_all_ten() {
    let l = worked_example();
    let r = trace(&l, Policy::Poison, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 5 * COIN);
    assert_eq!(held(&l, &r, "y"), 5 * COIN);
    assert_eq!(held(&l, &r, "a"), 0);
}

#[test]
fn worked_example_haircut_carries_thirty_percent_of_each_payment() {
    let l = worked_example();
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 15 * COIN / 10);
    assert_eq!(held(&l, &r, "y"), 15 * COIN / 10);
    let t = r.totals.values().next().unwrap();
    assert_eq!(t.seeded, 3 * COIN); // the thief's missing history
    assert_eq!(t.held, 3 * COIN);
}

#[test]
fn worked_example_fifo_sends_the_first_three_coins_out() {
    let l = worked_example();
    let r = trace(&l, Policy::Fifo, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 3 * COIN);
    assert_eq!(held(&l, &r, "y"), 0);
}

#[test]
fn worked_example_lifo_sends_the_newest_coins_first() {
    let l = worked_example();
    let r = trace(&l, Policy::Lifo, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 0);
    assert_eq!(held(&l, &r, "y"), 3 * COIN);
}

#[test]
fn worked_example_tiho_sends_taint_first() {
    let l = worked_example();
    let r = trace(&l, Policy::Tiho, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 3 * COIN);
    assert_eq!(held(&l, &r, "y"), 0);
}

#[test]
fn haircut_rounds_down_and_the_remainder_stays() {
    // a holds 1 tainted + 2 clean; pays 1: floor(1*1/3) = 0 carried
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), 1),
        mv(2, Some("c"), Some("a"), 2),
        mv(3, Some("a"), Some("x"), 1),
    ]);
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 0);
    assert_eq!(held(&l, &r, "a"), 1);
}

#[test]
fn haircut_is_exact_past_128_bits() {
    // 10^30 tainted and 2*10^30 clean: the product x*T is ~10^60
    let e30 = 10u128.pow(30);
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), e30),
        mv(2, Some("c"), Some("a"), 2 * e30),
        mv(3, Some("a"), Some("x"), 3 * e30 - 1),
    ]);
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 0);
    // floor((3e30-1) * 1e30 / 3e30) = 1e30 - 1
    assert_eq!(held(&l, &r, "x"), e30 - 1);
    assert_eq!(held(&l, &r, "a"), 1);
}

#[test]
fn missing_history_is_clean_and_older_than_the_sample() {
    // a spends 10 but the sample shows only 4 tainted arriving: 6 were
    // already there, clean and oldest. FIFO takes them first.
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), 4),
        mv(2, Some("a"), Some("x"), 6),
        mv(3, Some("a"), Some("y"), 4),
    ]);
    // x's 6 reveal a shortfall of 2 (balance 4): FIFO takes the 2 missing
    // (clean, front) then 4 tainted
    let r = trace(&l, Policy::Fifo, &["thief"], &[], 0);
    assert_eq!(held(&l, &r, "x"), 4);
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 0);
    // haircut: B = 6 after the shortfall, T = 4: x gets floor(6*4/6) = 4
    assert_eq!(held(&l, &r, "x"), 4);
    // y's 4 is all missing history, clean
    assert_eq!(held(&l, &r, "y"), 0);
}

#[test]
fn stop_services_absorb_and_pass_nothing_on() {
    let l = ledger(vec![
        mv(1, Some("thief"), Some("exch"), 5),
        mv(2, Some("exch"), Some("z"), 5),
    ]);
    let r = trace(&l, Policy::Haircut, &["thief"], &["exch"], 0);
    let t = r.totals.values().next().unwrap();
    assert_eq!((t.seeded, t.absorbed, t.held), (5, 5, 0));
    assert_eq!(held(&l, &r, "z"), 0);
    let e = r
        .endpoints
        .iter()
        .find(|e| e.kind == EndpointKind::Service)
        .unwrap();
    assert_eq!((l.address(e.addr), e.tainted, e.hops), ("exch", 5, 1));
}

#[test]
fn taint_below_the_threshold_is_counted_not_followed() {
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), 100),
        mv(2, Some("a"), Some("x"), 3),
        mv(3, Some("a"), Some("y"), 97),
    ]);
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 5);
    let t = r.totals.values().next().unwrap();
    assert_eq!((t.below_threshold, t.held), (3, 97));
    assert_eq!(held(&l, &r, "x"), 0);
}

#[test]
fn fees_are_paid_from_the_tainted_share() {
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), 10),
        mv(2, Some("a"), None, 2),
    ]);
    let r = trace(&l, Policy::Haircut, &["thief"], &[], 0);
    let t = r.totals.values().next().unwrap();
    assert_eq!((t.seeded, t.fees, t.held), (10, 2, 8));
}

#[test]
fn hops_count_transfers_from_the_seed() {
    let l = ledger(vec![
        mv(1, Some("thief"), Some("a"), 10),
        mv(2, Some("a"), Some("b"), 10),
        mv(3, Some("b"), Some("c"), 10),
    ]);
    let r = trace(&l, Policy::Poison, &["thief"], &[], 0);
    let c = r
        .endpoints
        .iter()
        .find(|e| l.address(e.addr) == "c")
        .unwrap();
    assert_eq!(c.hops, 3);
}

use crate::ingest::build::utx;

/// The thief's coinbase 3 and a clean 7 are spent together into 6 + 3, fee 1.
fn utxo_example() -> Ledger {
    ledger(vec![
        utx("c1", 1, &[], &[("thief", 3)]),
        utx("c2", 2, &[], &[("clean", 7)]),
        utx("s", 3, &[("c1", 0), ("c2", 0)], &[("x", 6), ("y", 3)]),
    ])
}

#[test]
fn utxo_policies_split_inputs_over_outputs() {
    let l = utxo_example();
    let case = |p: Policy| {
        let r = trace(&l, p, &["thief"], &[], 0);
        let fees = r.totals.values().next().unwrap().fees;
        (held(&l, &r, "x"), held(&l, &r, "y"), fees)
    };
    // poison: everything
    assert_eq!(case(Policy::Poison), (6, 3, 1));
    // haircut: floor(6*3/10)=1, floor(3*3/10)=0, fee takes the remaining 2
    assert_eq!(case(Policy::Haircut), (1, 0, 2));
    // fifo: pool [3 tainted, 7 clean]: x takes the 3 tainted
    assert_eq!(case(Policy::Fifo), (3, 0, 0));
    // lifo: x takes 6 from the back (clean), y takes 1 clean + 2 tainted, fee 1 tainted
    assert_eq!(case(Policy::Lifo), (0, 2, 1));
    // tiho: the highest output (x, 6) takes all 3
    assert_eq!(case(Policy::Tiho), (3, 0, 0));
}

#[test]
fn utxo_seed_tx_taints_every_output_and_the_fee() {
    let l = utxo_example();
    let plan = TracePlan {
        policy: Some(Policy::Haircut),
        seed_txs: vec![l.tx_id("s").unwrap()],
        ..Default::default()
    };
    let r = run(&l, &plan);
    let t = r.totals.values().next().unwrap();
    assert_eq!((t.seeded, t.held, t.fees), (10, 9, 1));
    assert!(t.conserved());
}

#[test]
fn utxo_unknown_inputs_balance_the_transaction() {
    // an input spending an output not in the sample, with no value given
    let l = ledger(vec![utx("s", 3, &[("gone", 0), ("gone2", 1)], &[("x", 5)])]);
    assert_eq!(l.info.unknown_value_inputs, 2);
    let r = trace(&l, Policy::Haircut, &["x"], &[], 0);
    let t = r.totals.values().next().unwrap();
    // x is a seed: it receives 5, all tainted from the moment it lands
    assert_eq!((t.seeded, t.held, t.fees), (5, 5, 0));
    assert_eq!(r.unknown_value_inputs, 2);
}

/// A Whirlpool-shaped CoinJoin: the thief's coin (via x) and four clean
/// coins of 1_010_000 each pay five 1_000_000 outputs, fee 50_000.
fn coinjoin_example() -> Ledger {
    coinjoin_and(Vec::new())
}

/// [`coinjoin_example`] and more records.
fn coinjoin_and(more: Vec<Raw>) -> Ledger {
    let mut raws = vec![utx("c0", 1, &[], &[("thief", 1_010_000)])];
    raws.push(utx("tx", 2, &[("c0", 0)], &[("x", 1_010_000)]));
    for k in 1..5 {
        raws.push(utx(
            &format!("c{k}"),
            1,
            &[],
            &[(&format!("u{k}"), 1_010_000)],
        ));
    }
    let ins: Vec<(String, u32)> = std::iter::once(("tx".to_string(), 0))
        .chain((1..5).map(|k| (format!("c{k}"), 0)))
        .collect();
    let outs: Vec<String> = (0..5).map(|k| format!("mix{k}")).collect();
    raws.push(utx(
        "cj",
        3,
        &ins.iter()
            .map(|(t, n)| (t.as_str(), *n))
            .collect::<Vec<_>>(),
        &outs
            .iter()
            .map(|o| (o.as_str(), 1_000_000))
            .collect::<Vec<_>>(),
    ));
    raws.extend(more);
    ledger(raws)
}

#[test]
fn coinjoin_pass_flags_the_outputs_and_stop_absorbs_at_the_input() {
    let l = coinjoin_example();
    let found = crate::heuristics::coinjoin::detect_all(&l);
    assert_eq!(found.len(), 1);
    let plan = |stop: bool| TracePlan {
        policy: Some(Policy::Haircut),
        seeds: vec![l.addr_id("thief").unwrap()],
        coinjoins: Some(std::sync::Arc::new(CoinJoins::new(&found, stop))),
        ..Default::default()
    };
    // pass: each output floor(1_000_000 * 1_010_000 / 5_050_000) = 200_000,
    // the fee the other 10_000; every output says it came through the join
    let r = run(&l, &plan(false));
    let t = r.totals.values().next().unwrap();
    assert!(t.conserved());
    assert_eq!((t.held, t.fees, t.absorbed), (1_000_000, 10_000, 0));
    assert_eq!(r.endpoints.len(), 5);
    for e in &r.endpoints {
        assert_eq!(e.tainted, 200_000);
        let c = e.coinjoin.expect("through the CoinJoin");
        assert_eq!((l.txid(c.tx), c.confidence_ppm), ("cj", 950_000));
        // all of its taint crossed the join
        assert_eq!(c.taint, 200_000);
    }
    // mix0 then joins its coin with a tainted coin that never crossed a
    // CoinJoin: the output says how much of its taint did, in proportion
    // 1_000_000 (200_000 tainted, all crossed) + 300_000 (tainted)
    let l2 = coinjoin_and(vec![
        utx("c9", 1, &[], &[("thief", 300_000)]),
        utx("both", 4, &[("cj", 0), ("c9", 0)], &[("end", 1_300_000)]),
    ]);
    let found = crate::heuristics::coinjoin::detect_all(&l2);
    let r = run(
        &l2,
        &TracePlan {
            policy: Some(Policy::Haircut),
            seeds: vec![l2.addr_id("thief").unwrap()],
            coinjoins: Some(std::sync::Arc::new(CoinJoins::new(&found, false))),
            ..Default::default()
        },
    );
    let end = r
        .endpoints
        .iter()
        .find(|e| l2.address(e.addr) == "end")
        .expect("end holds taint");
    assert_eq!(end.tainted, 500_000);
    assert_eq!(end.coinjoin.expect("part crossed").taint, 200_000);
    // stop: x's whole coin is absorbed where it entered, nothing passes
    let r = run(&l, &plan(true));
    let t = r.totals.values().next().unwrap();
    assert!(t.conserved());
    assert_eq!((t.held, t.fees, t.absorbed), (0, 0, 1_010_000));
    assert_eq!(r.endpoints.len(), 1);
    let e = r.endpoints[0];
    assert_eq!((l.address(e.addr), e.kind), ("x", EndpointKind::Service));
    assert!(e.coinjoin.is_some());
}
