//! Peel-chain detection and summaries.
//!
//! A peel chain (Bitfinex 2016) moves a large amount through a run of steps;
//! each step sends a small "peel" to some address and forwards the large
//! "change" to a fresh address, which makes the next step. In the UTXO model
//! a step is a one-input, two-output transaction whose change goes to
//! another address than the input's, and the chain follows the change
//! output to the transaction that spends it; in the account model a
//! step is an account that receives once and sends exactly twice.
//!
//! Both detectors are pure functions of the ledger, linear in its size, and
//! deterministic (chains sorted by their first step). Amounts are exact; no
//! IO.

use crate::amount::{format_units, mul_div_floor};
use crate::ledger::Ledger;
use crate::model::{AcctId, AddrId, Amount, AssetId, MoveKind, NO_OUTPUT};

/// What counts as a step, and which chains are reported.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PeelOptions {
    /// Shortest chain reported, in steps (default 3).
    pub min_len: usize,
    /// Largest peel, in millionths of the step's input (default 200_000, 20%).
    /// Values above 1_000_000 count as 1_000_000.
    pub max_peel_share_ppm: u32,
}

impl Default for PeelOptions {
    fn default() -> Self {
        PeelOptions {
            min_len: 3,
            max_peel_share_ppm: 200_000,
        }
    }
}

const PPM: u128 = 1_000_000;
const NONE: u32 = u32::MAX;

/// One UTXO step: a one-input, two-output transaction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PeelStep {
    /// The transaction: an index into `ledger.utxo_txs`.
    pub tx: usize,
    /// Value of the single input.
    pub input: Amount,
    pub peel_to: AddrId,
    pub peel: Amount,
    /// The peel output: an index into `ledger.outputs`.
    pub peel_output: u32,
    pub change_to: AddrId,
    pub change: Amount,
    /// The change output: an index into `ledger.outputs`.
    pub change_output: u32,
    /// `input - peel - change`.
    pub fee: Amount,
}

/// What a chain needs of a step, in either model.
pub trait Step: Copy {
    /// The value the step's owner received.
    fn input(&self) -> Amount;
    /// Who received the peel, and how much.
    fn peel(&self) -> (AddrId, Amount);
    /// Who received the change, and how much.
    fn change(&self) -> (AddrId, Amount);
    fn fee(&self) -> Amount;
}

/// Both models' steps name these fields alike.
macro_rules! impl_step {
    ($($t:ty),*) => {$(
        impl Step for $t {
            fn input(&self) -> Amount {
                self.input
            }
            fn peel(&self) -> (AddrId, Amount) {
                (self.peel_to, self.peel)
            }
            fn change(&self) -> (AddrId, Amount) {
                (self.change_to, self.change)
            }
            fn fee(&self) -> Amount {
                self.fee
            }
        }
    )*};
}

impl_step!(PeelStep, AccountPeelStep);

/// A maximal run of steps, each spending (UTXO) or funded by (account) the
/// previous step's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain<S> {
    /// In chain order, which is also canonical (time) order.
    pub steps: Vec<S>,
    pub asset: AssetId,
    /// The first step's input value (what the first account received).
    pub start_value: Amount,
    pub total_peeled: Amount,
    pub total_fees: Amount,
    /// The last step's change, and who holds it.
    pub final_change: Amount,
    pub final_owner: AddrId,
}

/// A UTXO chain.
pub type PeelChain = Chain<PeelStep>;
/// An account-model chain.
pub type AccountPeelChain = Chain<AccountPeelStep>;

