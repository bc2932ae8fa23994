//! Mixer pools: deposits, withdrawals and the links between them.
//!
//! A pool is an address labelled `mixer`, holding one asset (a Tornado-like
//! fixed-denomination pool; an address with several assets is one pool per
//! asset). Its **denomination** is the most frequent amount paid into it
//! (ties: the smaller). A **deposit** is a movement into the pool of exactly
//! the denomination; a **withdrawal** is a transaction whose movements out of
//! the pool add up to exactly the denomination: the largest goes to the
//! recipient, any others (a relayer's fee) to whoever else the pool paid.
//!
//! `analyse` links withdrawals to the deposits they most likely spend. Each
//! link has a weight in parts per million of one note (`ppm`), which is also
//! its confidence: the share of the deposit's taint that follows it. The
//! weights out of any deposit, and into any withdrawal, sum to at most one
//! note, so following links never creates value. The heuristics, strongest
//! first (published for Tornado Cash: Wu et al., "Tutela", 2022; Wang et al.,
//! "On How Zero-Knowledge Proof Blockchain Mixers Improve, and Worsen User
//! Privacy", 2023):
//!
//! | heuristic | the withdrawal ... | confidence |
//! |---|---|---|
//! | `address-match` | pays the address that made the deposit | 0.95 |
//! | `linked-address` | pays an address that had a direct transfer with the depositor before the withdrawal | 0.80 |
//! | `unique-gas-price` | was sent by its recipient with a gas price that exactly one deposit and this one withdrawal of the pools used, not a whole number of gwei | 0.90 |
//! | `portfolio` | is one of a recipient's withdrawals whose count per pool (over two or more pools) equals one depositor's deposits, and no other depositor or recipient has that portfolio | 0.85 |
//! | `batch-cohort` | is one of `k >= 2` notes withdrawn to one address in a burst, after a depositor's burst of `k` notes in the window (bursts paired in time order) | 0.70, shared: `0.70 / (m n)` when the withdrawal burst fits `m` deposit bursts and the deposit burst `n` withdrawal bursts; none beyond 8 |
//! | `time-window` | follows the deposit within the window: what the heuristics above leave of a withdrawal is shared evenly among the deposits of the window with capacity left | the share |
//!
//! Several heuristics on one pair combine as `1 - Π(1 - c)`. Strong pairs are
//! assigned greedily (highest confidence first, then earliest withdrawal,
//! then earliest deposit), each taking its confidence from both capacities;
//! the time window then shares out what is left, withdrawal by withdrawal in
//! canonical order. Gas prices come from the exports (ethereum-etl
//! `gas_price`, Etherscan `gasPrice`); a ledger without them (the native
//! format) simply never matches on them.
//!
//! Bursts: consecutive notes of one address (deposits by it, or withdrawals
//! to it) with gaps of at most `burst` seconds.

use crate::ledger::Ledger;
use crate::model::{AcctId, AddrId, Amount, AssetId, MoveKind, TxId};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// One note, in link weights.
pub const PPM: u32 = 1_000_000;

/// How links are searched.
#[derive(Clone, Debug)]
pub struct DemixOptions {
    /// A withdrawal links only to deposits at most this many seconds before it.
    pub window: u64,
    /// Notes of one address this close together (seconds) form a burst.
    pub burst: u64,
}

impl Default for DemixOptions {
    fn default() -> Self {
        DemixOptions {
            window: 7 * 86_400,
            burst: 86_400,
        }
    }
}

/// What made a link (a bit set).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Heuristics(pub u8);

impl Heuristics {
    pub const ADDRESS_MATCH: Heuristics = Heuristics(1);
    pub const LINKED_ADDRESS: Heuristics = Heuristics(2);
    pub const PORTFOLIO: Heuristics = Heuristics(4);
    pub const BATCH_COHORT: Heuristics = Heuristics(8);
    pub const TIME_WINDOW: Heuristics = Heuristics(16);
    pub const UNIQUE_GAS_PRICE: Heuristics = Heuristics(32);
    const ALL: [(Heuristics, &'static str, u32); 6] = [
        (Heuristics::ADDRESS_MATCH, "address-match", 950_000),
        (Heuristics::LINKED_ADDRESS, "linked-address", 800_000),
        (Heuristics::UNIQUE_GAS_PRICE, "unique-gas-price", 900_000),
        (Heuristics::PORTFOLIO, "portfolio", 850_000),
        (Heuristics::BATCH_COHORT, "batch-cohort", 700_000),
        (Heuristics::TIME_WINDOW, "time-window", 0),
    ];

    pub fn contains(self, h: Heuristics) -> bool {
        self.0 & h.0 == h.0
    }

    pub fn names(self) -> Vec<&'static str> {
        Heuristics::ALL
            .iter()
            .filter(|(h, _, _)| self.contains(*h))
            .map(|(_, n, _)| *n)
            .collect()
    }

