//! CoinJoin detection (UTXO model).
//!
//! A CoinJoin is one transaction in which several owners spend their inputs
//! together into outputs of one exact value (the *denomination*), so that no
//! one can tell from the chain which equal output belongs to which input.
//! Every detector here is a pure function of the transaction's shape in the
//! [`Ledger`]: the number of inputs, the exact output values (integers in base
//! units, never floats), and the owners (address ids) on both sides. Nothing
//! is learned from labels or from other transactions.
//!
//! # Terms
//!
//! - *Denomination*: among the output values of at least
//!   [`MIN_DENOMINATION`] base units (smaller outputs are dust, `OP_RETURN`
//!   or token-protocol markers, never a mixing denomination), the value paid
//!   to the most distinct owners; ties go to the value with more outputs, then
//!   to the larger value. `equal_outputs` is the number of outputs paying
//!   exactly that value.
//! - *Anonymity set* `k`: the number of distinct owners among the equal
//!   outputs. Two equal outputs to the same address count once.
//! - *Input owners*: `d` distinct known owners of the inputs
//!   (`distinct_input_owners`), plus `u` inputs whose owner the export did
//!   not give (`unknown_input_owners`). `e = d + u` is an upper bound on the
//!   number of participants (an unknown owner may be anyone). An address id
//!   is not an entity: one wallet may own many addresses, so `e` is only an
//!   upper bound, never proof of several participants.
//!
//! # Rules that apply to every kind
//!
//! - A coinbase is never a CoinJoin.
//! - A CoinJoin has at least 2 inputs and at least 3 outputs: a payment with
//!   2 outputs (payee and change), even of equal value, is never one.
//! - At least 2 possible participants (`e >= 2`): all inputs from one known
//!   address are one wallet's spend.
//! - The denomination is paid at least twice.
//!
//! The kinds are tried in this order and the first that fits wins:
//! Whirlpool, Wasabi, JoinMarket, then the generic equal-output rule.
//!
//! # Whirlpool (Samourai)
//!
//! Shape of a Whirlpool mix (Samourai's published protocol): exactly 5
//! inputs and 5 outputs, every output exactly one pool denomination
//! (100_000, 1_000_000, 5_000_000 or 50_000_000 sats, the 0.001, 0.01, 0.05
//! and 0.5 BTC pools), the 5 outputs to 5 distinct addresses, and no two
//! inputs from the same known address (`e >= 5`). Bitcoin only (the asset is
//! `BTC`). Confidence **0.95**.
//!
//! # Wasabi
//!
//! - *Wasabi 1.x* (ZeroLink, Ficsór 2017): a large round of many inputs whose
//!   base-level equal outputs are about 0.1 BTC (the coordinator adjusted
//!   the base denomination slightly round by round), plus mixing levels at
//!   multiples, change outputs and a coordinator fee output. Accepted when:
//!   Bitcoin, at least 10 inputs, the denomination in
//!   `9_000_000..=11_000_000` sats, `k >= 10`, `equal_outputs <= inputs` and
//!   `e >= k`. The coordinator fee output is not required: without labels it
//!   cannot be told from change. Confidence **max(0.9, generic(k, d))**.
//! - *Wasabi 2.x* (WabiSabi, 2022): participants split their coins over a
//!   set of standard denominations, so a round has many equal outputs at
//!   several values, and more equal outputs than inputs is normal. Accepted
//!   when: Bitcoin, at least 20 inputs, `e >= 10`, and at least 3 distinct
//!   output values (each at least [`MIN_DENOMINATION`]) each paid to at least
//!   3 distinct owners. The values are not checked against Wasabi's standard
//!   denomination list. Confidence **0.9**.
//!
//! # JoinMarket
//!
//! Shape from Möser and Böhme, "Anonymous Alone? Measuring Bitcoin's
//! Second-Generation Anonymization Techniques" (2017): a taker and `n - 1`
//! makers each receive one equal output and (usually) one change output, so
//! `n` equal outputs to `n` distinct addresses, `2 <= n <= 15`, and `n`
//! change outputs, or `n - 1` when the taker sweeps (no taker change;
//! accepted for `n >= 3` only, since 2 equal outputs plus 1 other is an
//! ordinary two-payee payment). The change outputs all have distinct values
//! (none repeats, none equals the denomination); `inputs >= n` and `e >= n`.
//! Confidence **0.6** for `n = 2` (also the shape of a two-party Stonewall
//! X2), else **max(0.7, generic(n, d))**.
//!
//! # Generic equal-output CoinJoin
//!
//! The rule of the CoinJoin literature (e.g. Möser and Böhme; Kappos et al.
//! 2022): at least 2 inputs, `k >= 3` equal outputs to distinct owners (two
//! equal outputs are too common in ordinary spending to mean anything on
//! their own), `equal_outputs <= inputs` (each participant brings at least
//! one input: an exchange's batch withdrawal of many equal amounts from few
//! inputs is not a CoinJoin) and `e >= k` (there cannot be more
//! participants than input owners). Confidence grows with the anonymity set
//! and with evidence of distinct input owners:
//!
//! ```text
//! generic(k, d) = min(0.95, 0.45 + 0.45 * (min(k, 10) - 3) / 7 + (d >= k ? 0.05 : 0))
//! ```
//!
//! that is 0.5 at `k = 3` with the inputs' owners known and distinct, rising
//! linearly to 0.95 at `k >= 10`; 0.05 less when the known owners do not
//! reach `k` (unknown owners prove nothing either way).
//!
//! # Limits
//!
//! An exchange batch payout funded by many deposit addresses that pays the
//! same amount to several customers fits the generic shape (at the low end
//! of its confidence); PayJoin and other steganographic CoinJoins with no
//! equal outputs are not detected at all.