impl<S: Step> Chain<S> {
    fn new(steps: Vec<S>, asset: AssetId) -> Chain<S> {
        let first = steps.first().copied();
        let last = steps.last().copied();
        Chain {
            asset,
            start_value: first.map_or(0, |s| s.input()),
            total_peeled: steps.iter().map(|s| s.peel().1).sum(),
            total_fees: steps.iter().map(|s| s.fee()).sum(),
            final_change: last.map_or(0, |s| s.change().1),
            final_owner: last.map_or(AddrId::NONE, |s| s.change().0),
            steps,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// One line: `peel chain of 5 steps: 3.5 BTC peeled to 4 addresses (top:
    /// A 1.5 BTC, B 1 BTC, C 0.5 BTC), 96.4 BTC left at D`.
    pub fn summary(&self, ledger: &Ledger) -> String {
        summarize(
            ledger,
            self.asset,
            self.len(),
            self.steps.iter().map(|s| s.peel()),
            self.total_peeled,
            self.final_change,
            self.final_owner,
        )
    }
}

impl PeelChain {
    /// Position in `steps` of UTXO transaction `tx`, if it is one of them.
    pub fn step_of(&self, tx: usize) -> Option<usize> {
        self.steps.binary_search_by_key(&tx, |s| s.tx).ok()
    }
}

/// Decide which of two transfers `a`, `b` out of `input` is the peel, with
/// `extra` also spent (fees). `Some(true)`: `a` is the peel. `None` when this
/// is no peel step: equal values (ambiguous), a zero peel, more out than in,
/// a peel above the share, or a change that is not most of the input (both
/// transfers small: the rest went to fees).
fn split(input: Amount, a: Amount, b: Amount, extra: Amount, opts: &PeelOptions) -> Option<bool> {
    if a == b {
        return None;
    }
    let (peel, change) = if a < b { (a, b) } else { (b, a) };
    let out = peel.checked_add(change)?.checked_add(extra)?;
    if peel == 0 || out > input {
        return None;
    }
    let ppm = (opts.max_peel_share_ppm as u128).min(PPM);
    if peel > mul_div_floor(input, ppm, PPM)? {
        return None;
    }
    if change <= input - change {
        return None;
    }
    Some(a < b)
}

/// UTXO transaction `t` as a step, if it is one: not a coinbase, exactly one
/// input of known value, exactly two outputs with different owners that
/// `split` accepts.
fn utxo_step(ledger: &Ledger, t: usize, opts: &PeelOptions) -> Option<PeelStep> {
    let tx = ledger.utxo_txs.get(t)?;
    if tx.is_coinbase() {
        return None;
    }
    let [input] = ledger.tx_inputs(tx) else {
        return None;
    };
    let [o0, o1] = ledger.tx_outputs(tx) else {
        return None;
    };
    let value = input.value()?;
    if o0.owner == o1.owner {
        return None;
    }
    let first_is_peel = split(value, o0.value(), o1.value(), 0, opts)?;
    let (p, c) = if first_is_peel { (0, 1) } else { (1, 0) };
    let outs = [o0, o1];
    // change back to the spender (a wallet paying out, an exchange's hot
    // wallet batching withdrawals) is not a peel: peels move to fresh change
    if outs[c].owner == input.owner && input.owner != AddrId::NONE {
        return None;
    }
    let (peel, change) = (outs[p].value(), outs[c].value());
    Some(PeelStep {
        tx: t,
        input: value,
        peel_to: outs[p].owner,
        peel,
        peel_output: tx.outputs[0] + p as u32,
        change_to: outs[c].owner,
        change,
        change_output: tx.outputs[0] + c as u32,
        fee: value - peel - change,
    })
}

/// Peel chains of the UTXO model: maximal runs of steps (see `utxo_step`)
/// where each step's single input is the previous step's change output,
/// with at least `opts.min_len` steps, sorted by their first transaction.
/// A chain ends where its change is unspent in the sample or spent by a
/// transaction that is not a step. O(transactions + inputs + outputs).
pub fn detect_utxo(ledger: &Ledger, opts: &PeelOptions) -> Vec<PeelChain> {
    // which transaction spends each output
    let mut spender = vec![NONE; ledger.outputs.len()];
    for (t, tx) in ledger.utxo_txs.iter().enumerate() {
        for i in ledger.tx_inputs(tx) {
            if i.spent != NO_OUTPUT {
                if let Some(s) = spender.get_mut(i.spent as usize) {
                    *s = t as u32;
                }
            }
        }
    }
    // the steps, in transaction order, and each transaction's step
    let mut steps: Vec<PeelStep> = Vec::new();
    let mut step_at = vec![NONE; ledger.utxo_txs.len()];
    for (t, at) in step_at.iter_mut().enumerate() {
        if let Some(s) = utxo_step(ledger, t, opts) {
            *at = steps.len() as u32;
            steps.push(s);
        }
    }
    // a step's successor spends its change (as its only input)
    let next: Vec<u32> = steps
        .iter()
        .map(|s| match spender[s.change_output as usize] {
            NONE => NONE,
            t => step_at[t as usize],
        })
        .collect();
    let mut has_prev = vec![false; steps.len()];
    for &n in next.iter().filter(|n| **n != NONE) {
        has_prev[n as usize] = true;
    }
    let mut chains = Vec::new();
    for start in (0..steps.len()).filter(|s| !has_prev[*s]) {
        let mut run = Vec::new();
        let mut k = start as u32;
        while k != NONE {
            run.push(steps[k as usize]);
            k = next[k as usize];
        }
        if run.len() >= opts.min_len.max(1) {
            let asset = ledger.utxo_txs[run[0].tx].asset;
            chains.push(PeelChain::new(run, asset));
        }
    }
    chains
}

/// The chain (an index into `chains`) that has UTXO transaction `tx` as a
/// step, if any.
pub fn chain_of(chains: &[PeelChain], tx: usize) -> Option<usize> {
    chains.iter().position(|c| c.step_of(tx).is_some())
}

/// One account-model step: account `acct` receives once (`received`) and
/// then sends exactly two transfers, a small peel and the change, the change
/// to an address with no earlier activity. Movements are indices into
/// `ledger.movements`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AccountPeelStep {
    pub acct: AcctId,
    pub received: usize,
    /// The amount received.
    pub input: Amount,
    pub peel_move: usize,
    pub peel_to: AddrId,
    pub peel: Amount,
    pub change_move: usize,
    pub change_to: AddrId,
    pub change: Amount,
    /// Fee movements charged to this account (a token step's gas is paid
    /// from the address's native account, so it is 0 there).
    pub fee: Amount,
    /// What stayed behind: `input - peel - change - fee`.
    pub left: Amount,
}

impl AccountPeelChain {
    /// Position in `steps` of the step that received, peeled or forwarded
    /// movement `m`, if any.
    pub fn step_of(&self, m: usize) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.received == m || s.peel_move == m || s.change_move == m)
    }
}

