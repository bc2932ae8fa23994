//! The background economy: the actors that make tracing hard the way real
//! chains do, generated block by block.
//!
//! Account model (ETH): users with heavy-tailed activity pay each other,
//! deposit at exchanges (each user has its own deposit address per
//! exchange; a forwarder sweeps it to the exchange's hot wallet some blocks
//! later through an internal transfer the hot wallet pays gas for), withdraw
//! from hot wallets, swap ETH for the token and back at a swap contract,
//! send ETH into a bridge or receive bridge payouts, deposit 100 ETH notes
//! into a fixed-denomination mixer pool (withdrawn days later by a relayer
//! to fresh addresses that then pay a user), and mine blocks (a 2 ETH
//! reward to one of a few miners, who are also users).
//!
//! UTXO model (BTC): users pay each other with change back to themselves,
//! deposit at exchange deposit addresses that the exchange consolidates into
//! its hot wallet every few blocks, withdraw from hot wallets; every block's
//! coinbase pays a miner the subsidy plus the block's fees.
//!
//! State is one balance (or a few coins) per actor plus queues of pending
//! sweeps and mixer notes: bounded by the number of actors, not by the
//! number of movements.

use super::{ids, AcctTx, Chain, Coin, Ev, Id, Label, Rng, UtxoTx, BTC, ETH, GWEI};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Addresses given balances from before the sample: they spend what the
/// generated ledger does not show them receiving (missing history, clean).
/// Every other generated address spends only what it received.
pub const PRESAMPLE: &str = "exchange hot wallets, the bridge and its operator, \
     the swap contract (ETH and token reserves), the mixer relayer (gas), \
     and each case's victim wallet";

/// Exchanges: names of the labels.
pub const EXCHANGES: [&str; 5] = ["Binance", "Coinbase", "Kraken", "OKX", "Huobi"];
/// The mixer's denomination.
pub const MIXER_NOTE: u128 = 100 * ETH;
/// Token base units per wei of ETH in a swap: 1 ETH = 2000 tokens
/// (6 decimals), so tokens = wei / 500_000_000.
pub const SWAP_DIV: u128 = 500_000_000;
pub const MINERS: u64 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    /// Exchange `e` sweeps `amount` (ETH, or the token) from a deposit address.
    Sweep {
        dep: Id,
        e: u64,
        amount: u128,
        token: bool,
    },
    /// The relayer withdraws a clean note to a fresh address.
    Withdraw,
    /// A fresh address pays what it got to a user.
    Forward { from: Id, amount: u128 },
}

pub struct Economy {
    chain: Chain,
    rng: Rng,
    users: u64,
    eth: Vec<u128>,
    tok: Vec<u128>,
    coins: Vec<Vec<Coin>>,
    hot_coins: Vec<Vec<Coin>>,
    dep_coins: Vec<Vec<Coin>>,
    /// Which exchanges each user has used (bit per exchange), for labels.
    used: Vec<u8>,
    pending: BinaryHeap<Reverse<(u64, u64, Pending)>>,
    seq: u64,
    next_key: u64,
    next_fresh: u64,
    price: u128,
    /// Whether this block has background activity (then it has a reward).
    active: bool,
}

impl Economy {
    pub fn new(chain: Chain, seed: u64, users: u64) -> Economy {
        let n = users as usize;
        let e = EXCHANGES.len() as u64;
        Economy {
            chain,
            rng: Rng::new(seed ^ 0xec0_0000),
            users,
            eth: if chain == Chain::Eth {
                vec![0; n]
            } else {
                Vec::new()
            },
            tok: if chain == Chain::Eth {
                vec![0; n]
            } else {
                Vec::new()
            },
            coins: if chain == Chain::Btc {
                vec![Vec::new(); n]
            } else {
                Vec::new()
            },
            hot_coins: (0..e)
                .map(|k| {
                    vec![Coin {
                        key: super::PRESAMPLE_KEYS + k,
                        vout: 0,
                        owner: ids::hot(k),
                        value: 10_000_000 * BTC,
                    }]
                })
                .collect(),
            dep_coins: vec![Vec::new(); e as usize],
            used: vec![0; n],
            pending: BinaryHeap::new(),
            seq: 0,
            next_key: 0,
            next_fresh: 0,
            price: 30 * GWEI,
            active: false,
        }
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key - 1
    }

