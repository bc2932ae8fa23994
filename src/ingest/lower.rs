//! Lowering: parsed records (`Raw`, with strings) to numeric records with
//! temporary ids from a concurrent interner, chunk by chunk, so that no
//! per-record strings outlive their chunk. `Interners::finish` then ranks
//! the unique strings in sorted order, which makes the final ids independent
//! of input order and thread count.

use super::raw::{BlockRef, Raw, RawAsset, RawRef, Str, TraceSource};
use super::Loc;
use crate::model::{Amount, MoveKind};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Temporary or final id meaning "none".
pub const NONE: u32 = u32::MAX;

const SHARDS: usize = 64;

/// Append-only storage for interned text, in blocks that never move or grow
/// once allocated: a string's bytes stay where they are while the arena
/// lives, and a whole interner's strings are freed a few blocks at a time
/// rather than one allocation per string.
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<u8>>,
}

impl Arena {
    fn alloc(&mut self, s: &str) -> Key {
        let fits = |b: &Vec<u8>| b.capacity() - b.len() >= s.len();
        if !self.blocks.last().is_some_and(fits) {
            let last = self.blocks.last().map_or(0, |b| b.capacity());
            let cap = (last * 2).clamp(4 << 10, 1 << 20).max(s.len());
            self.blocks.push(Vec::with_capacity(cap));
        }
        let b = self.blocks.last_mut().expect("a block was just pushed");
        let start = b.len();
        // within capacity: the block does not reallocate, earlier keys stay valid
        b.extend_from_slice(s.as_bytes());
        Key {
            ptr: b[start..].as_ptr(),
            len: s.len(),
        }
    }
}

/// Interned text: a string in an [`Arena`]. Only read while that arena
/// lives (both belong to one shard, or to one [`Sorted`]), and never handed
/// out of this module.
#[derive(Copy, Clone)]
struct Key {
    ptr: *const u8,
    len: usize,
}

// SAFETY: a key is a shared reference to immutable bytes in an arena that is
// moved and dropped together with it.
unsafe impl Send for Key {}
unsafe impl Sync for Key {}

impl Key {
    #[inline]
    fn as_str(&self) -> &str {
        // SAFETY: the bytes were copied from a `&str` into an arena block that
        // is still alive and never written again where they lie.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }
}

impl std::hash::Hash for Key {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // as `str` hashes, so that lookups by `&str` find it
        self.as_str().hash(h)
    }
}

impl PartialEq for Key {
    #[inline]
    fn eq(&self, o: &Key) -> bool {
        self.as_str() == o.as_str()
    }
}

impl Eq for Key {}

impl std::borrow::Borrow<str> for Key {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// One shard of an [`Interner`]: its table and the text of its keys.
#[derive(Default)]
struct Shard {
    map: FxHashMap<Key, u32>,
    arena: Arena,
}

/// A concurrent string interner handing out temporary ids.
pub struct Interner {
    shards: Vec<Mutex<Shard>>,
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
                .map(|_| {
                    Mutex::new(Shard {
                        map: FxHashMap::with_capacity_and_hasher(per, Default::default()),
                        arena: Arena::default(),
                    })
                })
                .collect(),
            next: AtomicU32::new(0),
        }
    }

    pub fn intern(&self, s: &str) -> u32 {
        // not the top bits: the shard's own table uses those for its tags
        let shard = (rustc_hash::FxBuildHasher.hash_one(s) >> 32) as usize % SHARDS;
        let mut sh = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = sh.map.get(s) {
            return *id;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let key = sh.arena.alloc(s);
        sh.map.insert(key, id);
        id
    }

    pub fn opt(&self, s: &Option<String>) -> u32 {
        s.as_deref().map(|s| self.intern(s)).unwrap_or(NONE)
    }

    /// The unique strings in sorted order, and the map from temporary id to
    /// final id (the rank), keeping only those `keep` accepts.
    pub fn finish(self, keep: impl Fn(u32) -> bool + Sync) -> (Sorted, Vec<u32>) {
        let n = self.next.load(Ordering::Relaxed) as usize;
        let shards: Vec<Shard> = self
            .shards
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        // Most order is decided by the first 16 bytes: compare those as one
        // integer (computed once per string), the whole strings only on a tie.
        let mut all: Vec<(u128, Key, u32)> = shards
            .par_iter()
            .flat_map_iter(|sh| {
                sh.map
                    .iter()
                    .filter(|(_, id)| keep(**id))
                    .map(|(k, id)| (prefix(k.as_str()), *k, *id))
            })
            .collect();
        all.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_str().cmp(b.1.as_str())));
        let mut remap = vec![NONE; n];
        for (rank, (_, _, id)) in all.iter().enumerate() {
            remap[*id as usize] = rank as u32;
        }
        let sorted = Sorted {
            keys: all.into_iter().map(|(_, k, _)| k).collect(),
            _arenas: shards.into_iter().map(|sh| sh.arena).collect(),
        };
        (sorted, remap)
    }
}