fn is_transfer(k: MoveKind) -> bool {
    matches!(k, MoveKind::Native | MoveKind::Token)
}

/// True when no account of `addr` has a movement before movement `m`.
fn fresh_at(ledger: &Ledger, addr: AddrId, m: u32) -> bool {
    ledger.accounts_of(addr).all(|a| {
        let first_in = ledger.by_dest.of(a).first().copied().unwrap_or(NONE);
        let first_out = ledger.by_source.of(a).first().copied().unwrap_or(NONE);
        first_in >= m && first_out >= m
    })
}

/// Account `a` as a step, if it is one: exactly one receipt (native or
/// token), then exactly two transfers out (fees aside) that `split` accepts
/// with the account's fees as the extra spend, the change to an address
/// whose first activity is that change.
fn account_step(ledger: &Ledger, a: AcctId, opts: &PeelOptions) -> Option<AccountPeelStep> {
    let &[r] = ledger.by_dest.of(a) else {
        return None;
    };
    let rm = ledger.movements.get(r as usize)?;
    if !is_transfer(rm.kind()) {
        return None;
    }
    let mut sends = [NONE; 2];
    let mut n = 0;
    let mut fee: Amount = 0;
    for &m in ledger.by_source.of(a) {
        let mv = ledger.movements.get(m as usize)?;
        match mv.kind() {
            MoveKind::Fee => fee = fee.checked_add(mv.amount())?,
            k if is_transfer(k) && m > r && n < 2 => {
                sends[n] = m;
                n += 1;
            }
            _ => return None,
        }
    }
    if n != 2 {
        return None;
    }
    let input = rm.amount();
    let (x, y) = (
        ledger.movements[sends[0] as usize],
        ledger.movements[sends[1] as usize],
    );
    let first_is_peel = split(input, x.amount(), y.amount(), fee, opts)?;
    let ((p, pm), (c, cm)) = if first_is_peel {
        ((sends[0], x), (sends[1], y))
    } else {
        ((sends[1], y), (sends[0], x))
    };
    let change_to = ledger.account_addr(cm.to);
    if change_to.is_none() || !fresh_at(ledger, change_to, c) {
        return None;
    }
    Some(AccountPeelStep {
        acct: a,
        received: r as usize,
        input,
        peel_move: p as usize,
        peel_to: ledger.account_addr(pm.to),
        peel: pm.amount(),
        change_move: c as usize,
        change_to,
        change: cm.amount(),
        fee,
        left: input - pm.amount() - cm.amount() - fee,
    })
}