    fn later(&mut self, block: u64, p: Pending) {
        self.seq += 1;
        self.pending.push(Reverse((block, self.seq, p)));
    }

    /// Background events of block `b` worth at least `budget` movements
    /// (pending sweeps and withdrawals that fall due are always done).
    /// Returns the movements added.
    pub fn block(&mut self, b: u64, budget: u64, out: &mut Vec<Ev>) -> u64 {
        let start = out.len();
        if self.chain == Chain::Eth {
            // a base fee that drifts from block to block
            let drift = self.rng.below(5) as i64 - 2;
            let gwei = (self.price / GWEI) as i64 + drift;
            self.price = gwei.clamp(8, 120) as u128 * GWEI;
        }
        // the block's reward counts against the budget
        self.active = budget > 0;
        let mut done = self.active as u64;
        while let Some(Reverse((at, _, _))) = self.pending.peek() {
            if *at > b {
                break;
            }
            let Reverse((_, _, p)) = self.pending.pop().unwrap();
            done += self.pending_event(b, p, out);
        }
        if self.chain == Chain::Btc && b % 6 == 0 {
            for e in 0..EXCHANGES.len() as u64 {
                done += self.btc_consolidate(e, out);
            }
        }
        while self.active && (done < budget || out.len() == start) {
            let before = out.len();
            match self.chain {
                Chain::Eth => self.eth_activity(b, out),
                Chain::Btc => self.btc_activity(out),
            }
            done += out[before..].iter().map(Ev::movements).sum::<u64>();
            if out.len() == before {
                done += 1; // nothing possible this time: do not spin
            }
        }
        out[start..].iter().map(Ev::movements).sum::<u64>() + self.active as u64
    }

    /// Close the block: the reward after the last transaction (account
    /// model) or the coinbase first (UTXO: subsidy plus every fee).
    pub fn close_block(&mut self, _b: u64, events: &mut Vec<Ev>) {
        if !self.active {
            return;
        }
        let miner = self.rng.heavy(MINERS.min(self.users));
        match self.chain {
            Chain::Eth => {
                events.push(Ev::Reward(ids::user(miner), 2 * ETH));
                self.eth[miner as usize] += 2 * ETH;
            }
            Chain::Btc => {
                let fees: u128 = events
                    .iter()
                    .map(|e| match e {
                        Ev::Utxo(t) => t.fee(),
                        _ => 0,
                    })
                    .sum();
                let tx = UtxoTx {
                    key: self.key(),
                    coinbase: true,
                    inputs: Vec::new(),
                    outputs: vec![(ids::user(miner), 1_250_000_000 + fees)],
                };
                self.coins[miner as usize].push(tx.coin(0));
                events.insert(0, Ev::Utxo(tx));
            }
        }
    }

    /// Labels of the economy's services and every deposit address used.
    pub fn labels(&self) -> Vec<Label> {
        let mut out = Vec::new();
        for (e, name) in EXCHANGES.iter().enumerate() {
            out.push((ids::hot(e as u64), "exchange", format!("{name} hot wallet")));
        }
        for (u, bits) in self.used.iter().enumerate() {
            for (e, name) in EXCHANGES.iter().enumerate() {
                if bits & (1 << e) != 0 {
                    out.push((
                        ids::deposit(u as u64, e as u64),
                        "exchange",
                        format!("{name} deposit"),
                    ));
                }
            }
        }
        if self.chain == Chain::Eth {
            out.push((ids::MIXER, "mixer", "Mixer pool 100 ETH".into()));
            out.push((ids::BRIDGE, "bridge", "Bridge".into()));
            out.push((ids::DEX, "dex", "Swap pool ETH/USDS".into()));
            out.push((ids::TOKEN, "token", "Synthetic USD".into()));
        }
        out
    }

    // ---- account model -------------------------------------------------

