//! Demixing never creates or loses value: on random mixer-pool ledgers
//! (seeded and clean depositors, withdrawals to fresh, reused and linked
//! addresses, some through a relayer that keeps a fee, other transfers
//! around them), every conserving policy still satisfies
//! `seeded = held + absorbed + fees + below_threshold` to the unit with
//! `--mixer demix` (what seeds count as seeded may differ from `pass`: a
//! withdrawal back to a seed brings other taint), and the forward cone gives
//! what the full replay gives.

use fundtrail::heuristics::mixer::{analyse, DemixOptions, PPM};
use fundtrail::ingest::build::build;
use fundtrail::ingest::raw::{Raw, RawMove};
use fundtrail::ingest::Loc;
use fundtrail::ledger::Ledger;
use fundtrail::model::{Amount, MoveKind};
use fundtrail::trace::{run, Policy, TracePlan};
use proptest::prelude::*;
use std::sync::Arc;

const NOTE: Amount = 100_000_000_000_000_000_000; // 100 ETH

#[derive(Clone, Debug)]
enum Step {
    /// depositor index deposits one note
    Deposit(usize),
    /// the pool pays a note to an address (index), maybe less a relayer fee
    Withdraw(usize, Option<Amount>),
    /// a transfer between two addresses
    Transfer(usize, usize, Amount),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..6).prop_map(Step::Deposit),
        3 => (0usize..10, prop::option::weighted(0.3, 1..=NOTE / 10)).prop_map(|(a, f)| Step::Withdraw(a, f)),
        2 => (0usize..10, 0usize..10, 1..=NOTE * 2).prop_map(|(a, b, x)| Step::Transfer(a, b, x)),
    ]
}

fn mv(block: u64, n: u32, seq: u32, from: &str, to: &str, amount: Amount) -> Raw {
    Raw::Move(RawMove {
        tx_hash: Some(format!("t{block}-{n}")),
        block,
        time: block * 600,
        tx_index: n,
        seq,
        from: Some(from.into()),
        to: Some(to.into()),
        asset: "ETH".into(),
        amount,
        kind: MoveKind::Native,
    })
}

fn ledger(steps: &[Step]) -> Ledger {
    let addr = |i: usize| format!("a{i}");
    let mut raws = Vec::new();
    for (k, s) in steps.iter().enumerate() {
        let block = k as u64 / 3;
        let n = k as u32 % 3;
        match s {
            Step::Deposit(a) => raws.push(mv(block, n, 0, &addr(*a), "pool", NOTE)),
            Step::Withdraw(a, fee) => {
                let fee = fee.unwrap_or(0);
                raws.push(mv(block, n, 0, "pool", &addr(*a), NOTE - fee));
                if fee > 0 {
                    raws.push(mv(block, n, 1, "pool", "relayer", fee));
                }
            }
            Step::Transfer(a, b, x) if a != b => {
                raws.push(mv(block, n, 0, &addr(*a), &addr(*b), *x))
            }
            Step::Transfer(..) => {}
        }
    }
    // the pool's denomination must be NOTE: one extra deposit settles ties
    raws.push(mv(10_000, 0, 0, "a9", "pool", NOTE));
    let raws = raws.into_iter().map(|r| (r, Loc::default())).collect();
    build(raws, &[]).expect("builds").ledger
}

const CONSERVING: [Policy; 4] = [Policy::Haircut, Policy::Fifo, Policy::Lifo, Policy::Tiho];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn demixing_conserves_value_to_the_unit(
        steps in prop::collection::vec(step(), 1..=60),
        seeds in prop::collection::btree_set(0usize..6, 1..=2),
        window in prop_oneof![Just(600u64), Just(6_000), Just(600_000)],
        min_taint in prop_oneof![3 => Just(0u128), 1 => 1..=NOTE / 100],
    ) {
        let l = ledger(&steps);
        let pool = l.addr_id("pool").expect("pool");
        let d = analyse(&l, &[pool], &DemixOptions { window, burst: 1_800 });
        let mut dep = vec![0u32; d.deposits.len()];
        let mut wd = vec![0u32; d.withdrawals.len()];
        for k in &d.links {
            dep[k.deposit as usize] += k.ppm;
            wd[k.withdrawal as usize] += k.ppm;
        }
        prop_assert!(dep.iter().chain(&wd).all(|w| *w <= PPM));
        let seeds: Vec<_> = seeds.iter().filter_map(|s| l.addr_id(&format!("a{s}"))).collect();
        prop_assume!(!seeds.is_empty());
        for p in CONSERVING {
            let pass = TracePlan {
                policy: Some(p),
                seeds: seeds.clone(),
                min_taint,
                mixers: [pool].into_iter().collect(),
                ..Default::default()
            };
            let demix = TracePlan { demix: Some(Arc::new(d.clone())), ..pass.clone() };
            let b = run(&l, &demix);
            for t in b.totals.values() {
                prop_assert!(t.conserved(), "{:?} demix: {:?}", p, t);
            }
            // what crossed the pool is part of what the endpoint has, and
            // no more than left the pool in all
            let crossed: u128 = b
                .endpoints
                .iter()
                .filter_map(|e| e.mixer.map(|m| (m.taint, e.tainted)))
                .map(|(m, t)| {
                    assert!(m <= t, "{p:?}: {m} of {t} crossed the pool");
                    m
                })
                .sum();
            let pool_paid: u128 = l
                .movements
                .iter()
                .filter(|m| !m.from.is_none() && l.account_addr(m.from) == pool)
                .map(|m| m.amount())
                .sum();
            prop_assert!(crossed <= pool_paid, "{:?}: {} crossed, the pool paid {}", p, crossed, pool_paid);
            let full = TracePlan { full_replay: true, ..demix.clone() };
            prop_assert_eq!(run(&l, &full), b, "{:?}: cone and full replay differ", p);
        }
    }
}
