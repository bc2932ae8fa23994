//! Laundering typologies. Each takes the thief's current holdings (what
//! sits where, from which block on), emits the movements that launder them
//! into the [`Plan`], records the thief's intermediate addresses and where
//! value ends, and returns the new holdings.
//!
//! Amounts are exact: every transaction a thief address sends is paid for
//! (value and fee) out of that address's holding, so at every step
//! `stolen = Σ holdings + Σ endpoints + Σ decoy dust + fees`.
//!
//! Account model: every typology. UTXO model: `fan_out`, `peel_chain`,
//! `cash_out` (the others need the account model; `scenario` says so).

use super::economy::{EXCHANGES, MIXER_NOTE, SWAP_DIV};
use super::{ids, AcctTx, Asset, Chain, Coin, Ev, Id, Label, Rng, UtxoTx, ETH, GWEI};
use std::collections::{BTreeMap, BTreeSet};

/// Value the thief controls: `amount` of `asset` at `addr`, spendable from
/// block `block` on (in the UTXO model, one output: `coin`).
#[derive(Clone, Debug)]
pub struct Holding {
    pub addr: Id,
    pub asset: Asset,
    pub amount: u128,
    pub block: u64,
    pub coin: Option<Coin>,
}

/// What kind of place a truth endpoint is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndKind {
    /// The thief's address still holds it.
    Holding,
    /// An exchange deposit address received it (the exchange absorbs it).
    Exchange,
    /// The bridge received it: the value left the chain.
    Bridge,
    /// The swap contract received it in exchange for another asset.
    Dex,
}

impl EndKind {
    pub fn name(self) -> &'static str {
        match self {
            EndKind::Holding => "holding",
            EndKind::Exchange => "exchange",
            EndKind::Bridge => "bridge",
            EndKind::Dex => "dex",
        }
    }
}

/// The truth of one theft.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub name: String,
    pub seeds: Vec<Id>,
    pub stolen: BTreeMap<Asset, u128>,
    pub fees: BTreeMap<Asset, u128>,
    /// (address, asset) -> (amount, kind, swapped from: the asset a swap
    /// turned into this one; such endpoints are outside the identity).
    pub endpoints: BTreeMap<(Id, Asset), (u128, EndKind, Option<Asset>)>,
    pub launderers: BTreeSet<Id>,
    pub decoys: BTreeMap<(Id, Asset), u128>,
    /// The thief's mixer notes: transaction keys of the deposits and of the
    /// withdrawals (any of the thief's deposits funds any of its
    /// withdrawals: the notes are interchangeable).
    pub mixer_deposits: Vec<u64>,
    pub mixer_withdrawals: Vec<u64>,
}

impl Case {
    fn end(&mut self, addr: Id, asset: Asset, amount: u128, kind: EndKind, from: Option<Asset>) {
        if amount == 0 {
            return;
        }
        let e = self
            .endpoints
            .entry((addr, asset))
            .or_insert((0, kind, from));
        e.0 += amount;
    }

    /// `stolen - Σ endpoints - Σ decoys - fees` per stolen asset (all zero
    /// when the truth is exact and nothing is left in holdings).
    pub fn unaccounted(&self) -> BTreeMap<Asset, i128> {
        let mut out = BTreeMap::new();
        for (a, s) in &self.stolen {
            let ends: u128 = self
                .endpoints
                .iter()
                .filter(|((_, x), (_, _, from))| x == a && from.is_none())
                .map(|(_, v)| v.0)
                .sum();
            let dust: u128 = self
                .decoys
                .iter()
                .filter(|((_, x), _)| x == a)
                .map(|(_, v)| v)
                .sum();
            let fees = self.fees.get(a).copied().unwrap_or(0);
            out.insert(*a, *s as i128 - (ends + dust + fees) as i128);
        }
        out
    }
}

/// The laundering of every case, planned before the ledger is written:
/// events by block, and the truth.
pub struct Plan {
    pub chain: Chain,
    pub rng: Rng,
    /// (block, order of creation, event), sorted at the end.
    pub events: Vec<(u64, u64, Ev)>,
    pub cases: Vec<Case>,
    pub labels: Vec<Label>,
    /// Background users (targets of "flood the zone" dust).
    pub users: u64,
    pub start: u64,
    pub span: u64,
    next_key: u64,
    next_thief: u64,
    next_dep: u64,
}

impl Plan {
    pub fn new(chain: Chain, seed: u64, users: u64, start: u64) -> Plan {
        Plan {
            chain,
            rng: Rng::new(seed ^ 0x7a1_1c0de),
            events: Vec::new(),
            cases: Vec::new(),
            labels: Vec::new(),
            users,
            start,
            span: 0,
            next_key: super::PLAN_KEYS,
            next_thief: 0,
            next_dep: 0,
        }
    }