use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, AssetId, TxInput, TxOutput};
use rayon::prelude::*;

/// Smallest output value considered as a denomination (base units): below
/// it are dust, `OP_RETURN` and token-protocol marker outputs (330, 546
/// sats), which repeat in ordinary transactions. 5_000 sats is Wasabi 2's
/// smallest standard denomination; Whirlpool's and JoinMarket's are larger.
pub const MIN_DENOMINATION: Amount = 5_000;

/// Whirlpool pool denominations in sats (0.001, 0.01, 0.05, 0.5 BTC).
pub const WHIRLPOOL_POOLS: [Amount; 4] = [100_000, 1_000_000, 5_000_000, 50_000_000];

/// Wasabi 1.x base denomination window in sats (0.09..=0.11 BTC).
pub const WASABI1_DENOMINATION: std::ops::RangeInclusive<Amount> = 9_000_000..=11_000_000;

/// Largest JoinMarket anonymity set accepted.
pub const JOINMARKET_MAX_PARTIES: u32 = 15;

/// Which CoinJoin implementation a transaction's shape matches.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoinJoinKind {
    /// Equal outputs of no known implementation's shape.
    EqualOutput,
    /// Wasabi Wallet 1.x (ZeroLink) or 2.x (WabiSabi).
    Wasabi,
    /// Samourai Whirlpool.
    Whirlpool,
    /// JoinMarket.
    JoinMarket,
}

impl CoinJoinKind {
    pub fn name(self) -> &'static str {
        match self {
            CoinJoinKind::EqualOutput => "equal-output",
            CoinJoinKind::Wasabi => "wasabi",
            CoinJoinKind::Whirlpool => "whirlpool",
            CoinJoinKind::JoinMarket => "joinmarket",
        }
    }
}

/// A detected CoinJoin transaction.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CoinJoin {
    /// Index into `Ledger::utxo_txs`.
    pub tx: usize,
    pub kind: CoinJoinKind,
    /// In `0.0..=1.0` (see the module documentation for the numbers).
    pub confidence: f64,
    /// The equal output value, exact, in base units.
    pub denomination: Amount,
    /// Outputs paying exactly `denomination`.
    pub equal_outputs: u32,
    /// Distinct owners among those outputs (the anonymity set `k`).
    pub equal_output_owners: u32,
    /// Inputs of the transaction.
    pub inputs: u32,
    /// Distinct known owners of the inputs (`d`).
    pub distinct_input_owners: u32,
    /// Inputs whose owner the export did not give (`u`).
    pub unknown_input_owners: u32,
}