/// Peel chains of the account model: maximal runs of steps (see
/// `account_step`) where each step's account is the one the previous step's
/// change went to, with at least `opts.min_len` steps, sorted by the first
/// step's receipt. Native and token transfers count; fee movements are the
/// step's fee; a mint received disqualifies. O(movements + accounts).
pub fn detect_account(ledger: &Ledger, opts: &PeelOptions) -> Vec<AccountPeelChain> {
    let mut steps: Vec<AccountPeelStep> = Vec::new();
    let mut step_at = vec![NONE; ledger.accounts.len()];
    for (a, at) in step_at.iter_mut().enumerate() {
        if let Some(s) = account_step(ledger, AcctId(a as u32), opts) {
            *at = steps.len() as u32;
            steps.push(s);
        }
    }
    let next: Vec<u32> = steps
        .iter()
        .map(|s| {
            let to = ledger.movements[s.change_move].to;
            match step_at.get(to.index()).copied().unwrap_or(NONE) {
                // the change is its only receipt (the address was fresh)
                n if n != NONE && steps[n as usize].received == s.change_move => n,
                _ => NONE,
            }
        })
        .collect();
    let mut has_prev = vec![false; steps.len()];
    for &n in next.iter().filter(|n| **n != NONE) {
        has_prev[n as usize] = true;
    }
    let mut chains = Vec::new();
    for start in (0..steps.len()).filter(|s| !has_prev[*s]) {
        let mut run = Vec::new();
        let mut k = start as u32;
        while k != NONE {
            run.push(steps[k as usize]);
            k = next[k as usize];
        }
        if run.len() >= opts.min_len.max(1) {
            let asset = ledger.movements[run[0].received].asset;
            chains.push(AccountPeelChain::new(run, asset));
        }
    }
    chains.sort_by_key(|c| c.steps[0].received);
    chains
}

/// The account chain (an index into `chains`) one of whose steps received,
/// peeled or forwarded movement `m`, if any.
pub fn account_chain_of(chains: &[AccountPeelChain], m: usize) -> Option<usize> {
    chains.iter().position(|c| c.step_of(m).is_some())
}

/// `v` in whole units of `asset` with its symbol (`3.5 BTC`), or in base
/// units when the decimals are unknown (`3500 base units of 0xabc…`).
fn amount_text(ledger: &Ledger, asset: AssetId, v: Amount) -> String {
    match ledger.assets.get(asset.index()) {
        Some(a) => {
            let unit = a.symbol.as_deref().unwrap_or(&a.name);
            match a.decimals {
                Some(d) => format!("{} {unit}", format_units(v, d)),
                None => format!("{v} base units of {unit}"),
            }
        }
        None => v.to_string(),
    }
}

/// How many top peel recipients a summary names.
const TOP: usize = 3;