    fn tx(&mut self, from: Id, to: Id, value: u128, gas: u64) -> AcctTx {
        let tip = (1 + self.rng.below(3)) as u128 * GWEI;
        AcctTx {
            key: self.key(),
            from,
            to,
            value,
            gas,
            price: self.price + tip,
            internal: Vec::new(),
            tokens: Vec::new(),
        }
    }

    /// A heavy-tailed amount: 0.001 ETH to 100k ETH.
    fn big_amount(&mut self) -> u128 {
        10u128.pow(15 + self.rng.below(6) as u32) * (1 + self.rng.below(999) as u128)
    }

    /// A fraction of `bal` (skewed small), rounded to 0.0001 ETH.
    fn part(&mut self, bal: u128) -> u128 {
        let f = self.rng.unit().powi(2);
        let x = (bal as f64 * f) as u128;
        x - x % (100 * 1_000_000_000_000) // 0.0001 ETH
    }

    fn eth_activity(&mut self, b: u64, out: &mut Vec<Ev>) {
        let n = self.users;
        let r = self.rng.unit();
        let s = self.rng.heavy(n);
        let si = s as usize;
        let fee_max = 200_000 * (self.price + 3 * GWEI);
        if r < 0.18 || self.eth[si] < fee_max + ETH / 1000 {
            // an exchange withdrawal funds a user (often the poor sender)
            let to = if r < 0.18 { self.rng.below(n) } else { s };
            let e = self.rng.below(EXCHANGES.len() as u64);
            let x = self.big_amount();
            let t = self.tx(ids::hot(e), ids::user(to), x, 21_000);
            self.eth[to as usize] += x;
            out.push(Ev::Acct(t));
            return;
        }
        let avail = self.eth[si] - fee_max;
        if r < 0.46 {
            // a payment to another user
            let to = self.rng.below(n);
            let x = self.part(avail).max(ETH / 1000).min(avail);
            let t = self.tx(ids::user(s), ids::user(to), x, 21_000);
            self.pay(si, &t);
            self.eth[to as usize] += x;
            out.push(Ev::Acct(t));
        } else if r < 0.64 {
            // a deposit at the user's exchange, swept later
            let e = (s + self.rng.below(2)) % EXCHANGES.len() as u64;
            let dep = ids::deposit(s, e);
            let x = avail.min(self.part(avail).max(avail / 3)).max(1);
            let t = self.tx(ids::user(s), dep, x, 21_000);
            self.pay(si, &t);
            self.used[si] |= 1 << e;
            let at = b + 3 + self.rng.below(40);
            self.later(
                at,
                Pending::Sweep {
                    dep,
                    e,
                    amount: x,
                    token: false,
                },
            );
            out.push(Ev::Acct(t));
        } else if r < 0.74 {
            if self.tok[si] > 0 {
                // a token payment (to a user, or to the user's deposit address)
                let y = (self.tok[si] as f64 * (0.1 + 0.9 * self.rng.unit())) as u128;
                let y = y.max(1).min(self.tok[si]);
                let mut t = self.tx(ids::user(s), ids::TOKEN, 0, 55_000);
                if self.rng.unit() < 0.3 {
                    let e = s % EXCHANGES.len() as u64;
                    let dep = ids::deposit(s, e);
                    t.tokens.push((ids::user(s), dep, y));
                    self.used[si] |= 1 << e;
                    let at = b + 3 + self.rng.below(40);
                    self.later(
                        at,
                        Pending::Sweep {
                            dep,
                            e,
                            amount: y,
                            token: true,
                        },
                    );
                } else {
                    let to = self.rng.below(n);
                    t.tokens.push((ids::user(s), ids::user(to), y));
                    self.tok[to as usize] += y;
                }
                self.tok[si] -= y;
                self.pay(si, &t);
                out.push(Ev::Acct(t));
            } else {
                self.swap_in(s, avail, out);
            }
        } else if r < 0.84 {
            if self.tok[si] > 0 && self.rng.unit() < 0.5 {
                // token -> ETH: tokens in, ETH out by an internal transfer
                let y = self.tok[si];
                let x = y * SWAP_DIV * 997 / 1000;
                let mut t = self.tx(ids::user(s), ids::DEX, 0, 130_000);
                t.tokens.push((ids::user(s), ids::DEX, y));
                t.internal.push((ids::DEX, ids::user(s), x));
                self.tok[si] = 0;
                self.pay(si, &t);
                self.eth[si] += x;
                out.push(Ev::Acct(t));
            } else {
                self.swap_in(s, avail, out);
            }
        } else if r < 0.90 {
            if self.rng.unit() < 0.5 {
                let x = self.part(avail).max(1).min(avail);
                let t = self.tx(ids::user(s), ids::BRIDGE, x, 60_000);
                self.pay(si, &t);
                out.push(Ev::Acct(t));
            } else {
                let to = self.rng.below(n);
                let x = self.big_amount() / 10;
                let mut t = self.tx(ids::BRIDGE_OPERATOR, ids::BRIDGE, 0, 90_000);
                t.internal.push((ids::BRIDGE, ids::user(to), x));
                self.eth[to as usize] += x;
                out.push(Ev::Acct(t));
            }
        } else if r < 0.915 && avail >= super::economy::MIXER_NOTE {
            // a clean user's mixer note, withdrawn hours to days later
            let t = self.tx(ids::user(s), ids::MIXER, MIXER_NOTE, 180_000);
            self.pay(si, &t);
            let at = b + 300 + self.rng.below(20_000);
            self.later(at, Pending::Withdraw);
            out.push(Ev::Acct(t));
        } else {
            // a contract call that moves no value (an approval): a fee only
            let t = self.tx(ids::user(s), ids::TOKEN, 0, 46_000);
            self.pay(si, &t);
            out.push(Ev::Acct(t));
        }
    }