/// Outputs of one exact value (at least `MIN_DENOMINATION`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct ValueGroup {
    value: Amount,
    /// Outputs paying `value`.
    count: u32,
    /// Distinct owners among them.
    owners: u32,
}

/// What every detector looks at.
struct Shape {
    n_in: u32,
    n_out: u32,
    /// By ascending value.
    groups: Vec<ValueGroup>,
    /// The denomination's group.
    denom: ValueGroup,
    /// Distinct known input owners (`d`).
    known: u32,
    /// Inputs without a known owner (`u`).
    unknown: u32,
    bitcoin: bool,
}

impl Shape {
    /// Upper bound on the number of participants (`e = d + u`).
    fn participants(&self) -> u32 {
        self.known + self.unknown
    }
}

/// Output values of at least `MIN_DENOMINATION`, grouped, ascending.
fn value_groups(outputs: &[TxOutput]) -> Vec<ValueGroup> {
    let mut pairs: Vec<(Amount, AddrId)> = outputs
        .iter()
        .map(|o| (o.value(), o.owner))
        .filter(|&(v, _)| v >= MIN_DENOMINATION)
        .collect();
    pairs.sort_unstable();
    let mut groups: Vec<ValueGroup> = Vec::new();
    let mut prev: Option<(Amount, AddrId)> = None;
    for &(v, o) in &pairs {
        match groups.last_mut() {
            Some(g) if g.value == v => {
                g.count += 1;
                if prev != Some((v, o)) {
                    g.owners += 1;
                }
            }
            _ => groups.push(ValueGroup {
                value: v,
                count: 1,
                owners: 1,
            }),
        }
        prev = Some((v, o));
    }
    groups
}

/// (distinct known owners, inputs with no known owner).
fn input_owners(inputs: &[TxInput]) -> (u32, u32) {
    let mut known: Vec<AddrId> = Vec::with_capacity(inputs.len());
    let mut unknown = 0u32;
    for i in inputs {
        if i.owner.is_none() {
            unknown += 1;
        } else {
            known.push(i.owner);
        }
    }
    known.sort_unstable();
    known.dedup();
    (known.len() as u32, unknown)
}

fn is_bitcoin(ledger: &Ledger, asset: AssetId) -> bool {
    ledger.assets.get(asset.index()).is_some_and(|a| {
        a.name.eq_ignore_ascii_case("BTC")
            || a.symbol
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("BTC"))
    })
}

/// The generic confidence for an anonymity set of `k` with `d` distinct
/// known input owners: 0.5 at `k = 3` (with `d >= k`), 0.95 at `k >= 10`.
pub fn generic_confidence(k: u32, d: u32) -> f64 {
    let steps = k.clamp(3, 10) - 3;
    let evidence = if d >= k { 0.05 } else { 0.0 };
    (0.45 + 0.45 * steps as f64 / 7.0 + evidence).min(0.95)
}

fn whirlpool(s: &Shape) -> Option<f64> {
    (s.bitcoin
        && s.n_in == 5
        && s.n_out == 5
        && s.denom.count == 5
        && s.denom.owners == 5
        && WHIRLPOOL_POOLS.contains(&s.denom.value)
        && s.participants() >= 5)
        .then_some(0.95)
}

fn wasabi(s: &Shape) -> Option<f64> {
    if !s.bitcoin {
        return None;
    }
    let d = s.denom;
    let e = s.participants();
    // 1.x: ZeroLink, ~0.1 BTC base denomination.
    if s.n_in >= 10
        && WASABI1_DENOMINATION.contains(&d.value)
        && d.owners >= 10
        && d.count <= s.n_in
        && e >= d.owners
    {
        return Some(generic_confidence(d.owners, s.known).max(0.9));
    }
    // 2.x: WabiSabi, several standard denominations.
    let repeated = s.groups.iter().filter(|g| g.owners >= 3).count();
    (s.n_in >= 20 && e >= 10 && repeated >= 3).then_some(0.9)
}