fn summarize(
    ledger: &Ledger,
    asset: AssetId,
    len: usize,
    peels: impl Iterator<Item = (AddrId, Amount)>,
    total_peeled: Amount,
    final_change: Amount,
    final_owner: AddrId,
) -> String {
    let mut to: Vec<(AddrId, Amount)> = peels.collect();
    to.sort_by_key(|p| p.0);
    let mut per_addr: Vec<(AddrId, Amount)> = Vec::with_capacity(to.len());
    for (addr, v) in to {
        match per_addr.last_mut() {
            Some(last) if last.0 == addr => last.1 += v,
            _ => per_addr.push((addr, v)),
        }
    }
    let n_addrs = per_addr.len();
    // largest first; address ids follow address text, so ties are stable
    per_addr.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<String> = per_addr
        .iter()
        .take(TOP)
        .map(|(a, v)| format!("{} {}", ledger.address(*a), amount_text(ledger, asset, *v)))
        .collect();
    format!(
        "peel chain of {len} step{}: {} peeled to {n_addrs} address{} (top: {}), {} left at {}",
        if len == 1 { "" } else { "s" },
        amount_text(ledger, asset, total_peeled),
        if n_addrs == 1 { "" } else { "es" },
        top.join(", "),
        amount_text(ledger, asset, final_change),
        ledger.address(final_owner),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{Raw, RawMove};

    const COIN: u128 = 100_000_000;
    const FEE: u128 = 10_000;

    fn ledger(raws: Vec<Raw>) -> Ledger {
        crate::ingest::build::ledger_of(raws)
    }

    use crate::ingest::build::utx;

    /// A peel chain from output (`prev`, `vout`) worth `value`: step `i`
    /// (transaction `{name}{i}`, block `block + 2i`) peels `peels[i]` to
    /// `{name}p{i}` and forwards the change, less `FEE`, to `{name}c{i}`.
    /// Odd steps list the change first. Returns the records and the last
    /// change's (txid, vout, value).
    fn chain(
        name: &str,
        block: u64,
        prev: (&str, u32),
        mut value: u128,
        peels: &[u128],
    ) -> (Vec<Raw>, (String, u32, u128)) {
        let mut raws = Vec::new();
        let mut prev = (prev.0.to_string(), prev.1);
        for (i, &p) in peels.iter().enumerate() {
            let txid = format!("{name}{i}");
            let change = value - p - FEE;
            let (pa, ca) = (format!("{name}p{i}"), format!("{name}c{i}"));
            let (outs, vout) = if i % 2 == 0 {
                ([(pa.as_str(), p), (ca.as_str(), change)], 1)
            } else {
                ([(ca.as_str(), change), (pa.as_str(), p)], 0)
            };
            raws.push(utx(
                &txid,
                block + 2 * i as u64,
                &[(prev.0.as_str(), prev.1)],
                &outs,
            ));
            prev = (txid, vout);
            value = change;
        }
        (raws, (prev.0, prev.1, value))
    }

    fn tx_index(l: &Ledger, txid: &str) -> usize {
        let id = l.tx_id(txid).expect("txid in ledger");
        l.utxo_txs.iter().position(|t| t.txid == id).expect("tx")
    }

    fn addrs(l: &Ledger, ids: impl Iterator<Item = AddrId>) -> Vec<String> {
        ids.map(|a| l.address(a).to_string()).collect()
    }

    #[test]
    fn five_step_chain_is_found_with_exact_totals() {
        let mut raws = vec![utx("mint", 1, &[], &[("start", 100 * COIN)])];
        let peels = [2 * COIN, 3 * COIN, COIN / 2, 7 * COIN, 1];
        let (r, last) = chain("a", 2, ("mint", 0), 100 * COIN, &peels);
        raws.extend(r);
        let l = ledger(raws);
        let chains = detect_utxo(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 1);
        let c = &chains[0];
        assert_eq!(c.len(), 5);
        assert_eq!(c.start_value, 100 * COIN);
        assert_eq!(c.total_peeled, 12 * COIN + COIN / 2 + 1);
        assert_eq!(c.total_fees, 5 * FEE);
        assert_eq!(c.final_change, 100 * COIN - c.total_peeled - 5 * FEE);
        assert_eq!(c.final_change, last.2);
        assert_eq!(l.address(c.final_owner), "ac4");
        assert_eq!(
            addrs(&l, c.steps.iter().map(|s| s.peel_to)),
            ["ap0", "ap1", "ap2", "ap3", "ap4"]
        );
        assert_eq!(
            c.steps.iter().map(|s| s.peel).collect::<Vec<_>>(),
            peels.to_vec()
        );
        assert_eq!(c.steps[0].tx, tx_index(&l, "a0"));
        assert_eq!(c.steps[4].tx, tx_index(&l, "a4"));
        assert_eq!(chain_of(&chains, tx_index(&l, "a2")), Some(0));
        assert_eq!(chain_of(&chains, tx_index(&l, "mint")), None);
        assert_eq!(c.step_of(tx_index(&l, "a3")), Some(3));
    }

    #[test]
    fn two_steps_are_not_reported_with_min_len_3() {
        let mut raws = vec![utx("mint", 1, &[], &[("start", 10 * COIN)])];
        raws.extend(chain("a", 2, ("mint", 0), 10 * COIN, &[COIN, COIN]).0);
        let l = ledger(raws);
        assert!(detect_utxo(&l, &PeelOptions::default()).is_empty());
        let two = PeelOptions {
            min_len: 2,
            ..Default::default()
        };
        let chains = detect_utxo(&l, &two);
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0].len(), 2);
    }

    #[test]
    fn even_split_is_not_a_step_and_breaks_the_chain() {
        let mut raws = vec![utx("mint", 1, &[], &[("start", 100 * COIN)])];
        let (r, (t, v, value)) = chain("a", 2, ("mint", 0), 100 * COIN, &[COIN; 3]);
        raws.extend(r);
        let half = (value - FEE) / 2;
        raws.push(utx("even", 10, &[(&t, v)], &[("h0", half), ("h1", half)]));
        raws.extend(chain("b", 11, ("even", 1), half, &[COIN; 3]).0);
        let l = ledger(raws);
        let chains = detect_utxo(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].len(), 3);
        assert_eq!(l.address(chains[0].final_owner), "ac2");
        assert_eq!(chains[1].len(), 3);
        assert_eq!(chains[1].start_value, half);
        assert_eq!(chain_of(&chains, tx_index(&l, "even")), None);
        assert_eq!(chain_of(&chains, tx_index(&l, "b0")), Some(1));
    }

    #[test]
    fn change_spent_by_a_two_input_tx_ends_the_chain() {
        let mut raws = vec![
            utx("mint", 1, &[], &[("start", 100 * COIN)]),
            utx("other", 1, &[], &[("o", 5 * COIN)]),
        ];
        let (r, (t, v, value)) = chain("a", 2, ("mint", 0), 100 * COIN, &[COIN; 4]);
        raws.extend(r);
        // a step's shape after a merge: two inputs, a small and a large output
        raws.push(utx(
            "merge",
            10,
            &[(&t, v), ("other", 0)],
            &[("m0", COIN), ("m1", value + 4 * COIN - FEE)],
        ));
        let l = ledger(raws);
        let chains = detect_utxo(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0].len(), 4);
        assert_eq!(l.address(chains[0].final_owner), "ac3");
        assert_eq!(chains[0].final_change, value);
        assert_eq!(chain_of(&chains, tx_index(&l, "merge")), None);
    }

    #[test]
    fn two_independent_chains_are_both_found_in_order() {
        let mut raws = vec![
            utx("mint1", 1, &[], &[("s1", 50 * COIN)]),
            utx("mint2", 2, &[], &[("s2", 80 * COIN)]),
        ];
        // chain "b" starts first; the two interleave block by block (odd, even)
        raws.extend(chain("b", 3, ("mint2", 0), 80 * COIN, &[COIN; 4]).0);
        raws.extend(chain("a", 4, ("mint1", 0), 50 * COIN, &[COIN / 10; 3]).0);
        let l = ledger(raws);
        let chains = detect_utxo(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 2);
        assert!(chains[0].steps[0].tx < chains[1].steps[0].tx);
        assert_eq!(chains[0].steps[0].tx, tx_index(&l, "b0"));
        assert_eq!(chains[0].len(), 4);
        assert_eq!(chains[0].total_peeled, 4 * COIN);
        assert_eq!(chains[1].steps[0].tx, tx_index(&l, "a0"));
        assert_eq!(chains[1].len(), 3);
        assert_eq!(chains[1].total_peeled, 3 * COIN / 10);
        assert_eq!(chain_of(&chains, tx_index(&l, "a2")), Some(1));
        assert_eq!(chain_of(&chains, tx_index(&l, "b3")), Some(0));
    }

    #[test]
    fn summary_line_is_exact() {
        let mut raws = vec![utx("mint", 1, &[], &[("start", 100 * COIN)])];
        let (mut r, _) = chain("a", 2, ("mint", 0), 100 * COIN, &[COIN, 2 * COIN]);
        // the third step peels to the first step's recipient again
        let change = 100 * COIN - 3 * COIN - 2 * FEE;
        r.push(utx(
            "a2",
            6,
            &[("a1", 0)],
            &[("ap0", 3 * COIN / 2), ("ac2", change - 3 * COIN / 2 - FEE)],
        ));
        raws.extend(r);
        let l = ledger(raws);
        let chains = detect_utxo(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 1);
        assert_eq!(
            chains[0].summary(&l),
            "peel chain of 3 steps: 4.5 BTC peeled to 2 addresses \
             (top: ap0 2.5 BTC, ap1 2 BTC), 95.4997 BTC left at ac2"
        );
    }

    #[test]
    fn large_peels_unknown_inputs_and_big_fees_are_not_steps() {
        let mut raws = vec![
            utx("mint", 1, &[], &[("start", 100 * COIN)]),
            // 30% peel: above the 20% default
            utx(
                "big",
                2,
                &[("mint", 0)],
                &[("p", 30 * COIN), ("c", 70 * COIN)],
            ),
            // both outputs small: most of the input is fee
            utx("fee", 3, &[("big", 1)], &[("p2", COIN), ("c2", 30 * COIN)]),
        ];
        // input from outside the sample, value unknown
        raws.extend(chain("u", 4, ("outside", 0), 10 * COIN, &[COIN; 3]).0);
        let l = ledger(raws);
        assert!(detect_utxo(&l, &PeelOptions::default()).is_empty());
        let loose = PeelOptions {
            min_len: 1,
            max_peel_share_ppm: 400_000,
        };
        let chains = detect_utxo(&l, &loose);
        // "big" is a step at 40%; "fee" is not; "u1", "u2" spend known values
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].steps[0].tx, tx_index(&l, "big"));
        assert_eq!(chains[0].len(), 1);
        assert_eq!(chains[1].steps[0].tx, tx_index(&l, "u1"));
        assert_eq!(chains[1].len(), 2);
    }

    // --- account model -----------------------------------------------------

    /// Account-model records with one movement per transaction, each in its
    /// own block, in the order added.
    #[derive(Default)]
    struct Moves {
        raws: Vec<Raw>,
        block: u64,
    }

    impl Moves {
        /// A transfer, with a fee from the sender when `fee > 0`.
        fn send(&mut self, from: &str, to: &str, amount: u128, fee: u128) -> &mut Self {
            self.block += 1;
            let b = self.block;
            let m = |seq, to: Option<&str>, amount, kind| {
                Raw::Move(RawMove {
                    tx_hash: Some(format!("t{b}")),
                    block: b,
                    time: b * 10,
                    tx_index: 0,
                    seq,
                    from: Some(from.to_string()),
                    to: to.map(String::from),
                    asset: "ETH".into(),
                    amount,
                    kind,
                })
            };
            self.raws.push(m(0, Some(to), amount, MoveKind::Native));
            if fee > 0 {
                self.raws.push(m(1, None, fee, MoveKind::Fee));
            }
            self
        }

        /// Steps from `a0`: step `i` peels `peels[i]` to `p{i}` and sends the
        /// rest less two fees to `a{i+1}`.
        fn chain(&mut self, start: u128, peels: &[u128], fee: u128) -> &mut Self {
            let mut v = start;
            for (i, &p) in peels.iter().enumerate() {
                let (me, next) = (format!("a{i}"), format!("a{}", i + 1));
                self.send(&me, &format!("p{i}"), p, fee);
                self.send(&me, &next, v - p - 2 * fee, fee);
                v -= p + 2 * fee;
            }
            self
        }
    }

    const ETH: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn account_chain_is_found_with_exact_totals() {
        let fee = 21_000 * 30_000_000_000;
        let mut m = Moves::default();
        m.send("thief", "a0", 100 * ETH, fee).chain(
            100 * ETH,
            &[2 * ETH, 3 * ETH, ETH, 5 * ETH],
            fee,
        );
        let l = ledger(m.raws.clone());
        let chains = detect_account(&l, &PeelOptions::default());
        assert_eq!(chains.len(), 1);
        let c = &chains[0];
        assert_eq!(c.len(), 4);
        assert_eq!(c.start_value, 100 * ETH);
        assert_eq!(c.total_peeled, 11 * ETH);
        assert_eq!(c.total_fees, 8 * fee);
        assert_eq!(c.final_change, 89 * ETH - 8 * fee);
        assert_eq!(l.address(c.final_owner), "a4");
        assert_eq!(
            addrs(&l, c.steps.iter().map(|s| s.peel_to)),
            ["p0", "p1", "p2", "p3"]
        );
        assert!(c.steps.iter().all(|s| s.left == 0));
        assert_eq!(account_chain_of(&chains, c.steps[2].peel_move), Some(0));
        assert_eq!(
            c.summary(&l),
            format!(
                "peel chain of 4 steps: 11 ETH peeled to 4 addresses \
                 (top: p3 5 ETH, p1 3 ETH, p0 2 ETH), {} ETH left at a4",
                format_units(89 * ETH - 8 * fee, 18)
            )
        );
    }

    #[test]
    fn account_change_to_a_used_address_ends_the_chain() {
        let mut m = Moves::default();
        // a3 was active before the third step forwarded to it
        m.send("x", "a3", ETH, 0)
            .send("thief", "a0", 100 * ETH, 0)
            .chain(100 * ETH, &[ETH; 5], 0);
        let l = ledger(m.raws.clone());
        // a0 and a1 are steps; a2 forwards to the used a3, so it is none; a3
        // received twice; a4 is a step again, starting a new chain
        assert!(detect_account(&l, &PeelOptions::default()).is_empty());
        let one = PeelOptions {
            min_len: 1,
            ..Default::default()
        };
        let all = detect_account(&l, &one);
        assert_eq!(all.iter().map(|c| c.len()).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(l.address(all[0].final_owner), "a2");
        assert_eq!(l.address(all[1].steps[0].change_to), "a5");
    }
}