    pub fn case(&mut self) -> &mut Case {
        self.cases.last_mut().expect("a case is open")
    }

    fn push(&mut self, block: u64, ev: Ev) {
        let n = self.events.len() as u64;
        self.events.push((block, n, ev));
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key - 1
    }

    /// The key of the transaction made last.
    fn last_key(&self) -> u64 {
        self.next_key - 1
    }

    /// A fresh thief address (a launderer unless it becomes a seed).
    pub fn fresh(&mut self) -> Id {
        let id = ids::thief(self.next_thief);
        self.next_thief += 1;
        self.case().launderers.insert(id);
        id
    }

    /// A fresh deposit address of an account the thief opened at exchange `e`.
    pub fn deposit_addr(&mut self, e: u64) -> Id {
        let id = ids::thief_deposit(self.next_dep);
        self.next_dep += 1;
        self.labels
            .push((id, "exchange", format!("{} deposit", EXCHANGES[e as usize])));
        id
    }

    /// A gas price for the thief's transactions (20 to 80 gwei).
    pub fn price(&mut self) -> u128 {
        (20 + self.rng.below(61)) as u128 * GWEI
    }

    /// An account-model transaction at `block`; a thief sender's fee is a
    /// fee paid from stolen funds.
    #[allow(clippy::too_many_arguments)]
    pub fn eth_tx(
        &mut self,
        block: u64,
        from: Id,
        to: Id,
        value: u128,
        gas: u64,
        price: u128,
        internal: Vec<(Id, Id, u128)>,
        tokens: Vec<(Id, Id, u128)>,
    ) -> u128 {
        let t = AcctTx {
            key: self.key(),
            from,
            to,
            value,
            gas,
            price,
            internal,
            tokens,
        };
        let fee = t.fee();
        if ids::is_thief(from) {
            *self.case().fees.entry(Asset::Eth).or_default() += fee;
        }
        self.push(block, Ev::Acct(t));
        fee
    }

    /// A UTXO transaction at `block` spending `inputs`; returns its outputs.
    pub fn utxo_tx(
        &mut self,
        block: u64,
        inputs: Vec<Coin>,
        outputs: Vec<(Id, u128)>,
    ) -> Vec<Coin> {
        let t = UtxoTx {
            key: self.key(),
            coinbase: false,
            inputs,
            outputs,
        };
        let fee = t.fee();
        if t.inputs.iter().any(|c| ids::is_thief(c.owner)) {
            *self.case().fees.entry(Asset::Btc).or_default() += fee;
        }
        let coins = (0..t.outputs.len()).map(|k| t.coin(k)).collect();
        self.push(block, Ev::Utxo(t));
        coins
    }

    /// A UTXO fee for a transaction of this shape (10 to 60 sat/vB).
    pub fn btc_fee(&mut self, inputs: usize, outputs: usize) -> u128 {
        (11 + 68 * inputs as u128 + 31 * outputs as u128) * (10 + self.rng.below(51)) as u128
    }

    /// The exchange sweeps a thief deposit into its hot wallet later (a
    /// forwarder flush paid by the hot wallet, or a UTXO consolidation).
    fn sweep(&mut self, block: u64, dep: Id, e: u64, amount: u128, coin: Option<Coin>) {
        let at = block + 5 + self.rng.below(60);
        match coin {
            None => {
                let p = self.price();
                self.eth_tx(
                    at,
                    ids::hot(e),
                    dep,
                    0,
                    60_000,
                    p,
                    vec![(dep, ids::hot(e), amount)],
                    vec![],
                );
            }
            Some(c) => {
                let fee = self.btc_fee(1, 1);
                self.utxo_tx(at, vec![c], vec![(ids::hot(e), c.value - fee)]);
            }
        }
    }

    /// Whatever the holdings still hold becomes an endpoint.
    pub fn finish(&mut self, hs: Vec<Holding>) {
        for h in hs {
            self.case()
                .end(h.addr, h.asset, h.amount, EndKind::Holding, None);
        }
    }

    /// Sort the events by block (creation order within a block) and set the
    /// span to cover them.
    pub fn seal(&mut self, min_span: u64) {
        self.events.sort_by_key(|e| (e.0, e.1));
        let last = self.events.last().map_or(self.start, |e| e.0);
        self.span = (last + 30 - self.start).max(min_span);
    }
}