    fn pay(&mut self, si: usize, t: &AcctTx) {
        self.eth[si] -= t.value + t.fee();
    }

    fn swap_in(&mut self, s: u64, avail: u128, out: &mut Vec<Ev>) {
        let si = s as usize;
        let x = self.part(avail).max(ETH / 1000).min(avail);
        let y = x / SWAP_DIV * 997 / 1000;
        let mut t = self.tx(ids::user(s), ids::DEX, x, 120_000);
        t.tokens.push((ids::DEX, ids::user(s), y));
        self.pay(si, &t);
        self.tok[si] += y;
        out.push(Ev::Acct(t));
    }

    fn pending_event(&mut self, b: u64, p: Pending, out: &mut Vec<Ev>) -> u64 {
        let before = out.len();
        match p {
            Pending::Sweep {
                dep,
                e,
                amount,
                token,
            } => match self.chain {
                Chain::Eth => {
                    let mut t = self.tx(ids::hot(e), dep, 0, 60_000);
                    if token {
                        t.tokens.push((dep, ids::hot(e), amount));
                    } else {
                        t.internal.push((dep, ids::hot(e), amount));
                    }
                    out.push(Ev::Acct(t));
                }
                Chain::Btc => unreachable!("UTXO sweeps are consolidations"),
            },
            Pending::Withdraw => {
                let f = ids::fresh(self.next_fresh);
                self.next_fresh += 1;
                let mut t = self.tx(ids::RELAYER, ids::MIXER, 0, 350_000);
                t.internal.push((ids::MIXER, f, MIXER_NOTE));
                out.push(Ev::Acct(t));
                let at = b + 10 + self.rng.below(500);
                self.later(
                    at,
                    Pending::Forward {
                        from: f,
                        amount: MIXER_NOTE,
                    },
                );
            }
            Pending::Forward { from, amount } => {
                let to = self.rng.below(self.users);
                let mut t = self.tx(from, ids::user(to), 0, 21_000);
                t.value = amount - t.fee();
                self.eth[to as usize] += t.value;
                out.push(Ev::Acct(t));
            }
        }
        out[before..].iter().map(Ev::movements).sum()
    }

    // ---- UTXO model ------------------------------------------------------

    fn btc_fee(&mut self, inputs: usize, outputs: usize) -> u128 {
        let rate = 5 + self.rng.below(60) as u128;
        (11 + 68 * inputs as u128 + 31 * outputs as u128) * rate
    }