/// A chain of either model, as reports and `fundtrail detect` show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainSummary {
    /// `utxo` or `account`.
    pub model: &'static str,
    pub asset: AssetId,
    /// The first and last steps' transactions.
    pub first_tx: crate::model::TxId,
    pub last_tx: crate::model::TxId,
    pub steps: usize,
    /// Who made the first step (held the value before it).
    pub first_owner: AddrId,
    pub start_value: Amount,
    pub total_peeled: Amount,
    pub total_fees: Amount,
    pub final_change: Amount,
    pub final_owner: AddrId,
    /// Every peel, in chain order.
    pub peels: Vec<(AddrId, Amount)>,
    /// Every transaction of the chain's steps (peels and change), sorted:
    /// evidence paths collapse a run of them into one step.
    pub txs: Vec<crate::model::TxId>,
    /// The one-line summary (`peel chain of 12 steps: ...`).
    pub summary: String,
}

impl ChainSummary {
    /// Every address the chain touched: its first owner, the change
    /// addresses, the peel recipients.
    pub fn touches(&self, a: AddrId) -> bool {
        self.first_owner == a || self.final_owner == a || self.peels.iter().any(|p| p.0 == a)
    }
}

/// Every peel chain of the ledger, UTXO chains first, each in its
/// detector's order.
pub fn detect_all(ledger: &Ledger, opts: &PeelOptions) -> Vec<ChainSummary> {
    let mut out = Vec::new();
    for c in detect_utxo(ledger, opts) {
        let (Some(first), Some(last)) = (c.steps.first(), c.steps.last()) else {
            continue;
        };
        let tx0 = &ledger.utxo_txs[first.tx];
        out.push(
            c.summarised(
                ledger,
                "utxo",
                (tx0.txid, ledger.utxo_txs[last.tx].txid),
                ledger
                    .tx_inputs(tx0)
                    .first()
                    .map_or(AddrId::NONE, |i| i.owner),
                sorted(c.steps.iter().map(|s| ledger.utxo_txs[s.tx].txid)),
            ),
        );
    }
    let moves = ledger.movements.as_slice();
    for c in detect_account(ledger, opts) {
        let (Some(first), Some(last)) = (c.steps.first(), c.steps.last()) else {
            continue;
        };
        out.push(
            c.summarised(
                ledger,
                "account",
                (moves[first.received].tx, moves[last.change_move].tx),
                ledger.account_addr(first.acct),
                sorted(
                    c.steps
                        .iter()
                        .flat_map(|s| [moves[s.peel_move].tx, moves[s.change_move].tx]),
                ),
            ),
        );
    }
    out
}