/// The theft: the victim pays `amounts` to fresh seed addresses at `block`.
pub fn theft(p: &mut Plan, case: u64, amounts: &[u128], block: u64) -> Vec<Holding> {
    let victim = ids::victim(case);
    let mut seeds = Vec::new();
    for _ in amounts {
        let s = p.fresh();
        p.case().launderers.remove(&s);
        p.case().seeds.push(s);
        seeds.push(s);
    }
    let asset = match p.chain {
        Chain::Eth => Asset::Eth,
        Chain::Btc => Asset::Btc,
    };
    let total: u128 = amounts.iter().sum();
    *p.case().stolen.entry(asset).or_default() += total;
    match p.chain {
        Chain::Eth => {
            let mut out = Vec::new();
            for (k, (&s, &a)) in seeds.iter().zip(amounts).enumerate() {
                let price = p.price();
                let b = block + k as u64 / 8;
                p.eth_tx(b, victim, s, a, 21_000, price, vec![], vec![]);
                out.push(Holding {
                    addr: s,
                    asset,
                    amount: a,
                    block: b,
                    coin: None,
                });
            }
            out
        }
        Chain::Btc => {
            // the victim's pre-sample output pays every seed in one transaction
            let fee = p.btc_fee(1, seeds.len());
            let pre = Coin {
                key: super::PRESAMPLE_KEYS + 0x100 + case,
                vout: 0,
                owner: victim,
                value: total + fee,
            };
            let outs = seeds.iter().zip(amounts).map(|(s, a)| (*s, *a)).collect();
            let coins = p.utxo_tx(block, vec![pre], outs);
            coins
                .into_iter()
                .map(|c| Holding {
                    addr: c.owner,
                    asset,
                    amount: c.value,
                    block,
                    coin: Some(c),
                })
                .collect()
        }
    }
}

/// Holdings too small to launder further (under 1 ETH or 0.001 BTC) stay
/// where they are: (worth moving, left alone).
fn sift(hs: Vec<Holding>) -> (Vec<Holding>, Vec<Holding>) {
    hs.into_iter().partition(|h| match h.asset {
        Asset::Btc => h.amount >= 100_000,
        _ => h.amount >= ETH,
    })
}

fn next_block(p: &mut Plan, after: u64, max_gap: u64) -> u64 {
    after + 1 + p.rng.below(max_gap.max(1))
}

/// Fan-out: each holding splits into `k` equal transfers to fresh addresses
/// (of `unit` each when given and affordable, else an equal share); what
/// does not divide stays where it was. Account model: `k` transactions over
/// a few blocks; UTXO: one transaction with `k` equal outputs.
pub fn fan_out(p: &mut Plan, hs: Vec<Holding>, k: usize, unit: Option<u128>) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    let mut out = Vec::new();
    for h in hs {
        match p.chain {
            Chain::Eth => {
                let price = p.price();
                let fee = 21_000 * price;
                let each = match unit {
                    Some(u) if k as u128 * (u + fee) <= h.amount => u,
                    _ => (h.amount.saturating_sub(k as u128 * fee)) / k as u128,
                };
                if each == 0 {
                    out.push(h);
                    continue;
                }
                let mut b = h.block;
                for i in 0..k {
                    if i % 5 == 0 {
                        b = next_block(p, b, 3);
                    }
                    let to = p.fresh();
                    p.eth_tx(b, h.addr, to, each, 21_000, price, vec![], vec![]);
                    out.push(Holding {
                        addr: to,
                        asset: h.asset,
                        amount: each,
                        block: b,
                        coin: None,
                    });
                }
                let rest = h.amount - k as u128 * (each + fee);
                if rest > 0 {
                    out.push(Holding {
                        amount: rest,
                        block: b,
                        ..h
                    });
                }
            }
            Chain::Btc => {
                let c = h.coin.expect("a UTXO holding has its output");
                let fee0 = p.btc_fee(1, k);
                let each = (c.value - fee0) / k as u128;
                let b = next_block(p, h.block, 6);
                let outs = (0..k).map(|_| (p.fresh(), each)).collect();
                for c in p.utxo_tx(b, vec![c], outs) {
                    out.push(utxo_holding(c, b));
                }
            }
        }
    }
    out.extend(small);
    out
}

fn utxo_holding(c: Coin, block: u64) -> Holding {
    Holding {
        addr: c.owner,
        asset: Asset::Btc,
        amount: c.value,
        block,
        coin: Some(c),
    }
}

