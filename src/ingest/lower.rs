//! Lowering: parsed records (`Raw`, with strings) to numeric records with
//! temporary ids from a concurrent interner, chunk by chunk, so that no
//! per-record strings outlive their chunk. `Interners::finish` then ranks
//! the unique strings in sorted order, which makes the final ids independent
//! of input order and thread count.

use super::raw::{BlockRef, Raw, RawAsset, TraceSource};
use super::Loc;
use crate::model::{Amount, MoveKind};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Temporary or final id meaning "none".
pub const NONE: u32 = u32::MAX;

const SHARDS: usize = 64;

/// A concurrent string interner handing out temporary ids.
pub struct Interner {
    shards: Vec<Mutex<FxHashMap<Box<str>, u32>>>,
    next: AtomicU32,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_capacity(0)
    }
}

impl Interner {
    /// An interner expecting about `n` distinct strings (sized up front, so
    /// its tables do not rehash as a large file streams in).
    pub fn with_capacity(n: usize) -> Interner {
        let per = n / SHARDS;
        Interner {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FxHashMap::with_capacity_and_hasher(per, Default::default())))
                .collect(),
            next: AtomicU32::new(0),
        }
    }

    pub fn intern(&self, s: &str) -> u32 {
        // not the top bits: the shard's own table uses those for its tags
        let shard = (rustc_hash::FxBuildHasher.hash_one(s) >> 32) as usize % SHARDS;
        let mut m = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = m.get(s) {
            return *id;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        m.insert(s.into(), id);
        id
    }

    pub fn opt(&self, s: &Option<String>) -> u32 {
        s.as_deref().map(|s| self.intern(s)).unwrap_or(NONE)
    }

    /// The unique strings in sorted order, and the map from temporary id to
    /// final id (the rank), keeping only those `keep` accepts.
    pub fn finish(self, keep: impl Fn(u32) -> bool + Sync) -> (Vec<Box<str>>, Vec<u32>) {
        let n = self.next.load(Ordering::Relaxed) as usize;
        let mut all: Vec<(Box<str>, u32)> = self
            .shards
            .into_iter()
            .flat_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .filter(|(_, id)| keep(*id))
            .collect();
        // Most order is decided by the first 16 bytes: compare those as one
        // integer, and the whole strings only on a tie.
        all.par_sort_unstable_by(|a, b| {
            prefix(&a.0).cmp(&prefix(&b.0)).then_with(|| a.0.cmp(&b.0))
        });
        let mut remap = vec![NONE; n];
        for (rank, (_, id)) in all.iter().enumerate() {
            remap[*id as usize] = rank as u32;
        }
        (all.into_iter().map(|(s, _)| s).collect(), remap)
    }
}

/// The first 16 bytes of `s` as a big-endian integer (zero-padded), which
/// orders like the bytes themselves.
fn prefix(s: &str) -> u128 {
    let b = s.as_bytes();
    let mut p = [0u8; 16];
    let n = b.len().min(16);
    p[..n].copy_from_slice(&b[..n]);
    u128::from_be_bytes(p)
}

/// The three interners of a build.
#[derive(Default)]
pub struct Interners {
    pub addr: Interner,
    pub tx: Interner,
    pub asset: Interner,
}