    /// The heuristic's own confidence, in ppm (0 for the time window).
    fn base(self) -> u32 {
        Heuristics::ALL
            .iter()
            .find(|(h, _, _)| *h == self)
            .map_or(0, |(_, _, c)| *c)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub acct: AcctId,
    pub addr: AddrId,
    pub asset: AssetId,
    pub denomination: Amount,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposit {
    pub pool: u32,
    /// Index of the movement into the pool.
    pub movement: u32,
    pub depositor: AddrId,
    pub time: u64,
    pub tx: TxId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub pool: u32,
    /// The movements out of the pool in this transaction, in canonical order.
    pub movements: Vec<u32>,
    pub recipient: AddrId,
    /// Who sent (and paid the fee of) the withdrawal transaction: the
    /// recipient itself, or a relayer (`AddrId::NONE`: unknown).
    pub sender: AddrId,
    pub time: u64,
    pub tx: TxId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub deposit: u32,
    pub withdrawal: u32,
    /// Weight and confidence, in millionths of a note.
    pub ppm: u32,
    pub heuristics: Heuristics,
}

/// Every pool's deposits, withdrawals and links, with the lookups the
/// replay needs.
#[derive(Clone, Debug, Default)]
pub struct Demix {
    pub pools: Vec<Pool>,
    pub deposits: Vec<Deposit>,
    pub withdrawals: Vec<Withdrawal>,
    /// Sorted by (deposit, withdrawal).
    pub links: Vec<Link>,
    /// deposit movement -> its links (indices into `links`)
    pub by_deposit_movement: FxHashMap<u32, Vec<u32>>,
    /// pool accounts
    pub pool_accounts: FxHashSet<AcctId>,
}

impl Demix {
    pub fn is_pool(&self, a: AcctId) -> bool {
        self.pool_accounts.contains(&a)
    }

    /// Links into withdrawal `w`.
    pub fn links_into(&self, w: u32) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(move |l| l.withdrawal == w)
    }
}

/// A burst of notes of one address in one pool: indices (deposits or
/// withdrawals) in time order.
struct Burst {
    pool: u32,
    addr: AddrId,
    items: Vec<u32>,
    start: u64,
    end: u64,
}

fn bursts(items: impl Iterator<Item = (u32, u32, AddrId, u64)>, gap: u64) -> Vec<Burst> {
    // (pool, addr) -> notes in time order
    let mut by: BTreeMap<(u32, AddrId), Vec<(u64, u32)>> = BTreeMap::new();
    for (i, pool, addr, time) in items {
        by.entry((pool, addr)).or_default().push((time, i));
    }
    let mut out = Vec::new();
    for ((pool, addr), mut v) in by {
        v.sort_unstable();
        let mut cur: Option<Burst> = None;
        for (t, i) in v {
            match &mut cur {
                Some(b) if t - b.end <= gap => {
                    b.items.push(i);
                    b.end = t;
                }
                _ => {
                    out.extend(cur.take());
                    cur = Some(Burst {
                        pool,
                        addr,
                        items: vec![i],
                        start: t,
                        end: t,
                    });
                }
            }
        }
        out.extend(cur);
    }
    out
}

/// The pools of the given addresses (one per asset each holds), their notes
/// and the links between them.
pub fn analyse(ledger: &Ledger, pool_addrs: &[AddrId], opts: &DemixOptions) -> Demix {
    let mut d = Demix::default();
    let moves = ledger.movements.as_slice();
    let mut addrs: Vec<AddrId> = pool_addrs.to_vec();
    addrs.sort_unstable();
    addrs.dedup();
    for addr in addrs {
        for acct in ledger.accounts_of(addr) {
            let asset = ledger.accounts[acct.index()].asset;
            // the denomination: the most frequent amount paid in
            let mut counts: BTreeMap<Amount, u32> = BTreeMap::new();
            for &i in ledger.by_dest.of(acct) {
                let m = &moves[i as usize];
                if !m.from.is_none() && m.kind() != MoveKind::Mint {
                    *counts.entry(m.amount()).or_default() += 1;
                }
            }
            let Some((&denomination, _)) = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            else {
                continue;
            };
            let p = d.pools.len() as u32;
            d.pools.push(Pool {
                acct,
                addr,
                asset,
                denomination,
            });
            d.pool_accounts.insert(acct);
            for &i in ledger.by_dest.of(acct) {
                let m = &moves[i as usize];
                if m.amount() == denomination && !m.from.is_none() && m.from != acct {
                    d.deposits.push(Deposit {
                        pool: p,
                        movement: i,
                        depositor: ledger.account_addr(m.from),
                        time: ledger.time_of(m.block),
                        tx: m.tx,
                    });
                }
            }
            // withdrawals: the pool's outgoing movements grouped by transaction
            let out = ledger.by_source.of(acct);
            let mut k = 0;
            while k < out.len() {
                let tx = moves[out[k] as usize].tx;
                let mut j = k + 1;
                while j < out.len() && moves[out[j] as usize].tx == tx && tx != TxId::NONE {
                    j += 1;
                }
                let group: Vec<u32> = out[k..j]
                    .iter()
                    .copied()
                    .filter(|i| !moves[*i as usize].to.is_none())
                    .collect();
                let total: Amount = group.iter().map(|i| moves[*i as usize].amount()).sum();
                if total == denomination && !group.is_empty() {
                    // the recipient: the largest payment (the first of equals)
                    let main = group
                        .iter()
                        .copied()
                        .max_by(|a, b| {
                            moves[*a as usize]
                                .amount()
                                .cmp(&moves[*b as usize].amount())
                                .then_with(|| b.cmp(a))
                        })
                        .unwrap_or(group[0]);
                    let m = &moves[main as usize];
                    d.withdrawals.push(Withdrawal {
                        pool: p,
                        time: ledger.time_of(m.block),
                        recipient: ledger.account_addr(m.to),
                        sender: fee_payer(ledger, main),
                        tx: m.tx,
                        movements: group,
                    });
                }
                k = j;
            }
        }
    }
    link(ledger, &mut d, opts);
    d
}

/// The address that paid the fee of movement `i`'s transaction (its
/// movements are adjacent in canonical order), if the ledger shows it.
fn fee_payer(ledger: &Ledger, i: u32) -> AddrId {
    let moves = ledger.movements.as_slice();
    let tx = moves[i as usize].tx;
    if tx == TxId::NONE {
        return AddrId::NONE;
    }
    let same = |k: &usize| moves[*k].tx == tx;
    let before = (0..i as usize).rev().take_while(same);
    let after = (i as usize..moves.len()).take_while(same);
    before
        .chain(after)
        .find(|k| moves[*k].kind() == MoveKind::Fee)
        .map_or(AddrId::NONE, |k| ledger.account_addr(moves[k].from))
}

/// The earliest time of a direct transfer between `a` and every address it
/// dealt with (either direction, any asset), pools excluded.
fn counterparties(ledger: &Ledger, a: AddrId, pools: &FxHashSet<AcctId>) -> FxHashMap<AddrId, u64> {
    const CAP: usize = 100_000;
    let moves = ledger.movements.as_slice();
    let mut out: FxHashMap<AddrId, u64> = FxHashMap::default();
    for acct in ledger.accounts_of(a) {
        let sent = ledger.by_source.of(acct).iter().map(|i| (i, true));
        let got = ledger.by_dest.of(acct).iter().map(|i| (i, false));
        for (i, outgoing) in sent.chain(got).take(CAP) {
            let m = &moves[*i as usize];
            let other = if outgoing { m.to } else { m.from };
            if other.is_none() || pools.contains(&other) {
                continue;
            }
            let t = ledger.time_of(m.block);
            let e = out.entry(ledger.account_addr(other)).or_insert(t);
            *e = (*e).min(t);
        }
    }
    out
}

fn link(ledger: &Ledger, d: &mut Demix, opts: &DemixOptions) {
    let n_dep = d.deposits.len();
    let n_wd = d.withdrawals.len();
    // deposit order in the ledger: a withdrawal links only to earlier deposits
    let dep_move: Vec<u32> = d.deposits.iter().map(|x| x.movement).collect();
    let wd_move: Vec<u32> = d.withdrawals.iter().map(|x| x.movements[0]).collect();
    let candidate = |dep: usize, wd: usize| {
        let (a, b) = (&d.deposits[dep], &d.withdrawals[wd]);
        a.pool == b.pool
            && dep_move[dep] < wd_move[wd]
            && b.time.saturating_sub(a.time) <= opts.window
    };
    // per pool, deposits by depositor
    let mut by_depositor: FxHashMap<(u32, AddrId), Vec<u32>> = FxHashMap::default();
    for (i, x) in d.deposits.iter().enumerate() {
        by_depositor
            .entry((x.pool, x.depositor))
            .or_default()
            .push(i as u32);
    }
    // (deposit, withdrawal) -> (heuristics, the chance all of them are
    // wrong, in ppm): confidences combine as 1 - Π(1 - c)
    let mut pairs: BTreeMap<(u32, u32), (Heuristics, u64)> = BTreeMap::new();
    let mut mark_with = |dep: u32, wd: u32, h: Heuristics, c: u32| {
        let e = pairs
            .entry((dep, wd))
            .or_insert((Heuristics(0), PPM as u64));
        e.0 .0 |= h.0;
        e.1 = e.1 * (PPM - c.min(PPM)) as u64 / PPM as u64;
    };

    // address match and linked addresses
    let mut seen: FxHashMap<AddrId, FxHashMap<AddrId, u64>> = FxHashMap::default();
    for (w, x) in d.withdrawals.iter().enumerate() {
        if let Some(deps) = by_depositor.get(&(x.pool, x.recipient)) {
            for &dep in deps {
                if candidate(dep as usize, w) {
                    mark_with(
                        dep,
                        w as u32,
                        Heuristics::ADDRESS_MATCH,
                        Heuristics::ADDRESS_MATCH.base(),
                    );
                }
            }
        }
        let cps = seen
            .entry(x.recipient)
            .or_insert_with(|| counterparties(ledger, x.recipient, &d.pool_accounts));
        let mut linked: Vec<(&AddrId, &u64)> = cps.iter().collect();
        linked.sort_unstable();
        for (other, first) in linked {
            if *first >= x.time || *other == x.recipient {
                continue;
            }
            if let Some(deps) = by_depositor.get(&(x.pool, *other)) {
                for &dep in deps {
                    if candidate(dep as usize, w) {
                        mark_with(
                            dep,
                            w as u32,
                            Heuristics::LINKED_ADDRESS,
                            Heuristics::LINKED_ADDRESS.base(),
                        );
                    }
                }
            }
        }
    }

    // unique gas prices: a price exactly one deposit and one withdrawal
    // used, not a whole number of gwei (wallet defaults), the withdrawal
    // sent by its recipient (a relayer chooses its own price)
    const GWEI: Amount = 1_000_000_000;
    let mut by_price: BTreeMap<Amount, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
    for (i, x) in d.deposits.iter().enumerate() {
        if let Some(p) = ledger.gas_price(x.tx) {
            by_price.entry(p).or_default().0.push(i as u32);
        }
    }
    for (i, x) in d.withdrawals.iter().enumerate() {
        if let Some(p) = ledger.gas_price(x.tx) {
            by_price.entry(p).or_default().1.push(i as u32);
        }
    }
    by_price.retain(|p, _| p % GWEI != 0);
    for (deps, wds) in by_price.values() {
        if let ([dep], [wd]) = (deps.as_slice(), wds.as_slice()) {
            let w = &d.withdrawals[*wd as usize];
            if w.sender == w.recipient && candidate(*dep as usize, *wd as usize) {
                mark_with(
                    *dep,
                    *wd,
                    Heuristics::UNIQUE_GAS_PRICE,
                    Heuristics::UNIQUE_GAS_PRICE.base(),
                );
            }
        }
    }

    // portfolios over two or more pools
    let mut dep_folio: BTreeMap<AddrId, BTreeMap<u32, Vec<u32>>> = BTreeMap::new();
    for (i, x) in d.deposits.iter().enumerate() {
        dep_folio
            .entry(x.depositor)
            .or_default()
            .entry(x.pool)
            .or_default()
            .push(i as u32);
    }
    let mut wd_folio: BTreeMap<AddrId, BTreeMap<u32, Vec<u32>>> = BTreeMap::new();
    for (i, x) in d.withdrawals.iter().enumerate() {
        wd_folio
            .entry(x.recipient)
            .or_default()
            .entry(x.pool)
            .or_default()
            .push(i as u32);
    }
    let shape =
        |f: &BTreeMap<u32, Vec<u32>>| f.iter().map(|(p, v)| (*p, v.len())).collect::<Vec<_>>();
    let mut dep_shapes: BTreeMap<Vec<(u32, usize)>, Vec<AddrId>> = BTreeMap::new();
    for (a, f) in &dep_folio {
        if f.len() >= 2 {
            dep_shapes.entry(shape(f)).or_default().push(*a);
        }
    }
    let mut wd_shapes: BTreeMap<Vec<(u32, usize)>, Vec<AddrId>> = BTreeMap::new();
    for (a, f) in &wd_folio {
        if f.len() >= 2 {
            wd_shapes.entry(shape(f)).or_default().push(*a);
        }
    }
    for (s, deps) in &dep_shapes {
        let Some(wds) = wd_shapes.get(s) else {
            continue;
        };
        if deps.len() != 1 || wds.len() != 1 {
            continue;
        }
        let (df, wf) = (&dep_folio[&deps[0]], &wd_folio[&wds[0]]);
        for (pool, dv) in df {
            for (dep, wd) in dv.iter().zip(&wf[pool]) {
                if candidate(*dep as usize, *wd as usize) {
                    mark_with(
                        *dep,
                        *wd,
                        Heuristics::PORTFOLIO,
                        Heuristics::PORTFOLIO.base(),
                    );
                }
            }
        }
    }

    // batch cohorts: equal-sized bursts, unique both ways within the window
    let dep_bursts: Vec<Burst> = bursts(
        d.deposits
            .iter()
            .enumerate()
            .map(|(i, x)| (i as u32, x.pool, x.depositor, x.time)),
        opts.burst,
    )
    .into_iter()
    .filter(|b| b.items.len() >= 2)
    .collect();
    let wd_bursts: Vec<Burst> = bursts(
        d.withdrawals
            .iter()
            .enumerate()
            .map(|(i, x)| (i as u32, x.pool, x.recipient, x.time)),
        opts.burst,
    )
    .into_iter()
    .filter(|b| b.items.len() >= 2)
    .collect();
    let fits = |db: &Burst, wb: &Burst| {
        db.pool == wb.pool
            && db.items.len() == wb.items.len()
            && db.addr != wb.addr
            && wb.start >= db.end
            && wb.start - db.end <= opts.window
            && dep_move[*db.items.last().unwrap_or(&0) as usize] < wd_move[wb.items[0] as usize]
    };
    // Competing bursts share the confidence: a withdrawal burst that fits
    // m deposit bursts, each of which fits n withdrawal bursts, links to
    // each with 0.7 / (m n); beyond 8 candidates either way, not at all.
    for wb in &wd_bursts {
        let matching: Vec<&Burst> = dep_bursts.iter().filter(|db| fits(db, wb)).collect();
        if matching.is_empty() || matching.len() > 8 {
            continue;
        }
        for db in &matching {
            let n = wd_bursts.iter().filter(|other| fits(db, other)).count();
            if n > 8 {
                continue;
            }
            let c = Heuristics::BATCH_COHORT.base() / (matching.len() * n) as u32;
            for (dep, wd) in db.items.iter().zip(&wb.items) {
                mark_with(*dep, *wd, Heuristics::BATCH_COHORT, c);
            }
        }
    }

    // strong pairs, greedily
    let mut cap_dep = vec![PPM; n_dep];
    let mut cap_wd = vec![PPM; n_wd];
    let mut strong: Vec<(u32, u32, u32, Heuristics)> = pairs
        .into_iter()
        .map(|((dep, wd), (h, miss))| (PPM - miss as u32, dep, wd, h))
        .collect();
    strong.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| wd_move[a.2 as usize].cmp(&wd_move[b.2 as usize]))
            .then_with(|| dep_move[a.1 as usize].cmp(&dep_move[b.1 as usize]))
    });
    let mut links: Vec<Link> = Vec::new();
    for (c, dep, wd, h) in strong {
        let take = c.min(cap_dep[dep as usize]).min(cap_wd[wd as usize]);
        if take == 0 {
            continue;
        }
        cap_dep[dep as usize] -= take;
        cap_wd[wd as usize] -= take;
        links.push(Link {
            deposit: dep,
            withdrawal: wd,
            ppm: take,
            heuristics: h,
        });
    }

    // the time window shares out the rest, withdrawal by withdrawal
    let mut deps_by_pool: Vec<Vec<u32>> = vec![Vec::new(); d.pools.len()];
    for (i, x) in d.deposits.iter().enumerate() {
        deps_by_pool[x.pool as usize].push(i as u32);
    }
    for v in &mut deps_by_pool {
        v.sort_unstable_by_key(|i| dep_move[*i as usize]);
    }
    let mut wds: Vec<u32> = (0..n_wd as u32).collect();
    wds.sort_unstable_by_key(|w| wd_move[*w as usize]);
    for w in wds {
        let wu = w as usize;
        let x = &d.withdrawals[wu];
        let pool = &deps_by_pool[x.pool as usize];
        let end = pool.partition_point(|i| dep_move[*i as usize] < wd_move[wu]);
        let open: Vec<u32> = pool[..end]
            .iter()
            .copied()
            .filter(|i| {
                cap_dep[*i as usize] > 0
                    && x.time.saturating_sub(d.deposits[*i as usize].time) <= opts.window
            })
            .collect();
        if open.is_empty() || cap_wd[wu] == 0 {
            continue;
        }
        let share = cap_wd[wu] / open.len() as u32;
        for dep in open {
            let take = share.min(cap_dep[dep as usize]);
            if take == 0 {
                continue;
            }
            cap_dep[dep as usize] -= take;
            cap_wd[wu] -= take;
            links.push(Link {
                deposit: dep,
                withdrawal: w,
                ppm: take,
                heuristics: Heuristics::TIME_WINDOW,
            });
        }
    }
    links.sort_unstable_by_key(|l| (l.deposit, l.withdrawal));
    // a pair linked by a strong heuristic and by the window: one link
    let mut merged: Vec<Link> = Vec::with_capacity(links.len());
    for l in links {
        match merged.last_mut() {
            Some(m) if m.deposit == l.deposit && m.withdrawal == l.withdrawal => {
                m.ppm += l.ppm;
                m.heuristics.0 |= l.heuristics.0;
            }
            _ => merged.push(l),
        }
    }
    for (k, l) in merged.iter().enumerate() {
        d.by_deposit_movement
            .entry(d.deposits[l.deposit as usize].movement)
            .or_default()
            .push(k as u32);
    }
    d.links = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{Raw, RawMove};
    use crate::trace::{run, Policy, TracePlan};

    /// One transfer in its own transaction `t{block}-{n}`, at time block * 10.
    fn mv(block: u64, n: u32, from: &str, to: &str, amount: u128) -> Raw {
        Raw::Move(RawMove {
            tx_hash: Some(format!("t{block}-{n}")),
            block,
            time: block * 10,
            tx_index: n,
            seq: 0,
            from: Some(from.into()),
            to: Some(to.into()),
            asset: "ETH".into(),
            amount,
            kind: MoveKind::Native,
        })
    }

    fn ledger(raws: Vec<Raw>) -> Ledger {
        crate::ingest::build::ledger_of(raws)
    }

    fn opts() -> DemixOptions {
        DemixOptions {
            window: 1_000,
            burst: 50,
        }
    }

    fn demix(l: &Ledger, pools: &[&str]) -> Demix {
        let ids: Vec<AddrId> = pools.iter().map(|p| l.addr_id(p).expect("pool")).collect();
        analyse(l, &ids, &opts())
    }

    /// (depositor, recipient, ppm, heuristic names) per link.
    fn links(l: &Ledger, d: &Demix) -> Vec<(String, String, u32, Vec<&'static str>)> {
        d.links
            .iter()
            .map(|k| {
                (
                    l.address(d.deposits[k.deposit as usize].depositor)
                        .to_string(),
                    l.address(d.withdrawals[k.withdrawal as usize].recipient)
                        .to_string(),
                    k.ppm,
                    k.heuristics.names(),
                )
            })
            .collect()
    }

    fn strong(l: &Ledger, d: &Demix, h: Heuristics) -> Vec<(String, String)> {
        links(l, d)
            .into_iter()
            .zip(&d.links)
            .filter(|(_, k)| k.heuristics.contains(h))
            .map(|((a, b, _, _), _)| (a, b))
            .collect()
    }

    #[test]
    fn pool_notes_denomination_and_a_relayer_fee() {
        let mut raws = vec![
            mv(1, 0, "a", "pool", 100),
            mv(2, 0, "b", "pool", 100),
            mv(3, 0, "c", "pool", 7), // not a note
        ];
        // a withdrawal paid through a relayer: 97 to r, 3 to the relayer
        for (seq, (to, x)) in [("r", 97u128), ("relayer", 3)].into_iter().enumerate() {
            raws.push(Raw::Move(RawMove {
                tx_hash: Some("w1".into()),
                block: 9,
                time: 90,
                tx_index: 0,
                seq: seq as u32,
                from: Some("pool".into()),
                to: Some(to.into()),
                asset: "ETH".into(),
                amount: x,
                kind: MoveKind::Native,
            }));
        }
        raws.push(mv(9, 1, "pool", "s", 60)); // not a whole note
        let l = ledger(raws);
        let d = demix(&l, &["pool"]);
        assert_eq!(d.pools.len(), 1);
        assert_eq!(d.pools[0].denomination, 100);
        assert_eq!(d.deposits.len(), 2);
        assert_eq!(d.withdrawals.len(), 1);
        assert_eq!(l.address(d.withdrawals[0].recipient), "r");
        assert_eq!(d.withdrawals[0].movements.len(), 2);
    }

    #[test]
    fn address_match_links_a_withdrawal_to_its_depositor_and_not_backwards() {
        let l = ledger(vec![
            mv(1, 0, "a", "pool", 100),
            mv(2, 0, "b", "pool", 100),
            mv(5, 0, "pool", "a", 100),
            mv(6, 0, "pool", "z", 100),
            // b withdraws to itself before it deposits again: no link to
            // the later deposit
            mv(7, 0, "pool", "b", 100),
            mv(8, 0, "b", "pool", 100),
        ]);
        let d = demix(&l, &["pool"]);
        let m = strong(&l, &d, Heuristics::ADDRESS_MATCH);
        assert_eq!(
            m,
            [("a".to_string(), "a".to_string()), ("b".into(), "b".into())]
        );
        let ab: Vec<_> = links(&l, &d)
            .into_iter()
            .filter(|x| x.0 == "b" && x.1 == "b")
            .collect();
        // the link is to b's first deposit (block 2), never to block 8's
        let first_b = d.deposits.iter().position(|x| x.time == 20).unwrap() as u32;
        assert!(d
            .links
            .iter()
            .filter(|k| k.heuristics.contains(Heuristics::ADDRESS_MATCH))
            .all(|k| d.deposits[k.deposit as usize].time < 80));
        assert_eq!(ab.len(), 1);
        assert!(d.links.iter().any(|k| k.deposit == first_b));
        assert!(links(&l, &d)[0].2 >= 950_000);
    }

    #[test]
    fn linked_address_needs_a_transfer_before_the_withdrawal() {
        let l = ledger(vec![
            mv(0, 0, "a", "r", 1),
            mv(1, 0, "a", "pool", 100),
            mv(2, 0, "b", "pool", 100),
            mv(5, 0, "pool", "r", 100),
            mv(6, 0, "pool", "s", 100),
            mv(7, 0, "b", "s", 1), // after s's withdrawal: no link
        ]);
        let d = demix(&l, &["pool"]);
        assert_eq!(
            strong(&l, &d, Heuristics::LINKED_ADDRESS),
            [("a".to_string(), "r".to_string())]
        );
    }

    #[test]
    fn portfolio_over_two_pools_links_only_a_unique_shape() {
        let mut raws = vec![
            mv(1, 0, "a", "p100", 100),
            mv(1, 1, "a", "p10", 10),
            mv(1, 2, "a", "p10", 10),
            mv(2, 0, "b", "p100", 100),
            mv(2, 1, "b", "p10", 10),
            mv(5, 0, "p100", "r", 100),
            mv(5, 1, "p10", "r", 10),
            mv(5, 2, "p10", "r", 10),
            mv(6, 0, "p100", "s", 100),
            mv(6, 1, "p10", "s", 10),
        ];
        let l = ledger(raws.clone());
        let d = demix(&l, &["p100", "p10"]);
        let p = strong(&l, &d, Heuristics::PORTFOLIO);
        assert_eq!(p.len(), 5, "{p:?}");
        assert!(p.iter().filter(|x| x.0 == "a").all(|x| x.1 == "r"));
        assert!(p.iter().filter(|x| x.0 == "b").all(|x| x.1 == "s"));
        // a second depositor with a's shape: a's portfolio is no longer unique
        raws.extend([
            mv(3, 0, "c", "p100", 100),
            mv(3, 1, "c", "p10", 10),
            mv(3, 2, "c", "p10", 10),
        ]);
        let l = ledger(raws);
        let d = demix(&l, &["p100", "p10"]);
        let p = strong(&l, &d, Heuristics::PORTFOLIO);
        assert!(p.iter().all(|x| x.0 == "b" && x.1 == "s"), "{p:?}");
    }

    #[test]
    fn batch_cohort_links_equal_bursts_and_competing_bursts_share() {
        let mut raws = vec![
            mv(1, 0, "a", "pool", 100),
            mv(2, 0, "a", "pool", 100),
            mv(3, 0, "a", "pool", 100),
            mv(4, 0, "b", "pool", 100),
            mv(20, 0, "pool", "r", 100),
            mv(21, 0, "pool", "r", 100),
            mv(22, 0, "pool", "r", 100),
            mv(23, 0, "pool", "s", 100),
        ];
        let l = ledger(raws.clone());
        let d = demix(&l, &["pool"]);
        let c = strong(&l, &d, Heuristics::BATCH_COHORT);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|x| x == &("a".to_string(), "r".to_string())));
        assert!(d
            .links
            .iter()
            .filter(|k| k.heuristics.contains(Heuristics::BATCH_COHORT))
            .all(|k| k.ppm >= 700_000));
        // a burst of another size is no cohort
        let mut four = raws.clone();
        four.push(mv(24, 0, "pool", "r", 100));
        let l4 = ledger(four);
        assert!(strong(&l4, &demix(&l4, &["pool"]), Heuristics::BATCH_COHORT).is_empty());
        // c deposits three notes too: two bursts of three compete for r's
        // and share the confidence
        raws.extend([
            mv(10, 0, "c", "pool", 100),
            mv(11, 0, "c", "pool", 100),
            mv(12, 0, "c", "pool", 100),
        ]);
        let l = ledger(raws);
        let d = demix(&l, &["pool"]);
        let c = strong(&l, &d, Heuristics::BATCH_COHORT);
        assert_eq!(c.len(), 6, "{c:?}");
        assert!(c.iter().all(|x| (x.0 == "a" || x.0 == "c") && x.1 == "r"));
        let cohort: Vec<u32> = d
            .links
            .iter()
            .filter(|k| k.heuristics.contains(Heuristics::BATCH_COHORT))
            .map(|k| k.ppm)
            .collect();
        assert!(cohort.iter().all(|p| *p >= 350_000), "{cohort:?}");
    }

    /// A transaction with a gas price, paying `value` (ethereum-etl-like).
    fn tx(block: u64, n: u32, from: &str, to: &str, value: u128, price: u128) -> Raw {
        Raw::AccountTx(crate::ingest::raw::RawAccountTx {
            hash: format!("g{block}-{n}"),
            block,
            time: block * 10,
            tx_index: n,
            from: from.into(),
            to: Some(to.into()),
            value,
            fee: Some(21_000 * price),
            failed: false,
            gas_price: Some(price),
        })
    }

    /// A withdrawal as the pool contract pays it: `sender` calls the pool
    /// (paying the gas at `price`), the pool pays `to` in an internal call.
    fn withdraw(block: u64, n: u32, sender: &str, to: &str, price: u128) -> Vec<Raw> {
        let hash = format!("g{block}-{n}");
        vec![
            tx(block, n, sender, "pool", 0, price),
            Raw::Internal(crate::ingest::raw::RawInternal {
                source: crate::ingest::raw::TraceSource::EthereumEtl,
                id: format!("{hash}-0"),
                tx_hash: Some(hash),
                block,
                time: Some(block * 10),
                tx_index: Some(n),
                trace_address: vec![0],
                from: Some("pool".into()),
                to: Some(to.into()),
                value: 100,
                reward: false,
                moves: true,
            }),
        ]
    }

    #[test]
    fn a_gas_price_one_deposit_and_one_withdrawal_share_links_them() {
        let pi = 31_415_926_535;
        let mut raws = vec![
            tx(1, 0, "a", "pool", 100, pi),
            tx(2, 0, "b", "pool", 100, 20_000_000_001),
            tx(3, 0, "c", "pool", 100, 30_000_000_000),
        ];
        // r withdraws itself at a's price; a relayer withdraws to s at b's
        raws.extend(withdraw(5, 0, "r", "r", pi));
        raws.extend(withdraw(6, 0, "relayer", "s", 20_000_000_001));
        // t at c's price, but a whole number of gwei: a wallet default
        raws.extend(withdraw(7, 0, "t", "t", 30_000_000_000));
        let l = ledger(raws.clone());
        let d = demix(&l, &["pool"]);
        assert_eq!(d.withdrawals.len(), 3);
        assert_eq!(l.address(d.withdrawals[1].sender), "relayer");
        assert_eq!(
            strong(&l, &d, Heuristics::UNIQUE_GAS_PRICE),
            [("a".to_string(), "r".to_string())]
        );
        // a second withdrawal at a's price: no longer unique
        raws.extend(withdraw(8, 0, "q", "q", pi));
        let l = ledger(raws);
        let d = demix(&l, &["pool"]);
        assert!(strong(&l, &d, Heuristics::UNIQUE_GAS_PRICE).is_empty());
    }

    #[test]
    fn link_weights_never_exceed_one_note_per_deposit_or_withdrawal() {
        let mut raws = Vec::new();
        for b in 0..12u64 {
            raws.push(mv(b, 0, &format!("d{}", b % 4), "pool", 100));
            raws.push(mv(b + 3, 1, "pool", &format!("d{}", (b + 1) % 4), 100));
        }
        let l = ledger(raws);
        let d = demix(&l, &["pool"]);
        let mut per_dep = vec![0u32; d.deposits.len()];
        let mut per_wd = vec![0u32; d.withdrawals.len()];
        for k in &d.links {
            per_dep[k.deposit as usize] += k.ppm;
            per_wd[k.withdrawal as usize] += k.ppm;
            let (dep, wd) = (
                &d.deposits[k.deposit as usize],
                &d.withdrawals[k.withdrawal as usize],
            );
            assert!(dep.movement < wd.movements[0] && wd.time - dep.time <= 1_000);
        }
        assert!(per_dep.iter().chain(&per_wd).all(|w| *w <= PPM));
    }

    #[test]
    fn haircut_follows_the_links_and_conserves_value() {
        // s (the thief) and c (clean) each deposit a note; the pool pays r,
        // to whom s had sent 1 before, then q.
        let l = ledger(vec![
            mv(0, 0, "s", "r", 1),
            mv(1, 0, "s", "pool", 100),
            mv(2, 0, "c", "pool", 100),
            mv(5, 0, "pool", "r", 100),
            mv(6, 0, "pool", "q", 100),
        ]);
        let pools = [l.addr_id("pool").unwrap()];
        let d = std::sync::Arc::new(analyse(&l, &pools, &opts()));
        let mut plan = TracePlan {
            policy: Some(Policy::Haircut),
            seeds: vec![l.addr_id("s").unwrap()],
            mixers: pools.iter().copied().collect(),
            ..Default::default()
        };
        let held = |plan: &TracePlan| -> Vec<(String, u128, Option<u32>)> {
            let r = run(&l, plan);
            for t in r.totals.values() {
                assert!(t.conserved(), "{t:?}");
            }
            r.endpoints
                .iter()
                .map(|e| {
                    (
                        l.address(e.addr).to_string(),
                        e.tainted,
                        e.mixer.and_then(|m| m.link_ppm),
                    )
                })
                .collect()
        };
        // pass: the pool's haircut splits the note evenly
        assert_eq!(
            held(&plan),
            [("q".to_string(), 50, None), ("r".to_string(), 51, None)]
        );
        // demix: 0.8 (linked address) + 0.1 (window) of s's note follows to
        // r, the rest of the window's share to q
        plan.demix = Some(d);
        assert_eq!(
            held(&plan),
            [
                ("q".to_string(), 10, Some(100_000)),
                ("r".to_string(), 91, Some(900_000))
            ]
        );
    }
}