/// Peel chain (Bitfinex 2016): `len` steps; each peels a small share (0.5
/// to 4%) to a fresh deposit address at an exchange and forwards the change
/// to a fresh address. UTXO: one-input two-output transactions (peel first,
/// change second); account model: two transactions per step.
pub fn peel_chain(p: &mut Plan, hs: Vec<Holding>, len: usize, max_gap: u64) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    let mut out = Vec::new();
    for mut h in hs {
        for _ in 0..len {
            let e = p.rng.below(EXCHANGES.len() as u64);
            let share = 0.005 + 0.035 * p.rng.unit();
            let unit = match p.chain {
                Chain::Eth => ETH / 100,
                Chain::Btc => 100_000,
            };
            let peel = ((h.amount as f64 * share) as u128 / unit * unit).max(unit);
            let b = next_block(p, h.block, max_gap);
            match p.chain {
                Chain::Eth => {
                    let price = p.price();
                    let fee = 21_000 * price;
                    if h.amount < peel + 2 * fee + unit {
                        break;
                    }
                    let dep = p.deposit_addr(e);
                    p.eth_tx(b, h.addr, dep, peel, 21_000, price, vec![], vec![]);
                    p.case().end(dep, h.asset, peel, EndKind::Exchange, None);
                    p.sweep(b, dep, e, peel, None);
                    let next = p.fresh();
                    let change = h.amount - peel - 2 * fee;
                    p.eth_tx(b, h.addr, next, change, 21_000, price, vec![], vec![]);
                    h = Holding {
                        addr: next,
                        asset: h.asset,
                        amount: change,
                        block: b,
                        coin: None,
                    };
                }
                Chain::Btc => {
                    let c = h.coin.expect("a UTXO holding has its output");
                    let fee = p.btc_fee(1, 2);
                    if c.value < peel + fee + unit {
                        break;
                    }
                    let dep = p.deposit_addr(e);
                    let next = p.fresh();
                    let coins =
                        p.utxo_tx(b, vec![c], vec![(dep, peel), (next, c.value - peel - fee)]);
                    p.case().end(dep, h.asset, peel, EndKind::Exchange, None);
                    p.sweep(b, dep, e, peel, Some(coins[0]));
                    h = utxo_holding(coins[1], b);
                }
            }
        }
        out.push(h);
    }
    out.extend(small);
    out
}

/// Mixer (Ronin, Harmony): each holding deposits as many notes of the pool's
/// denomination as it can afford (1 to 3 a block); `delay` blocks after the
/// last deposit the relayer withdraws the notes (internal transfers from the
/// pool), spread over hours. Per depositing holding, the thief is careful
/// or slips, as Tornado Cash studies found users do:
/// - careful (half the holdings): 5 or 6 notes to each fresh address;
/// - batch cohort (a quarter): all the holding's notes to one fresh address
///   in one burst, as many as were deposited together;
/// - linked address (a quarter): the holding first pays a fresh address a
///   little gas money (when its rest affords it), then all its notes go
///   there over hours.
///
/// What cannot buy a note stays where it was.
pub fn mixer(p: &mut Plan, hs: Vec<Holding>, delay: u64) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    let mut out = Vec::new();
    // per depositing holding: its address, notes, and where its rest is
    let mut groups: Vec<(Id, u64, Option<usize>)> = Vec::new();
    let mut last = 0u64;
    for h in hs {
        let price = p.price();
        let fee = 180_000 * price;
        let n = h.amount / (MIXER_NOTE + fee);
        let mut b = h.block;
        for i in 0..n {
            if i % 2 == 0 {
                b = next_block(p, b, 4);
            }
            p.eth_tx(
                b,
                h.addr,
                ids::MIXER,
                MIXER_NOTE,
                180_000,
                price,
                vec![],
                vec![],
            );
            let k = p.last_key();
            p.case().mixer_deposits.push(k);
        }
        last = last.max(b);
        let rest = h.amount - n * (MIXER_NOTE + fee);
        let at = (rest > 0).then(|| {
            out.push(Holding {
                amount: rest,
                block: b,
                ..h
            });
            out.len() - 1
        });
        if n > 0 {
            groups.push((h.addr, n as u64, at));
        }
    }
    let mut b = last + delay;
    for (depositor, mut notes, rest) in groups {
        let style = p.rng.below(4);
        // linked address: gas money from the depositor's rest first
        let gas = ETH / 10;
        let funded = if style == 3 {
            match rest {
                Some(r) if out[r].amount >= gas + 21_000 * 80 * GWEI => {
                    let w = p.fresh();
                    let price = p.price();
                    let at = b.max(out[r].block) + 1;
                    let fee = p.eth_tx(at, depositor, w, gas, 21_000, price, vec![], vec![]);
                    out[r].amount -= gas + fee;
                    out[r].block = out[r].block.max(at);
                    b = at;
                    Some(w)
                }
                _ => None,
            }
        } else {
            None
        };
        let mut w = funded;
        while notes > 0 {
            let k = if style == 2 || funded.is_some() {
                notes
            } else {
                (5 + p.rng.below(2)).min(notes)
            };
            notes -= k;
            let to = match w.take() {
                Some(x) => x,
                None => p.fresh(),
            };
            for _ in 0..k {
                b = next_block(p, b, if style == 2 { 3 } else { 30 });
                let price = p.price();
                p.eth_tx(
                    b,
                    ids::RELAYER,
                    ids::MIXER,
                    0,
                    350_000,
                    price,
                    vec![(ids::MIXER, to, MIXER_NOTE)],
                    vec![],
                );
                let key = p.last_key();
                p.case().mixer_withdrawals.push(key);
            }
            let extra = if Some(to) == funded { gas } else { 0 };
            out.push(Holding {
                addr: to,
                asset: Asset::Eth,
                amount: k as u128 * MIXER_NOTE + extra,
                block: b,
                coin: None,
            });
        }
    }
    out.extend(small);
    out
}