impl Interners {
    /// Sized for about `records` records: a transaction hash per two
    /// records and an address per eight, as in typical exports (a guess only
    /// decides when the tables first grow).
    pub fn for_records(records: usize) -> Interners {
        Interners {
            addr: Interner::with_capacity(records / 8),
            tx: Interner::with_capacity(records / 2),
            asset: Interner::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LTx {
    pub hash: u32,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub fee: Option<Amount>,
    pub failed: bool,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LToken {
    pub tx: u32,
    pub log_index: u64,
    pub block: u64,
    pub time: Option<u64>,
    pub token: u32,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LInternal {
    /// 128-bit hash of the record's identity (`trace_id` or equivalent).
    pub id: u128,
    pub source: TraceSource,
    pub tx: u32,
    pub block: u64,
    pub time: Option<u64>,
    pub tx_index: Option<u32>,
    pub trace_address: Vec<u32>,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub reward: bool,
    pub moves: bool,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LMove {
    pub tx: u32,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub seq: u32,
    pub from: u32,
    pub to: u32,
    pub asset: u32,
    pub amount: Amount,
    pub kind: MoveKind,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LInput {
    pub prev: u32,
    pub vout: u32,
    pub owner: u32,
    pub value: Option<Amount>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LUtxo {
    pub txid: u32,
    pub block: BlockRef,
    pub index: Option<u32>,
    pub time: u64,
    pub coinbase: bool,
    pub asset: u32,
    pub inputs: Vec<LInput>,
    /// (owner, value) in output order.
    pub outputs: Vec<(u32, Amount)>,
    pub loc: Loc,
}

/// A chunk's (or a whole build's) lowered records.
#[derive(Default)]
pub struct Lowered {
    pub txs: Vec<LTx>,
    pub tokens: Vec<LToken>,
    pub internals: Vec<LInternal>,
    pub utxos: Vec<LUtxo>,
    pub moves: Vec<LMove>,
    pub assets: Vec<RawAsset>,
    /// Chain-tip heights revealed by `getblock` confirmations.
    pub tips: Vec<u64>,
    /// The last asset interned: most records of a chunk name the same one,
    /// and this keeps them off the interner's busiest shard.
    last_asset: Option<(String, u32)>,
}

impl Lowered {
    fn asset(&mut self, name: &str, i: &Interners) -> u32 {
        match &self.last_asset {
            Some((n, id)) if n == name => *id,
            _ => {
                let id = i.asset.intern(name);
                self.last_asset = Some((name.to_string(), id));
                id
            }
        }
    }

    pub fn push(&mut self, raw: Raw, loc: Loc, i: &Interners) {
        let a = |s: &str| i.addr.intern(s);
        match raw {
            Raw::AccountTx(t) => self.txs.push(LTx {
                hash: i.tx.intern(&t.hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                from: a(&t.from),
                to: i.addr.opt(&t.to),
                value: t.value,
                fee: t.fee,
                failed: t.failed,
                loc,
            }),
            Raw::Token(t) => {
                let token = self.asset(&t.token, i);
                self.tokens.push(LToken {
                    tx: i.tx.intern(&t.tx_hash),
                    log_index: t.log_index,
                    block: t.block,
                    time: t.time,
                    token,
                    from: a(&t.from),
                    to: a(&t.to),
                    value: t.value,
                    loc,
                })
            }
            Raw::Internal(t) => self.internals.push(LInternal {
                id: xxhash_rust::xxh3::xxh3_128(t.id.as_bytes()),
                source: t.source,
                tx: i.tx.opt(&t.tx_hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                trace_address: t.trace_address,
                from: i.addr.opt(&t.from),
                to: i.addr.opt(&t.to),
                value: t.value,
                reward: t.reward,
                moves: t.moves,
                loc,
            }),
            Raw::Utxo(u) => {
                let asset = self.asset(&u.asset, i);
                self.utxos.push(LUtxo {
                    txid: i.tx.intern(&u.txid),
                    block: u.block,
                    index: u.index,
                    time: u.time,
                    coinbase: u.coinbase,
                    asset,
                    inputs: u
                        .inputs
                        .iter()
                        .map(|x| LInput {
                            prev: i.tx.intern(&x.prev_txid),
                            vout: x.vout,
                            owner: i.addr.opt(&x.owner),
                            value: x.value,
                        })
                        .collect(),
                    outputs: u.outputs.iter().map(|o| (a(&o.owner), o.value)).collect(),
                    loc,
                })
            }
            Raw::Move(m) => {
                let asset = self.asset(&m.asset, i);
                self.moves.push(LMove {
                    tx: i.tx.opt(&m.tx_hash),
                    block: m.block,
                    time: m.time,
                    tx_index: m.tx_index,
                    seq: m.seq,
                    from: i.addr.opt(&m.from),
                    to: i.addr.opt(&m.to),
                    asset,
                    amount: m.amount,
                    kind: m.kind,
                    loc,
                })
            }
            Raw::Asset(x) => self.assets.push(x),
            Raw::BlockSeen(b) => self.tips.push(b.height + b.confirmations - 1),
        }
    }

    /// All parts in one, each vector allocated once at its final size (the
    /// parts of a large file add up to gigabytes: growing by doubling would
    /// copy them again and again).
    pub fn concat(parts: Vec<Lowered>) -> Lowered {
        let mut all = Lowered::default();
        all.txs
            .reserve_exact(parts.iter().map(|p| p.txs.len()).sum());
        all.tokens
            .reserve_exact(parts.iter().map(|p| p.tokens.len()).sum());
        all.internals
            .reserve_exact(parts.iter().map(|p| p.internals.len()).sum());
        all.utxos
            .reserve_exact(parts.iter().map(|p| p.utxos.len()).sum());
        all.moves
            .reserve_exact(parts.iter().map(|p| p.moves.len()).sum());
        for p in parts {
            all.append(p);
        }
        all
    }

    pub fn append(&mut self, mut o: Lowered) {
        self.txs.append(&mut o.txs);
        self.tokens.append(&mut o.tokens);
        self.internals.append(&mut o.internals);
        self.utxos.append(&mut o.utxos);
        self.moves.append(&mut o.moves);
        self.assets.append(&mut o.assets);
        self.tips.append(&mut o.tips);
    }

    /// Replace temporary ids by final ones.
    pub fn remap(&mut self, addr: &[u32], tx: &[u32], asset: &[u32]) {
        let m = |map: &[u32], id: u32| if id == NONE { NONE } else { map[id as usize] };
        self.txs.par_iter_mut().for_each(|t| {
            t.hash = m(tx, t.hash);
            t.from = m(addr, t.from);
            t.to = m(addr, t.to);
        });
        self.tokens.par_iter_mut().for_each(|t| {
            t.tx = m(tx, t.tx);
            t.token = m(asset, t.token);
            t.from = m(addr, t.from);
            t.to = m(addr, t.to);
        });
        self.internals.par_iter_mut().for_each(|t| {
            t.tx = m(tx, t.tx);
            t.from = m(addr, t.from);
            t.to = m(addr, t.to);
        });
        self.utxos.par_iter_mut().for_each(|u| {
            u.txid = m(tx, u.txid);
            u.asset = m(asset, u.asset);
            for i in &mut u.inputs {
                i.prev = m(tx, i.prev);
                i.owner = m(addr, i.owner);
            }
            for o in &mut u.outputs {
                o.0 = m(addr, o.0);
            }
        });
        self.moves.par_iter_mut().for_each(|t| {
            t.tx = m(tx, t.tx);
            t.from = m(addr, t.from);
            t.to = m(addr, t.to);
            t.asset = m(asset, t.asset);
        });
    }
}

impl Interner {
    /// How many temporary ids were handed out.
    pub fn len(&self) -> usize {
        self.next.load(Ordering::Relaxed) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