impl<S: Step> Chain<S> {
    /// The chain as reports show it, given what only its model knows: its
    /// first and last transactions, who made the first step, and all its
    /// transactions.
    fn summarised(
        &self,
        ledger: &Ledger,
        model: &'static str,
        (first_tx, last_tx): (crate::model::TxId, crate::model::TxId),
        first_owner: AddrId,
        txs: Vec<crate::model::TxId>,
    ) -> ChainSummary {
        ChainSummary {
            model,
            asset: self.asset,
            first_tx,
            last_tx,
            steps: self.len(),
            first_owner,
            start_value: self.start_value,
            total_peeled: self.total_peeled,
            total_fees: self.total_fees,
            final_change: self.final_change,
            final_owner: self.final_owner,
            peels: self.steps.iter().map(|s| s.peel()).collect(),
            txs,
            summary: self.summary(ledger),
        }
    }
}

fn sorted(txs: impl Iterator<Item = crate::model::TxId>) -> Vec<crate::model::TxId> {
    let mut v: Vec<_> = txs.collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod reuse_tests {
    use super::*;
    use crate::ingest::build::build;
    use crate::ingest::raw::Raw;
    use crate::ingest::Loc;

    /// A transaction spending output 1 of `prev` (none: a coinbase).
    fn utx(txid: &str, block: u64, prev: Option<&str>, outs: &[(&str, u128)]) -> Raw {
        let inputs: Vec<(&str, u32)> = prev.map(|p| (p, 1)).into_iter().collect();
        crate::ingest::build::utx(txid, block, &inputs, outs)
    }

    #[test]
    fn a_wallet_paying_out_with_change_to_itself_is_no_peel_chain() {
        // a hot wallet pays four customers, its change back to itself
        let mut raws = vec![utx("c", 1, None, &[("x", 1), ("hot", 1_000_000)])];
        let mut prev = "c".to_string();
        let mut left = 1_000_000u128;
        for k in 0..4 {
            left -= 10_000 + 100;
            let id = format!("p{k}");
            raws.push(utx(
                &id,
                2 + k,
                Some(&prev),
                &[(&format!("u{k}"), 10_000), ("hot", left)],
            ));
            prev = id;
        }
        let l = build(raws.into_iter().map(|r| (r, Loc::default())).collect(), &[])
            .unwrap()
            .ledger;
        assert!(detect_utxo(&l, &PeelOptions::default()).is_empty());
    }
}