/// A transfer of everything but the fee from `h` to `to`.
fn forward(p: &mut Plan, h: &Holding, to: Id, block: u64) -> u128 {
    let price = p.price();
    let fee = 21_000 * price;
    let x = h.amount - fee;
    p.eth_tx(block, h.addr, to, x, 21_000, price, vec![], vec![]);
    x
}

/// Random shares of `total` (each at least 1/(4k) of it), summing exactly.
fn shares(p: &mut Plan, total: u128, k: usize) -> Vec<u128> {
    let w: Vec<f64> = (0..k).map(|_| 0.25 + p.rng.unit()).collect();
    let sum: f64 = w.iter().sum();
    let mut v: Vec<u128> = w.iter().map(|x| (total as f64 * x / sum) as u128).collect();
    let got: u128 = v.iter().sum();
    if got <= total {
        v[k - 1] += total - got;
    } else {
        v[k - 1] -= got - total;
    }
    v
}

/// Split `h` over `targets` in random shares (every transfer paying its own
/// fee out of `h`); returns the holdings created.
fn split(p: &mut Plan, h: &Holding, targets: &[Id], max_gap: u64) -> Vec<Holding> {
    let price = p.price();
    let fee = 21_000 * price;
    let k = targets.len();
    let parts = shares(p, h.amount - k as u128 * fee, k);
    let mut b = h.block;
    let mut out = Vec::new();
    for (t, x) in targets.iter().zip(parts) {
        b = next_block(p, b, max_gap);
        p.eth_tx(b, h.addr, *t, x, 21_000, price, vec![], vec![]);
        out.push(Holding {
            addr: *t,
            asset: h.asset,
            amount: x,
            block: b,
            coin: None,
        });
    }
    out
}

/// Scatter-gather: each holding scatters over `k` fresh addresses, which
/// each forward everything to one fresh gathering address later.
pub fn scatter_gather(p: &mut Plan, hs: Vec<Holding>, k: usize) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    let mut out = Vec::new();
    for h in hs {
        let mids: Vec<Id> = (0..k).map(|_| p.fresh()).collect();
        let parts = split(p, &h, &mids, 4);
        let g = p.fresh();
        let mut total = 0;
        let mut b = 0;
        for m in &parts {
            let at = next_block(p, m.block, 40);
            b = b.max(at);
            total += forward(p, m, g, at);
        }
        out.push(Holding {
            addr: g,
            asset: h.asset,
            amount: total,
            block: b,
            coin: None,
        });
    }
    out.extend(small);
    out
}

/// Gather-scatter: every holding sends everything to one fresh address,
/// which then scatters it over `k` fresh addresses.
pub fn gather_scatter(p: &mut Plan, hs: Vec<Holding>, k: usize) -> Vec<Holding> {
    let (hs, mut small) = sift(hs);
    if hs.is_empty() {
        return small;
    }
    let g = p.fresh();
    let mut total = 0;
    let mut b = 0;
    for h in &hs {
        let at = next_block(p, h.block, 20);
        b = b.max(at);
        total += forward(p, h, g, at);
    }
    let gathered = Holding {
        addr: g,
        asset: hs[0].asset,
        amount: total,
        block: b,
        coin: None,
    };
    let outs: Vec<Id> = (0..k).map(|_| p.fresh()).collect();
    small.extend(split(p, &gathered, &outs, 10));
    small
}

/// Cycle (round trip): each holding travels through `len - 1` fresh
/// addresses and comes back to where it started.
pub fn cycle(p: &mut Plan, hs: Vec<Holding>, len: usize) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    let mut out = Vec::new();
    for h in hs {
        let origin = h.addr;
        let mut cur = h;
        for i in 0..len.max(2) {
            let to = if i + 1 == len.max(2) {
                origin
            } else {
                p.fresh()
            };
            let b = next_block(p, cur.block, 6);
            let x = forward(p, &cur, to, b);
            cur = Holding {
                addr: to,
                asset: cur.asset,
                amount: x,
                block: b,
                coin: None,
            };
        }
        out.push(cur);
    }
    out.extend(small);
    out
}