fn joinmarket(s: &Shape, outputs: &[TxOutput]) -> Option<f64> {
    let n = s.denom.count;
    if !(2..=JOINMARKET_MAX_PARTIES).contains(&n) || s.denom.owners != n {
        return None;
    }
    let change = s.n_out - n;
    if !(change == n || (n >= 3 && change == n - 1)) {
        return None;
    }
    if s.n_in < n || s.participants() < n {
        return None;
    }
    let mut others: Vec<Amount> = outputs
        .iter()
        .map(|o| o.value())
        .filter(|&v| v != s.denom.value)
        .collect();
    others.sort_unstable();
    if others.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    Some(if n == 2 {
        0.6
    } else {
        generic_confidence(n, s.known).max(0.7)
    })
}

fn generic(s: &Shape) -> Option<f64> {
    let d = s.denom;
    (d.owners >= 3 && d.count <= s.n_in && s.participants() >= d.owners)
        .then(|| generic_confidence(d.owners, s.known))
}

/// The CoinJoin that transaction `tx_index` (into `ledger.utxo_txs`) is, if
/// its shape is one (see the module documentation); `None` for an index out
/// of range.
pub fn detect(ledger: &Ledger, tx_index: usize) -> Option<CoinJoin> {
    let tx = ledger.utxo_txs.get(tx_index)?;
    if tx.is_coinbase() {
        return None;
    }
    let inputs = ledger.tx_inputs(tx);
    let outputs = ledger.tx_outputs(tx);
    if inputs.len() < 2 || outputs.len() < 3 {
        return None;
    }
    let (known, unknown) = input_owners(inputs);
    if known + unknown < 2 {
        return None;
    }
    let groups = value_groups(outputs);
    let denom = *groups.iter().max_by_key(|g| (g.owners, g.count, g.value))?;
    if denom.count < 2 {
        return None;
    }
    let shape = Shape {
        n_in: inputs.len() as u32,
        n_out: outputs.len() as u32,
        groups,
        denom,
        known,
        unknown,
        bitcoin: is_bitcoin(ledger, tx.asset),
    };
    let (kind, confidence) = if let Some(c) = whirlpool(&shape) {
        (CoinJoinKind::Whirlpool, c)
    } else if let Some(c) = wasabi(&shape) {
        (CoinJoinKind::Wasabi, c)
    } else if let Some(c) = joinmarket(&shape, outputs) {
        (CoinJoinKind::JoinMarket, c)
    } else if let Some(c) = generic(&shape) {
        (CoinJoinKind::EqualOutput, c)
    } else {
        return None;
    };
    Some(CoinJoin {
        tx: tx_index,
        kind,
        confidence,
        denomination: denom.value,
        equal_outputs: denom.count,
        equal_output_owners: denom.owners,
        inputs: shape.n_in,
        distinct_input_owners: known,
        unknown_input_owners: unknown,
    })
}