    /// Take coins from the front of `coins` until they cover `need` (all of
    /// them when there are many: a consolidation).
    fn take(coins: &mut Vec<Coin>, need: u128) -> Vec<Coin> {
        let mut sum = 0;
        let mut k = 0;
        while k < coins.len() && (sum < need || coins.len() > 12) && k < 40 {
            sum += coins[k].value;
            k += 1;
        }
        coins.drain(..k).collect()
    }

    fn btc_activity(&mut self, out: &mut Vec<Ev>) {
        let n = self.users;
        let r = self.rng.unit();
        let s = self.rng.heavy(n);
        let si = s as usize;
        let have: u128 = self.coins[si].iter().map(|c| c.value).sum();
        if r < 0.25 || have < 100_000 {
            let to = if r < 0.25 { self.rng.below(n) } else { s };
            let e = self.rng.below(EXCHANGES.len() as u64) as usize;
            let x = 10u128.pow(4 + self.rng.below(5) as u32) * (1 + self.rng.below(999) as u128);
            let fee = self.btc_fee(1, 2);
            let inputs = Self::take(&mut self.hot_coins[e], x + fee);
            let sum: u128 = inputs.iter().map(|c| c.value).sum();
            let x = x.min(sum.saturating_sub(fee + 1));
            let tx = UtxoTx {
                key: self.key(),
                coinbase: false,
                inputs,
                outputs: vec![(ids::user(to), x), (ids::hot(e as u64), sum - x - fee)],
            };
            self.coins[to as usize].push(tx.coin(0));
            self.hot_coins[e].push(tx.coin(1));
            out.push(Ev::Utxo(tx));
            return;
        }
        let deposit = r >= 0.7;
        let e = s % EXCHANGES.len() as u64;
        let to = if deposit {
            self.used[si] |= 1 << e;
            ids::deposit(s, e)
        } else {
            ids::user(self.rng.below(n))
        };
        let f = self.rng.unit().powi(2);
        let x = ((have as f64 * f) as u128).max(10_000);
        let fee0 = self.btc_fee(3, 2);
        let inputs = Self::take(&mut self.coins[si], x + fee0 + 1000);
        let sum: u128 = inputs.iter().map(|c| c.value).sum();
        if sum < x + fee0 + 1000 {
            // not enough after all: send everything but the fee
            let fee = fee0.min(sum / 2);
            let tx = UtxoTx {
                key: self.key(),
                coinbase: false,
                inputs,
                outputs: vec![(to, sum - fee)],
            };
            self.receive(to, deposit, e, tx.coin(0));
            out.push(Ev::Utxo(tx));
            return;
        }
        let mut outputs = vec![(to, x), (ids::user(s), sum - x - fee0)];
        let flip = self.rng.below(2) == 1;
        if flip {
            outputs.swap(0, 1);
        }
        let tx = UtxoTx {
            key: self.key(),
            coinbase: false,
            inputs,
            outputs,
        };
        let (pay, change) = if flip { (1, 0) } else { (0, 1) };
        self.receive(to, deposit, e, tx.coin(pay));
        self.coins[si].push(tx.coin(change));
        out.push(Ev::Utxo(tx));
    }

    fn receive(&mut self, to: Id, deposit: bool, e: u64, c: Coin) {
        if deposit {
            self.dep_coins[e as usize].push(c);
        } else {
            self.coins[to as usize].push(c);
        }
    }

    fn btc_consolidate(&mut self, e: u64, out: &mut Vec<Ev>) -> u64 {
        let ei = e as usize;
        if self.dep_coins[ei].is_empty() {
            return 0;
        }
        let inputs: Vec<Coin> = self.dep_coins[ei].drain(..).collect();
        let sum: u128 = inputs.iter().map(|c| c.value).sum();
        let fee = self.btc_fee(inputs.len(), 1).min(sum / 2);
        let tx = UtxoTx {
            key: self.key(),
            coinbase: false,
            inputs,
            outputs: vec![(ids::hot(e), sum - fee)],
        };
        self.hot_coins[ei].push(tx.coin(0));
        let m = Ev::Utxo(tx.clone()).movements();
        out.push(Ev::Utxo(tx));
        m
    }
}