/// Stacked bipartite layers (AMLSim): every address of a layer pays every
/// address of the next one; `widths` gives each new layer's size.
pub fn layers(p: &mut Plan, hs: Vec<Holding>, widths: &[usize]) -> Vec<Holding> {
    let (mut cur, mut small) = sift(hs);
    if cur.is_empty() {
        return small;
    }
    for &w in widths {
        let next: Vec<Id> = (0..w).map(|_| p.fresh()).collect();
        let mut got: BTreeMap<Id, (u128, u64)> = BTreeMap::new();
        for h in &cur {
            for part in split(p, h, &next, 3) {
                let e = got.entry(part.addr).or_insert((0, 0));
                e.0 += part.amount;
                e.1 = e.1.max(part.block);
            }
        }
        cur = next
            .iter()
            .map(|a| Holding {
                addr: *a,
                asset: Asset::Eth,
                amount: got[a].0,
                block: got[a].1,
                coin: None,
            })
            .collect();
    }
    small.extend(cur);
    small
}

/// Chain hop: each holding goes into the bridge (it leaves this chain).
pub fn bridge(p: &mut Plan, hs: Vec<Holding>) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    for h in hs {
        let b = next_block(p, h.block, 20);
        let price = p.price();
        let x = h.amount - 60_000 * price;
        p.eth_tx(b, h.addr, ids::BRIDGE, x, 60_000, price, vec![], vec![]);
        p.case().end(ids::BRIDGE, h.asset, x, EndKind::Bridge, None);
    }
    small
}

/// Swap: each holding's ETH goes to the swap contract, which pays the
/// token to the same address (both ends are endpoints; the token one is
/// marked as swapped from ETH).
pub fn swap(p: &mut Plan, hs: Vec<Holding>) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    for h in hs {
        let b = next_block(p, h.block, 20);
        let price = p.price();
        let x = h.amount - 120_000 * price;
        let y = x / SWAP_DIV * 997 / 1000;
        p.eth_tx(
            b,
            h.addr,
            ids::DEX,
            x,
            120_000,
            price,
            vec![],
            vec![(ids::DEX, h.addr, y)],
        );
        p.case().end(ids::DEX, h.asset, x, EndKind::Dex, None);
        p.case()
            .end(h.addr, Asset::Token, y, EndKind::Holding, Some(Asset::Eth));
    }
    small
}

/// Cash-out: each holding goes to a fresh deposit address at an exchange.
pub fn cash_out(p: &mut Plan, hs: Vec<Holding>) -> Vec<Holding> {
    let (hs, small) = sift(hs);
    for h in hs {
        let e = p.rng.below(EXCHANGES.len() as u64);
        let dep = p.deposit_addr(e);
        let b = next_block(p, h.block, 30);
        match p.chain {
            Chain::Eth => {
                let x = forward(p, &h, dep, b);
                p.case().end(dep, h.asset, x, EndKind::Exchange, None);
                p.sweep(b, dep, e, x, None);
            }
            Chain::Btc => {
                let c = h.coin.expect("a UTXO holding has its output");
                let fee = p.btc_fee(1, 1);
                let coins = p.utxo_tx(b, vec![c], vec![(dep, c.value - fee)]);
                p.case()
                    .end(dep, h.asset, coins[0].value, EndKind::Exchange, None);
                p.sweep(b, dep, e, coins[0].value, Some(coins[0]));
            }
        }
    }
    small
}