/// An interner's unique strings in sorted order (final id = position).
pub struct Sorted {
    keys: Vec<Key>,
    /// Where the keys' bytes are: kept alive as long as the keys.
    _arenas: Vec<Arena>,
}

impl Sorted {
    /// The strings, by final id.
    pub fn strs(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.as_str()).collect()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The first 16 bytes of `s` as a big-endian integer (zero-padded), which
/// orders like the bytes themselves.
#[inline]
fn prefix(s: &str) -> u128 {
    let b = s.as_bytes();
    if let Some(head) = b.first_chunk::<16>() {
        return u128::from_be_bytes(*head);
    }
    let mut p = [0u8; 16];
    p[..b.len()].copy_from_slice(b);
    u128::from_be_bytes(p)
}

/// A chunk's own ids for the strings it has interned, keyed by text borrowed
/// from the chunk: a string repeated within a chunk (a transaction's hash on
/// each of its movements, a busy address) takes the shared interner's lock
/// and its large, cache-cold tables once per chunk instead of once per use.
#[derive(Default)]
pub struct Local<'a> {
    addr: FxHashMap<&'a str, u32>,
    tx: FxHashMap<&'a str, u32>,
}

impl<'a> Local<'a> {
    /// For a chunk of about `records` records.
    pub fn with_capacity(records: usize) -> Self {
        let map = || FxHashMap::with_capacity_and_hasher(records, Default::default());
        Local {
            addr: map(),
            tx: map(),
        }
    }

    #[inline]
    fn id(map: &mut FxHashMap<&'a str, u32>, global: &Interner, s: &Str<'a>) -> u32 {
        match s {
            Cow::Borrowed(b) => *map.entry(b).or_insert_with(|| global.intern(b)),
            Cow::Owned(o) => global.intern(o),
        }
    }

    #[inline]
    fn addr(&mut self, i: &Interners, s: &Str<'a>) -> u32 {
        Self::id(&mut self.addr, &i.addr, s)
    }

    #[inline]
    fn tx(&mut self, i: &Interners, s: &Str<'a>) -> u32 {
        Self::id(&mut self.tx, &i.tx, s)
    }

    #[inline]
    fn opt_addr(&mut self, i: &Interners, s: &Option<Str<'a>>) -> u32 {
        s.as_ref().map_or(NONE, |s| self.addr(i, s))
    }
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

    /// [`Lowered::push`] for a record with borrowed strings, interning
    /// through the chunk's `local` ids.
    pub fn push_ref<'a>(
        &mut self,
        raw: RawRef<'a>,
        loc: Loc,
        i: &Interners,
        local: &mut Local<'a>,
    ) {
        match raw {
            RawRef::AccountTx(t) => self.txs.push(LTx {
                hash: local.tx(i, &t.hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                from: local.addr(i, &t.from),
                to: local.opt_addr(i, &t.to),
                value: t.value,
                fee: t.fee,
                failed: t.failed,
                loc,
            }),
            RawRef::Token(t) => {
                let token = self.asset(&t.token, i);
                self.tokens.push(LToken {
                    tx: local.tx(i, &t.tx_hash),
                    log_index: t.log_index,
                    block: t.block,
                    time: t.time,
                    token,
                    from: local.addr(i, &t.from),
                    to: local.addr(i, &t.to),
                    value: t.value,
                    loc,
                })
            }
            RawRef::Move(m) => {
                let asset = self.asset(&m.asset, i);
                self.moves.push(LMove {
                    tx: m.tx_hash.as_ref().map_or(NONE, |h| local.tx(i, h)),
                    block: m.block,
                    time: m.time,
                    tx_index: m.tx_index,
                    seq: m.seq,
                    from: local.opt_addr(i, &m.from),
                    to: local.opt_addr(i, &m.to),
                    asset,
                    amount: m.amount,
                    kind: m.kind,
                    loc,
                })
            }
            RawRef::Owned(r) => self.push(r, loc, i),
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

    /// Add `n` to the line number of every record (a chunk numbered from 1
    /// moved to where it starts in its file).
    pub fn shift_lines(&mut self, n: u64) {
        self.txs.iter_mut().for_each(|t| t.loc.line += n);
        self.tokens.iter_mut().for_each(|t| t.loc.line += n);
        self.internals.iter_mut().for_each(|t| t.loc.line += n);
        self.utxos.iter_mut().for_each(|t| t.loc.line += n);
        self.moves.iter_mut().for_each(|t| t.loc.line += n);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ranks_of_the_sorted_strings() {
        let i = Interner::default();
        let words = ["0xab", "0xAB", "ab", "0x", "z", "0xab", "ETH", "0"];
        let ids: Vec<u32> = words.iter().map(|w| i.intern(w)).collect();
        assert_eq!(ids[0], ids[5]);
        let (sorted, remap) = i.finish(|_| true);
        let strs = sorted.strs();
        let mut want: Vec<&str> = words.to_vec();
        want.sort();
        want.dedup();
        assert_eq!(strs, want);
        for (w, id) in words.iter().zip(ids) {
            assert_eq!(strs[remap[id as usize] as usize], *w);
        }
    }
}