/// Every CoinJoin among the ledger's UTXO transactions, by ascending
/// transaction index (the same whatever the thread count).
pub fn detect_all(ledger: &Ledger) -> Vec<CoinJoin> {
    (0..ledger.utxo_txs.len())
        .into_par_iter()
        .filter_map(|i| detect(ledger, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::Raw;

    /// `build::utx` over owned names.
    fn utx(
        txid: &str,
        block: u64,
        inputs: Vec<(String, u32)>,
        outputs: Vec<(String, u128)>,
    ) -> Raw {
        let ins: Vec<(&str, u32)> = inputs.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        let outs: Vec<(&str, u128)> = outputs.iter().map(|(o, v)| (o.as_str(), *v)).collect();
        crate::ingest::build::utx(txid, block, &ins, &outs)
    }

    fn ledger(raws: Vec<Raw>) -> Ledger {
        crate::ingest::build::ledger_of(raws)
    }

    /// A transaction `txid` at `block` spending one fresh coinbase output per
    /// `(owner, value)` in `ins` (the coinbases come first, at block 1), paying
    /// `outs`.
    fn spend(txid: &str, block: u64, ins: &[(&str, u128)], outs: &[(&str, u128)]) -> Vec<Raw> {
        let mut raws: Vec<Raw> = ins
            .iter()
            .enumerate()
            .map(|(k, (o, v))| {
                utx(
                    &format!("{txid}-f{k}"),
                    1,
                    vec![],
                    vec![(o.to_string(), *v)],
                )
            })
            .collect();
        let inputs = (0..ins.len())
            .map(|k| (format!("{txid}-f{k}"), 0))
            .collect();
        let outputs = outs.iter().map(|(o, v)| (o.to_string(), *v)).collect();
        raws.push(utx(txid, block, inputs, outputs));
        raws
    }

    fn index_of(l: &Ledger, txid: &str) -> usize {
        let id = l.tx_id(txid).expect("txid in ledger");
        l.utxo_txs
            .iter()
            .position(|t| t.txid == id)
            .expect("utxo tx")
    }

    fn detect_one(raws: Vec<Raw>, txid: &str) -> Option<CoinJoin> {
        let l = ledger(raws);
        detect(&l, index_of(&l, txid))
    }

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|k| format!("{prefix}{k}")).collect()
    }

    /// One `(name, value)` per name.
    fn ins(names: &[String], value: u128) -> Vec<(&str, u128)> {
        names.iter().map(|n| (n.as_str(), value)).collect()
    }

    fn whirlpool_raws(txid: &str, block: u64, pool: u128) -> Vec<Raw> {
        let i = names(&format!("{txid}-in"), 5);
        let o = names(&format!("{txid}-out"), 5);
        spend(txid, block, &ins(&i, pool + 1_000), &ins(&o, pool))
    }

    fn generic_raws(txid: &str, block: u64) -> Vec<Raw> {
        let i = names(&format!("{txid}-in"), 6);
        let o = names(&format!("{txid}-out"), 6);
        let mut outs = ins(&o, 2_500_000);
        outs.push(("change", 1_234_567));
        spend(txid, block, &ins(&i, 3_000_000), &outs)
    }

    fn joinmarket_raws(txid: &str, block: u64) -> Vec<Raw> {
        let i = names(&format!("{txid}-in"), 4);
        spend(
            txid,
            block,
            &ins(&i, 4_000_000),
            &[
                ("cj-a", 3_000_000),
                ("cj-b", 3_000_000),
                ("cj-c", 3_000_000),
                ("ch-a", 1_500_000),
                ("ch-b", 2_000_000),
                ("ch-c", 3_400_000),
            ],
        )
    }

    #[test]
    fn kind_names() {
        assert_eq!(CoinJoinKind::EqualOutput.name(), "equal-output");
        assert_eq!(CoinJoinKind::Wasabi.name(), "wasabi");
        assert_eq!(CoinJoinKind::Whirlpool.name(), "whirlpool");
        assert_eq!(CoinJoinKind::JoinMarket.name(), "joinmarket");
    }

    #[test]
    fn whirlpool_5x5_at_001_btc() {
        let cj = detect_one(whirlpool_raws("mix", 2, 1_000_000), "mix").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::Whirlpool);
        assert_eq!(cj.confidence, 0.95);
        assert_eq!(cj.denomination, 1_000_000);
        assert_eq!((cj.equal_outputs, cj.equal_output_owners), (5, 5));
        assert_eq!((cj.inputs, cj.distinct_input_owners), (5, 5));
        assert_eq!(cj.unknown_input_owners, 0);
    }

    #[test]
    fn five_by_five_off_pool_is_generic() {
        let cj = detect_one(whirlpool_raws("mix", 2, 1_000_001), "mix").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::EqualOutput);
        assert_eq!(cj.denomination, 1_000_001);
    }

    #[test]
    fn generic_six_equal_outputs_plus_change() {
        let cj = detect_one(generic_raws("cj", 2), "cj").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::EqualOutput);
        assert_eq!(cj.denomination, 2_500_000);
        assert_eq!((cj.equal_outputs, cj.equal_output_owners), (6, 6));
        assert_eq!((cj.inputs, cj.distinct_input_owners), (6, 6));
        assert_eq!(cj.confidence, generic_confidence(6, 6));
        assert!((cj.confidence - (0.5 + 0.45 * 3.0 / 7.0)).abs() < 1e-12);
    }

    #[test]
    fn generic_confidence_curve() {
        assert!((generic_confidence(3, 3) - 0.5).abs() < 1e-12);
        assert!((generic_confidence(3, 0) - 0.45).abs() < 1e-12);
        assert!((generic_confidence(10, 10) - 0.95).abs() < 1e-12);
        assert!((generic_confidence(40, 40) - 0.95).abs() < 1e-12);
        assert!(generic_confidence(5, 5) < generic_confidence(6, 6));
    }

    #[test]
    fn ordinary_payment_is_not_a_coinjoin() {
        let raws = spend(
            "pay",
            2,
            &[("alice", 5_000_000)],
            &[("bob", 3_000_000), ("alice-change", 1_990_000)],
        );
        assert_eq!(detect_one(raws, "pay"), None);
    }

    #[test]
    fn two_in_two_equal_out_is_not_a_coinjoin() {
        let raws = spend(
            "pay",
            2,
            &[("alice", 5_000_000), ("carol", 5_000_000)],
            &[("bob", 4_000_000), ("dave", 4_000_000)],
        );
        assert_eq!(detect_one(raws, "pay"), None);
    }

    #[test]
    fn exchange_batch_withdrawal_is_not_a_coinjoin() {
        let o = names("customer", 10);
        let raws = spend(
            "batch",
            2,
            &[("exchange", 100_000_000)],
            &ins(&o, 1_000_000),
        );
        assert_eq!(detect_one(raws, "batch"), None);
        // Three inputs still cannot fund ten participants' equal outputs.
        let i = names("hot", 3);
        let raws = spend("batch", 2, &ins(&i, 40_000_000), &ins(&o, 1_000_000));
        assert_eq!(detect_one(raws, "batch"), None);
    }

    #[test]
    fn equal_outputs_to_one_owner_count_once() {
        let i = names("in", 4);
        let raws = spend(
            "t",
            2,
            &ins(&i, 3_000_000),
            &[
                ("x", 2_000_000),
                ("x", 2_000_000),
                ("x", 2_000_000),
                ("y", 2_000_000),
            ],
        );
        assert_eq!(detect_one(raws, "t"), None);
    }

    #[test]
    fn one_input_owner_is_not_a_coinjoin() {
        let o = names("out", 4);
        let raws = spend("t", 2, &[("w", 3_000_000); 4], &ins(&o, 2_000_000));
        assert_eq!(detect_one(raws, "t"), None);
    }

    #[test]
    fn dust_outputs_are_no_denomination() {
        let i = names("in", 4);
        let o = names("out", 4);
        let raws = spend("t", 2, &ins(&i, 100_000), &ins(&o, 546));
        assert_eq!(detect_one(raws, "t"), None);
    }

    #[test]
    fn joinmarket_three_equal_three_change() {
        let cj = detect_one(joinmarket_raws("jm", 2), "jm").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::JoinMarket);
        assert_eq!(cj.confidence, 0.7);
        assert_eq!(cj.denomination, 3_000_000);
        assert_eq!((cj.equal_outputs, cj.inputs), (3, 4));
    }

    #[test]
    fn wasabi1_round() {
        let i = names("in", 60);
        let o = names("out", 50);
        let mut outs = ins(&o, 10_012_345);
        outs.push(("coordinator", 4_321_000));
        outs.push(("change-a", 7_000_001));
        let cj = detect_one(spend("w", 2, &ins(&i, 10_100_000), &outs), "w").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::Wasabi);
        assert_eq!(cj.denomination, 10_012_345);
        assert_eq!(cj.equal_outputs, 50);
        assert!((cj.confidence - 0.95).abs() < 1e-12);
    }

    #[test]
    fn wasabi2_round() {
        let i = names("in", 25);
        let a = names("a", 10);
        let b = names("b", 8);
        let c = names("c", 4);
        let mut outs = ins(&a, 1_000_000);
        outs.extend(ins(&b, 2_097_152));
        outs.extend(ins(&c, 5_000_000));
        let cj = detect_one(spend("w", 2, &ins(&i, 5_000_000), &outs), "w").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::Wasabi);
        assert_eq!(cj.confidence, 0.9);
        assert_eq!((cj.denomination, cj.equal_outputs), (1_000_000, 10));
    }

    #[test]
    fn unknown_input_owners_count_as_possible_participants() {
        // Inputs spend outputs outside the sample: owners unknown (`u = 6`).
        let inputs = (0..6).map(|k| (format!("outside{k}"), 0)).collect();
        let outputs = (0..6)
            .map(|k| (format!("out{k}"), 2_500_000))
            .chain([("change".to_string(), 1_234_567)])
            .collect();
        let cj = detect_one(vec![utx("cj", 2, inputs, outputs)], "cj").expect("a coinjoin");
        assert_eq!(cj.kind, CoinJoinKind::EqualOutput);
        assert_eq!((cj.distinct_input_owners, cj.unknown_input_owners), (0, 6));
        // 0.05 less than with six known distinct owners.
        assert_eq!(cj.confidence, generic_confidence(6, 0));
        assert!((generic_confidence(6, 6) - cj.confidence - 0.05).abs() < 1e-12);
    }

    #[test]
    fn coinbase_is_not_a_coinjoin() {
        let o = names("miner", 6);
        let outs: Vec<(String, u128)> = o.iter().map(|n| (n.clone(), 1_000_000)).collect();
        let l = ledger(vec![utx("cb", 1, vec![], outs)]);
        assert!(l.utxo_txs[0].is_coinbase());
        assert_eq!(detect(&l, 0), None);
    }

    #[test]
    fn out_of_range_index_is_none() {
        let l = ledger(generic_raws("cj", 2));
        assert_eq!(detect(&l, l.utxo_txs.len()), None);
    }

    #[test]
    fn detect_all_is_sorted_and_exact() {
        let mut raws = Vec::new();
        raws.extend(whirlpool_raws("a-whirl", 2, 5_000_000));
        raws.extend(spend(
            "b-pay",
            3,
            &[("alice", 5_000_000)],
            &[("bob", 3_000_000), ("alice-change", 1_990_000)],
        ));
        raws.extend(generic_raws("c-generic", 4));
        raws.extend(spend(
            "d-pay2",
            5,
            &[("carol", 5_000_000), ("erin", 5_000_000)],
            &[("frank", 4_000_000), ("grace", 4_000_000)],
        ));
        raws.extend(joinmarket_raws("e-jm", 6));
        let l = ledger(raws);
        let found = detect_all(&l);
        let got: Vec<(usize, CoinJoinKind)> = found.iter().map(|c| (c.tx, c.kind)).collect();
        let want = vec![
            (index_of(&l, "a-whirl"), CoinJoinKind::Whirlpool),
            (index_of(&l, "c-generic"), CoinJoinKind::EqualOutput),
            (index_of(&l, "e-jm"), CoinJoinKind::JoinMarket),
        ];
        assert_eq!(got, want);
        assert!(found.windows(2).all(|w| w[0].tx < w[1].tx));
        // Every transaction's own verdict agrees.
        for i in 0..l.utxo_txs.len() {
            assert_eq!(detect(&l, i), found.iter().find(|c| c.tx == i).copied());
        }
    }
}