/// Decoys ("flood the zone"): the first holding sends dust to `n`
/// look-alikes of thief addresses (same first and last characters) and to
/// `n / 2` random background users. Decoys never get more than dust.
pub fn decoys(p: &mut Plan, mut hs: Vec<Holding>, n: usize) -> Vec<Holding> {
    let Some(h) = hs.first_mut() else {
        return hs;
    };
    let case = p.case();
    let targets: Vec<Id> = case
        .launderers
        .iter()
        .chain(case.seeds.iter())
        .copied()
        .collect();
    let price = p.price();
    let fee = 21_000 * price;
    let mut b = h.block;
    for i in 0..n + n / 2 {
        let dust = (1 + p.rng.below(999)) as u128 * 1_000_000_000_000; // up to 0.001 ETH
        if h.amount < dust + fee {
            break;
        }
        let to = if i < n {
            let t = targets[p.rng.below(targets.len() as u64) as usize];
            ids::lookalike(t - ids::thief(0), p.rng.below(256))
        } else {
            ids::user(p.rng.below(p.users))
        };
        if p.case().decoys.contains_key(&(to, h.asset)) {
            continue;
        }
        if i % 3 == 0 {
            b = next_block(p, b, 3);
        }
        p.eth_tx(b, h.addr, to, dust, 21_000, price, vec![], vec![]);
        h.amount -= dust + fee;
        h.block = b;
        p.case().decoys.insert((to, h.asset), dust);
    }
    hs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(chain: Chain) -> (Plan, Vec<Holding>) {
        let mut p = Plan::new(chain, 9, 100, 1000);
        p.cases.push(Case::default());
        let amount = match chain {
            Chain::Eth => 5_000 * ETH,
            Chain::Btc => 500 * super::super::BTC,
        };
        let hs = theft(&mut p, 0, &[amount], 1010);
        (p, hs)
    }

    fn accts(p: &Plan) -> Vec<&AcctTx> {
        p.events
            .iter()
            .filter_map(|e| match &e.2 {
                Ev::Acct(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    fn exact(p: &Plan, hs: Vec<Holding>) {
        let mut p2 = Plan::new(p.chain, 0, 1, 0);
        p2.cases = p.cases.clone();
        p2.finish(hs);
        assert!(p2.cases[0].unaccounted().values().all(|d| *d == 0));
    }

    #[test]
    fn fan_out_makes_k_equal_transfers_from_one_address() {
        let (mut p, hs) = plan(Chain::Eth);
        let seed = hs[0].addr;
        let out = fan_out(&mut p, hs, 40, Some(100 * ETH));
        let sent: Vec<_> = accts(&p).into_iter().filter(|t| t.from == seed).collect();
        assert_eq!(sent.len(), 40);
        assert!(sent.iter().all(|t| t.value == 100 * ETH));
        let to: BTreeSet<Id> = sent.iter().map(|t| t.to).collect();
        assert_eq!(to.len(), 40);
        exact(&p, out);

        let (mut p, hs) = plan(Chain::Btc);
        let out = fan_out(&mut p, hs, 5, None);
        let Ev::Utxo(t) = &p.events.last().unwrap().2 else {
            panic!()
        };
        assert_eq!((t.inputs.len(), t.outputs.len()), (1, 5));
        assert!(t.outputs.iter().all(|o| o.1 == t.outputs[0].1));
        exact(&p, out);
    }

    #[test]
    fn a_utxo_peel_chain_is_one_input_two_output_steps_forwarding_the_change() {
        let (mut p, hs) = plan(Chain::Btc);
        let out = peel_chain(&mut p, hs, 10, 3);
        let steps: Vec<&UtxoTx> = p
            .events
            .iter()
            .filter_map(|e| match &e.2 {
                Ev::Utxo(t) if t.inputs.iter().any(|c| ids::is_thief(c.owner)) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(steps.len(), 10);
        for w in steps.windows(2) {
            assert_eq!((w[0].inputs.len(), w[0].outputs.len()), (1, 2));
            assert_eq!(w[1].inputs[0], w[0].coin(1), "the change is spent next");
            let peel = w[0].outputs[0];
            assert_eq!(
                ids::role(peel.0),
                6,
                "peels go to exchange deposit addresses"
            );
            assert!(peel.1 < w[0].inputs[0].value / 20);
        }
        assert_eq!(out[0].coin, Some(steps[9].coin(1)));
        assert_eq!(p.case().endpoints.len(), 10);
        exact(&p, out);
    }

    #[test]
    fn mixer_notes_are_the_denomination_and_withdrawals_pay_fresh_addresses_5_or_6_notes() {
        let (mut p, hs) = plan(Chain::Eth);
        let seed = hs[0].addr;
        let out = mixer(&mut p, hs, 14_400);
        let t = accts(&p);
        let deposits: Vec<_> = t
            .iter()
            .filter(|t| t.to == ids::MIXER && t.from == seed)
            .collect();
        assert_eq!(deposits.len(), 49);
        assert!(deposits.iter().all(|t| t.value == MIXER_NOTE));
        let last_deposit = p
            .events
            .iter()
            .filter(|e| matches!(&e.2, Ev::Acct(t) if t.from == seed && t.to == ids::MIXER))
            .map(|e| e.0)
            .max()
            .unwrap();
        let mut per: BTreeMap<Id, u32> = BTreeMap::new();
        for e in &p.events {
            if let Ev::Acct(t) = &e.2 {
                if t.from == ids::RELAYER {
                    assert_eq!(t.value, 0);
                    assert_eq!(t.internal, vec![(ids::MIXER, t.internal[0].1, MIXER_NOTE)]);
                    assert!(e.0 >= last_deposit + 14_400, "withdrawn days later");
                    *per.entry(t.internal[0].1).or_default() += 1;
                }
            }
        }
        assert_eq!(per.values().sum::<u32>(), 49);
        let n = per.len();
        for (i, (w, k)) in per.iter().enumerate() {
            assert!(*k == 5 || *k == 6 || i + 1 == n, "{k} notes");
            assert!(
                t.iter().all(|t| t.to != *w || t.from == ids::RELAYER),
                "fresh"
            );
        }
        exact(&p, out);
    }

    #[test]
    fn mixer_slips_give_batch_cohorts_and_linked_addresses() {
        let (mut p, hs) = plan(Chain::Eth);
        let hs = fan_out(&mut p, hs, 16, None);
        let depositors: Vec<Id> = hs.iter().map(|h| h.addr).collect();
        let out = mixer(&mut p, hs, 14_400);
        let t = accts(&p);
        let notes = |from: Id| {
            t.iter()
                .filter(|x| x.from == from && x.to == ids::MIXER)
                .count()
        };
        let mut got: BTreeMap<Id, usize> = BTreeMap::new();
        for x in t.iter().filter(|x| x.from == ids::RELAYER) {
            *got.entry(x.internal[0].1).or_default() += 1;
        }
        // a linked address: a depositor paid it before the notes came
        let linked: Vec<Id> = got
            .keys()
            .copied()
            .filter(|w| t.iter().any(|x| x.to == *w && depositors.contains(&x.from)))
            .collect();
        assert!(!linked.is_empty());
        for w in &linked {
            let d = t
                .iter()
                .find(|x| x.to == *w && depositors.contains(&x.from))
                .unwrap()
                .from;
            assert_eq!(
                got[w],
                notes(d),
                "a linked address gets all its depositor's notes"
            );
        }
        // a batch cohort: some address gets as many notes as one depositor
        // made, other than 5 or 6
        assert!(got.iter().any(|(w, k)| !linked.contains(w)
            && *k != 5
            && *k != 6
            && depositors.iter().any(|d| notes(*d) == *k)));
        exact(&p, out);
    }

    #[test]
    fn cycles_return_and_layers_are_complete_bipartite() {
        let (mut p, hs) = plan(Chain::Eth);
        let seed = hs[0].addr;
        let out = cycle(&mut p, hs, 4);
        assert_eq!(out[0].addr, seed);
        assert_eq!(accts(&p).len(), 1 + 4);
        exact(&p, out.clone());
        let before = accts(&p).len();
        let out = layers(&mut p, out, &[3, 4]);
        let t = &accts(&p)[before..];
        assert_eq!(t.len(), 3 + 3 * 4);
        let l1: BTreeSet<Id> = t[..3].iter().map(|t| t.to).collect();
        for a in &l1 {
            let to: BTreeSet<Id> = t.iter().filter(|t| t.from == *a).map(|t| t.to).collect();
            assert_eq!(to.len(), 4);
        }
        assert_eq!(out.len(), 4);
        exact(&p, out);
    }

    #[test]
    fn scatter_gather_and_gather_scatter() {
        let (mut p, hs) = plan(Chain::Eth);
        let out = scatter_gather(&mut p, hs, 5);
        assert_eq!(out.len(), 1);
        let g = out[0].addr;
        assert_eq!(accts(&p).iter().filter(|t| t.to == g).count(), 5);
        let out = fan_out(&mut p, out, 3, None);
        let n = accts(&p).len();
        let out = gather_scatter(&mut p, out, 4);
        let t = &accts(&p)[n..];
        let g = t[0].to;
        assert!(t[..3].iter().all(|t| t.to == g));
        assert!(t[3..].iter().all(|t| t.from == g));
        assert_eq!(out.iter().filter(|h| h.amount >= ETH).count(), 4);
        exact(&p, out);
    }

    #[test]
    fn decoys_look_alike_and_bridge_swap_end_the_value() {
        let (mut p, hs) = plan(Chain::Eth);
        let hs = fan_out(&mut p, hs, 2, None);
        let hs = decoys(&mut p, hs, 8);
        let looks: Vec<Id> = p
            .case()
            .decoys
            .keys()
            .map(|k| k.0)
            .filter(|d| ids::role(*d) == 7)
            .collect();
        assert!(looks.len() >= 6);
        let c = p.cases[0].clone();
        let thief: Vec<String> = c
            .launderers
            .iter()
            .chain(&c.seeds)
            .map(|a| super::super::render(Chain::Eth, *a))
            .collect();
        for d in looks {
            let a = super::super::render(Chain::Eth, d);
            assert!(
                thief
                    .iter()
                    .any(|t| t[..6] == a[..6] && t[38..] == a[38..] && *t != a),
                "{a}"
            );
        }
        let (a, b) = (vec![hs[0].clone()], vec![hs[1].clone()]);
        assert!(bridge(&mut p, a).is_empty());
        assert!(swap(&mut p, b).is_empty());
        let kinds: BTreeSet<EndKind> = p.case().endpoints.values().map(|v| v.1).collect();
        assert!(kinds.contains(&EndKind::Bridge) && kinds.contains(&EndKind::Dex));
        assert!(p.case().endpoints.keys().any(|k| k.1 == Asset::Token));
        exact(&p, hs.into_iter().skip(2).collect());
    }
}
