//! Build a `Ledger` from parsed records: place every record in canonical
//! order (SPEC.md §1), drop and count duplicates, intern addresses, assets and
//! hashes, number the accounts, and link UTXO inputs to the outputs they
//! spend.
//!
//! Everything here is a function of the *set* of records: the order of files
//! and lines and the thread count never change the result (ids are ranks in
//! sorted tables; duplicates resolve to the smallest record).

use super::lower::{
    rank, split_by_sizes, Ids, LInternal, LMove, LToken, LTx, LUtxo, Lowered, Table, NONE,
};
use super::raw::{BlockRef, Raw, TraceSource};
use super::{Loc, Reject};
use crate::ledger::{Csr, Ledger};
use crate::model::{
    Account, AcctId, AddrId, Amount, Amt, AssetId, AssetInfo, BlockTime, ChainModel, MoveKind,
    Movement, TxId, TxInput, TxOutput, UtxoTx, LANE_REWARD, LANE_UNKNOWN_TX, NO_OUTPUT,
};
use crate::runs;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub struct Built {
    pub ledger: Ledger,
    pub rejects: Vec<Reject>,
    pub phases: super::Phases,
}

/// Native coin of the account model.
pub const ETH: &str = "ETH";

/// Sort key of an account movement: block, transaction lane, phase inside
/// the transaction (0 native value, 1 fee, 2 tokens), position (trace address,
/// log index or sequence number), then a content tie-break so equal keys sort
/// the same way whatever the input order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MoveKey {
    block: u64,
    lane: u32,
    phase: u8,
    sub: SmallVec<[u32; 4]>,
    tie: (u32, u32, u32, Amount),
}

/// Where a pending movement's [`MoveKey`] comes from: its record, by kind
/// and place (8 bytes instead of the key's 80).
#[derive(Copy, Clone)]
struct KeyOf {
    source: KeySource,
    at: u32,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum KeySource {
    /// A transaction's value (phase 0) or fee (phase 1).
    TxValue,
    TxFee,
    Internal,
    Token,
    Move,
}

#[derive(Copy, Clone)]
struct Pending {
    block: u64,
    time: u64,
    tx: u32,
    from: u32,
    to: u32,
    /// Temporary asset id (after remap: final).
    asset: u32,
    kind: MoveKind,
    amount: Amount,
}

/// Ingest records already in memory (tests, tools): lower and build.
pub fn build(raws: Vec<(Raw, Loc)>, paths: &[PathBuf]) -> Result<Built, Reject> {
    let mut low = Lowered::default();
    for (r, loc) in raws {
        low.push(r, loc);
    }
    finish(vec![low], paths)
}

/// Build a ledger from records in memory, none of them rejected (tests).
#[cfg(test)]
pub(crate) fn ledger_of(raws: Vec<Raw>) -> Ledger {
    let raws = raws.into_iter().map(|r| (r, Loc::default())).collect();
    build(raws, &[]).map(|b| b.ledger).expect("builds")
}

/// A BTC transaction alone in block `block` (tests): spending `(txid,
/// vout)` inputs of unknown owner and value, paying `(owner, value)`
/// outputs; no inputs makes a coinbase.
#[cfg(test)]
pub(crate) fn utx(txid: &str, block: u64, inputs: &[(&str, u32)], outputs: &[(&str, u128)]) -> Raw {
    use crate::ingest::raw::{BlockRef, RawInput, RawOutput, RawUtxoTx};
    Raw::Utxo(RawUtxoTx {
        txid: txid.into(),
        block: BlockRef::Height(block),
        index: Some(0),
        time: block,
        coinbase: inputs.is_empty(),
        asset: "BTC".into(),
        inputs: inputs
            .iter()
            .map(|(t, n)| RawInput {
                prev_txid: (*t).into(),
                vout: *n,
                owner: None,
                value: None,
            })
            .collect(),
        outputs: outputs
            .iter()
            .map(|(o, v)| RawOutput {
                owner: (*o).into(),
                value: *v,
            })
            .collect(),
    })
}

/// Below this many places where the next element is smaller, `sorted_order`
/// merges runs rather than sorting.
const FEW_RUNS: usize = 64;

/// At most this many sorted runs are merged by [`merge_runs`], in parallel,
/// without a sort.
const MERGED_RUNS: usize = 8;

/// The order that sorts `v` by `primary`, then `tie`, as indices: sorting
/// 16-byte keys moves far less memory than sorting records of a hundred
/// bytes. `primary` must agree with the full order (a < b implies
/// primary(a) <= primary(b)).
fn sorted_order<T: Sync>(
    v: &[T],
    primary: impl Fn(&T) -> u128 + Sync,
    tie: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) -> Vec<u32> {
    // Exports are often written in order already (the native format's
    // movements, block by block): one parallel pass finds out, and spares
    // the sort and its keys.
    if runs::neighbours_all(v, |x, y| not_after(x, y, &primary, &tie)) {
        return (0..v.len() as u32).collect();
    }
    let keys: Vec<u128> = v.par_iter().map(&primary).collect();
    let cmp = |i: usize, j: usize| keys[i].cmp(&keys[j]).then_with(|| tie(&v[i], &v[j]));
    // Several exports each in order (an ethereum-etl ledger's
    // transactions, traces and token transfers, or files of block ranges)
    // are a few sorted runs: they are merged, or a merge sort finds and
    // joins them in a few passes. Anything else is sorted in parallel.
    let breaks: Vec<usize> = (1..v.len())
        .into_par_iter()
        .filter(|i| cmp(i - 1, *i).is_gt())
        .collect();
    if breaks.len() < MERGED_RUNS {
        let starts: Vec<usize> = std::iter::once(0).chain(breaks).collect();
        let pieces = if v.len() < 1 << 16 {
            1
        } else {
            4 * rayon::current_num_threads()
        };
        return merge_runs(v.len(), &starts, pieces, |i, j| {
            cmp(i as usize, j as usize).then(i.cmp(&j)).is_lt()
        });
    }
    let mut order: Vec<(u128, u32)> = keys.into_iter().zip(0..v.len() as u32).collect();
    let cmp = |a: &(u128, u32), b: &(u128, u32)| {
        a.0.cmp(&b.0)
            .then_with(|| tie(&v[a.1 as usize], &v[b.1 as usize]))
    };
    if breaks.len() < FEW_RUNS {
        order.sort_by(cmp);
    } else {
        order.par_sort_unstable_by(cmp);
    }
    order.into_iter().map(|(_, i)| i).collect()
}

/// The order of `n` elements that lie in sorted runs beginning at `starts`
/// (ascending, the first 0), merged by `less` (a strict total order that
/// each run follows). The output is cut into `pieces` at elements of the
/// longest run, each run's share of a piece found by binary search, and the
/// pieces merged in parallel, each written straight into its place.
fn merge_runs(
    n: usize,
    starts: &[usize],
    pieces: usize,
    less: impl Fn(u32, u32) -> bool + Sync,
) -> Vec<u32> {
    let run = |r: usize| starts[r]..starts.get(r + 1).copied().unwrap_or(n);
    let longest = (0..starts.len()).max_by_key(|r| run(*r).len()).unwrap_or(0);
    let pieces = pieces.max(1);
    // where each piece begins in each run: the elements below its pivot
    let mut cuts: Vec<Vec<usize>> = (0..=pieces)
        .map(|q| {
            (0..starts.len())
                .map(|r| {
                    let (rr, rl) = (run(r), run(longest));
                    if q == 0 {
                        rr.start
                    } else if q == pieces {
                        rr.end
                    } else {
                        let pivot = (rl.start + rl.len() * q / pieces) as u32;
                        let (mut lo, mut hi) = (rr.start, rr.end);
                        while lo < hi {
                            let mid = lo + (hi - lo) / 2;
                            if less(mid as u32, pivot) {
                                lo = mid + 1;
                            } else {
                                hi = mid;
                            }
                        }
                        lo
                    }
                })
                .collect()
        })
        .collect();
    // (monotone even should `less` not be a total order)
    for q in 1..=pieces {
        let (before, after) = cuts.split_at_mut(q);
        for (cut, below) in after[0].iter_mut().zip(&before[q - 1]) {
            *cut = (*cut).max(*below);
        }
    }
    let size = |q: usize| -> usize { (0..starts.len()).map(|r| cuts[q + 1][r] - cuts[q][r]).sum() };
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let slots = split_by_sizes(&mut order.spare_capacity_mut()[..n], (0..pieces).map(size));
    slots.into_par_iter().enumerate().for_each(|(q, out)| {
        let mut heads: Vec<(usize, usize)> = (0..starts.len())
            .map(|r| (cuts[q][r], cuts[q + 1][r]))
            .filter(|(a, b)| a < b)
            .collect();
        for slot in out.iter_mut() {
            let mut best = 0;
            for h in 1..heads.len() {
                if less(heads[h].0 as u32, heads[best].0 as u32) {
                    best = h;
                }
            }
            slot.write(heads[best].0 as u32);
            heads[best].0 += 1;
            if heads[best].0 == heads[best].1 {
                heads.swap_remove(best);
            }
        }
    });
    // SAFETY: the pieces' sizes sum to n (every run is cut at its start
    // and its end), and each piece wrote every slot of its own: it takes
    // one element per slot from runs whose shares sum to its size.
    unsafe { order.set_len(n) };
    order
}

/// Whether `v` is sorted by `primary`, then `tie`, with no two neighbours of
/// one `identity`: one parallel pass that spares the sort and the
/// de-duplication of records exported in order.
fn in_order_without_repeats<T: Sync, K: PartialEq>(
    v: &[T],
    primary: impl Fn(&T) -> u128 + Sync,
    tie: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
    identity: impl Fn(&T) -> K + Sync,
) -> bool {
    runs::neighbours_all(v, |x, y| {
        not_after(x, y, &primary, &tie) && identity(x) != identity(y)
    })
}

/// Whether `x` may come before `y` in the order by `primary`, then `tie`.
#[inline]
fn not_after<T>(
    x: &T,
    y: &T,
    primary: &impl Fn(&T) -> u128,
    tie: &impl Fn(&T, &T) -> std::cmp::Ordering,
) -> bool {
    let (a, b) = (primary(x), primary(y));
    a < b || (a == b && tie(x, y) != std::cmp::Ordering::Greater)
}

/// Of the records of `v` with equal `identity`, keep the least (the one a
/// sort by identity then content, and a dedup of its runs, would keep),
/// where it is, counting the others: one pass with a map, and `v` keeps its
/// order.
fn keep_least_by<T: Ord + Sync, K: std::hash::Hash + Eq>(
    v: &mut Vec<T>,
    identity: impl Fn(&T) -> K + Sync,
    dups: &mut u64,
) {
    use std::collections::hash_map::Entry;
    if distinct_by(v, &identity) {
        return;
    }
    let mut least: FxHashMap<K, usize> =
        FxHashMap::with_capacity_and_hasher(v.len(), Default::default());
    let mut dropped = vec![false; v.len()];
    for i in 0..v.len() {
        match least.entry(identity(&v[i])) {
            Entry::Vacant(e) => {
                e.insert(i);
            }
            Entry::Occupied(mut e) => {
                *dups += 1;
                let j = *e.get();
                if v[i] < v[j] {
                    dropped[j] = true;
                    e.insert(i);
                } else {
                    dropped[i] = true;
                }
            }
        }
    }
    if dropped.contains(&true) {
        let mut k = 0;
        v.retain(|_| {
            k += 1;
            !dropped[k - 1]
        });
    }
}

/// Whether no two records of `v` share an identity, by the identities'
/// 64-bit hashes sorted in parallel: when they all differ so do the
/// identities (the usual case, found with no map); equal hashes say
/// "maybe", and the caller looks with a map.
fn distinct_by<T: Sync, K: std::hash::Hash>(v: &[T], identity: impl Fn(&T) -> K + Sync) -> bool {
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    let mut hashes: Vec<u64> = v.par_iter().map(|t| hasher.hash_one(identity(t))).collect();
    hashes.par_sort_unstable();
    !hashes.par_windows(2).any(|w| w[0] == w[1])
}

/// Of the records of `v` with each id (a dense rank below `ids`), the
/// least (the one a sort by id then content would put first), as indices
/// in `v`'s order, the others counted as duplicates. Ids are ranks, so each
/// has its own slot: one pass instead of a sort.
fn least_of_each_id<T: Ord + Sync>(
    v: &[T],
    id: impl Fn(&T) -> u32 + Sync,
    ids: usize,
    dups: &mut u64,
) -> Vec<u32> {
    // the usual case, no id twice: one parallel pass over a bit per id
    let seen: Vec<AtomicU64> = (0..ids.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
    let repeats = v.par_iter().any(|t| {
        let i = id(t) as usize;
        let bit = 1u64 << (i % 64);
        seen[i / 64].fetch_or(bit, Ordering::Relaxed) & bit != 0
    });
    if !repeats {
        return (0..v.len() as u32).collect();
    }
    const NO: u32 = u32::MAX;
    let mut least = vec![NO; ids];
    for (i, t) in v.iter().enumerate() {
        let slot = &mut least[id(t) as usize];
        if *slot != NO {
            *dups += 1;
            if *t >= v[*slot as usize] {
                continue;
            }
        }
        *slot = i as u32;
    }
    let mut kept = vec![false; v.len()];
    for i in least.into_iter().filter(|i| *i != NO) {
        kept[i as usize] = true;
    }
    (0..v.len() as u32).filter(|i| kept[*i as usize]).collect()
}

/// Of indices sorted by identity then content, keep the first of each
/// identity, counting the rest.
fn dedup_order<T, K: PartialEq>(
    v: &[T],
    mut order: Vec<u32>,
    key: impl Fn(&T) -> K,
    dups: &mut u64,
) -> Vec<u32> {
    let before = order.len();
    order.dedup_by(|b, a| key(&v[*a as usize]) == key(&v[*b as usize]));
    *dups += (before - order.len()) as u64;
    order
}

/// Append to `out` the values `each` gives for every element of `v`, in
/// `v`'s order. Runs of elements are counted first (`count` says how many
/// values `each` gives for an element), then filled in parallel, each value
/// written straight into its place: so the new memory is first written by
/// every thread at once, not by one thread pushing.
fn extend_by_runs<T: Sync, A: Send>(
    v: &[T],
    out: &mut Vec<A>,
    count: impl Fn(&T) -> usize + Sync,
    each: impl Fn(usize, &T, &mut dyn FnMut(A)) + Sync,
) {
    const RUN: usize = 4096;
    let counts: Vec<usize> = v
        .par_chunks(RUN)
        .map(|run| run.iter().map(&count).sum())
        .collect();
    let total: usize = counts.iter().sum();
    out.reserve(total);
    let slots = split_by_sizes(
        &mut out.spare_capacity_mut()[..total],
        counts.iter().copied(),
    );
    v.par_chunks(RUN)
        .enumerate()
        .zip(slots)
        .for_each(|((c, run), slots)| {
            let mut k = 0;
            for (j, t) in run.iter().enumerate() {
                each(c * RUN + j, t, &mut |x| {
                    slots[k].write(x);
                    k += 1;
                });
            }
            assert_eq!(k, slots.len(), "a run gave other than it counted");
        });
    // SAFETY: the slots cover the `total` elements after the vector's
    // length, and every run wrote all of its slots (asserted; had a run
    // panicked, this line would not be reached and the written values
    // would only leak).
    unsafe { out.set_len(out.len() + total) };
}

/// Build the ledger from lowered parts, each with its own string tables.
pub fn finish(mut parts: Vec<Lowered>, paths: &[PathBuf]) -> Result<Built, Reject> {
    let mut phases = super::Phases::default();
    let mut rejects = Vec::new();
    let reject = |loc: Loc, field: &str, message: String| Reject {
        file: paths.get(loc.file as usize).cloned().unwrap_or_default(),
        line: loc.line,
        field: field.to_string(),
        message,
        text: paths
            .get(loc.file as usize)
            .and_then(|p| super::record_text_at(p, loc.line))
            .unwrap_or_default(),
    };

    // --- final ids: ranks in sorted string order -------------------------
    let ids: Vec<Ids> = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.ids))
        .collect();
    // a transaction string counts only if a record is that transaction (not
    // merely an input's previous output); in a part without UTXO records
    // (`None`) every one does
    let used_tx: Vec<Option<Vec<bool>>> = parts
        .par_iter()
        .zip(&ids)
        .map(|(low, ids)| {
            if low.utxos.is_empty() {
                return None;
            }
            let mut used = vec![false; ids.tx.len()];
            for id in low
                .txs
                .iter()
                .map(|t| t.hash)
                .chain(low.tokens.iter().map(|t| t.tx))
                .chain(low.internals.iter().map(|t| t.tx))
                .chain(low.moves.iter().map(|t| t.tx))
                .chain(low.utxos.iter().map(|t| t.txid))
            {
                if id != NONE {
                    used[id as usize] = true;
                }
            }
            Some(used)
        })
        .collect();
    let tables = |f: fn(&Ids) -> &Table| ids.iter().map(f).collect::<Vec<&Table>>();
    let (addr_strs, addr_maps) = rank(&tables(|i| &i.addr), |_, _| true);
    let (tx_strs, tx_maps) = rank(&tables(|i| &i.tx), |p, id| {
        used_tx[p].as_ref().map_or(true, |used| used[id as usize])
    });
    let (asset_strs, asset_maps) = rank(&tables(|i| &i.asset), |_, _| true);
    phases.lap("finish: rank strings + string tables");
    let (low, tx_parts, move_parts) =
        Lowered::concat_remap(parts, &addr_maps, &tx_maps, &asset_maps);
    drop((addr_maps, tx_maps, asset_maps, used_tx));
    phases.lap("finish: concatenate + remap ids");

    let mut dups = 0u64;
    // --- account model ---------------------------------------------------
    let Lowered {
        mut tokens,
        mut internals,
        utxos,
        mut assets,
        tips,
        ..
    } = low;
    // The transactions kept, where they lie rather than in hash order (a
    // random walk over them): nothing below depends on their order (the
    // block times say how), and every movement's key is distinct, so the
    // order movements are listed in does not change their canonical order.
    let txs_all: Vec<&LTx> = tx_parts.par_iter().flatten().collect();
    let kept = least_of_each_id(&txs_all, |t| t.hash, tx_strs.len(), &mut dups);
    let txs: Vec<&LTx> = kept.iter().map(|i| txs_all[*i as usize]).collect();
    drop(txs_all);
    // Token transfers and traces stay in the order they were read (each
    // export's own order, usually its canonical one), so that their
    // movements' keys come in a few sorted runs.
    keep_least_by(&mut tokens, |t| (t.tx, t.log_index), &mut dups);
    keep_least_by(&mut internals, |t| t.id, &mut dups);
    // the movements where they lie, in part order
    let moves_all: Vec<&LMove> = move_parts.par_iter().flatten().collect();
    let primary = |m: &&LMove| (m.block as u128) << 64 | (m.tx_index as u128) << 32 | m.seq as u128;
    let tie = |a: &&LMove, b: &&LMove| a.tx.cmp(&b.tx).then_with(|| a.cmp(b));
    let identity = |m: &&LMove| (m.block, m.tx_index, m.seq, m.tx);
    let moves: Vec<&LMove> = if in_order_without_repeats(&moves_all, primary, tie, identity) {
        // (the native format, exported block by block): nothing to move
        moves_all
    } else {
        let order = sorted_order(&moves_all, primary, tie);
        let kept = dedup_order(&moves_all, order, identity, &mut dups);
        kept.iter().map(|i| moves_all[*i as usize]).collect()
    };
    phases.lap("finish: sort + dedup records");

    // each transaction's (block, index) by its id (ids are dense ranks),
    // for traces that name their transaction only by hash (Etherscan's);
    // none when no trace needs it (ethereum-etl's give the index)
    const NO_POS: (u64, u32) = (u64::MAX, u32::MAX);
    let mut tx_pos: Vec<(u64, u32)> = Vec::new();
    if !txs.is_empty()
        && internals
            .iter()
            .any(|i| i.tx_index.is_none() && i.tx != NONE)
    {
        tx_pos.resize(tx_strs.len(), NO_POS);
        for t in txs.iter() {
            tx_pos[t.hash as usize] = (t.block, t.tx_index);
        }
    }
    // each block's first transaction in canonical (hash) order, and its
    // time, which is the block's; a block's transactions usually lie
    // together, and each such run meets the map once
    let mut block_time: FxHashMap<u64, (u32, u64)> = FxHashMap::default();
    let mut meet = |(block, hash, time): (u64, u32, u64)| {
        let e = block_time.entry(block).or_insert((hash, time));
        if hash < e.0 {
            *e = (hash, time);
        }
    };
    let mut run: Option<(u64, u32, u64)> = None;
    for t in txs.iter() {
        match &mut run {
            Some((block, hash, time)) if *block == t.block => {
                if t.hash < *hash {
                    (*hash, *time) = (t.hash, t.time);
                }
            }
            _ => {
                if let Some(r) = run.replace((t.block, t.hash, t.time)) {
                    meet(r);
                }
            }
        }
    }
    if let Some(r) = run {
        meet(r);
    }
    let resolve = |tx_index: Option<u32>, block: u64, tx: u32| {
        tx_index
            .map(|ix| (block, ix))
            .or_else(|| tx_pos.get(tx as usize).copied().filter(|p| *p != NO_POS))
    };
    // a record's own time, else its block's
    let time_of = |time: Option<u64>, block: u64| {
        time.or_else(|| block_time.get(&block).map(|e| e.1))
            .unwrap_or(0)
    };
    let mut traced: FxHashSet<(u64, u32)> =
        FxHashSet::with_capacity_and_hasher(internals.len(), Default::default());
    traced.extend(
        internals
            .iter()
            .filter(|i| i.source == TraceSource::EthereumEtl && !i.reward)
            .filter_map(|i| resolve(i.tx_index, i.block, i.tx)),
    );
    let eth_asset = asset_strs.binary_search(ETH).ok().map(|i| i as u32);
    let eth = eth_asset.unwrap_or(NONE); // set below if ETH is only implied

    // Where each account movement comes from (none when `moves` are all
    // there is): a movement is made from its record each time it is read,
    // not copied out (64 bytes a movement of fresh memory).
    let mut keys: Vec<KeyOf> =
        Vec::with_capacity(txs.len() * 2 + tokens.len() + moves.len() + internals.len());
    let unknown_fee = txs.par_iter().filter(|t| t.fee.is_none()).count() as u64;
    // which of a transaction's value (unless traces carry it) and fee
    // move: bits 1 and 2, worked out once
    const VALUE: u8 = 1;
    const FEE: u8 = 2;
    let tx_moves: Vec<u8> = txs
        .par_iter()
        .map(|t| {
            let value = !t.failed && t.value > 0 && !traced.contains(&(t.block, t.tx_index));
            u8::from(value) * VALUE + u8::from(t.fee.is_some_and(|f| f > 0)) * FEE
        })
        .collect();
    extend_by_runs(
        &tx_moves,
        &mut keys,
        |bits| bits.count_ones() as usize,
        |at, bits, out| {
            let key = |source| KeyOf {
                source,
                at: at as u32,
            };
            if bits & VALUE != 0 {
                out(key(KeySource::TxValue));
            }
            if bits & FEE != 0 {
                out(key(KeySource::TxFee));
            }
        },
    );
    drop(tx_moves);
    let mut needs_eth = !keys.is_empty();
    for (at, i) in internals.iter().enumerate() {
        if !i.moves || i.value == 0 {
            continue;
        }
        if !i.reward && i.from == NONE {
            rejects.push(reject(
                i.loc,
                "from_address",
                "a value-moving trace has no sender".into(),
            ));
            continue;
        }
        if i.to == NONE {
            rejects.push(reject(
                i.loc,
                "to_address",
                "a value-moving trace has no recipient".into(),
            ));
            continue;
        }
        needs_eth = true;
        keys.push(KeyOf {
            source: KeySource::Internal,
            at: at as u32,
        });
    }
    keys.extend(
        (0..tokens.len() as u32)
            .filter(|at| tokens[*at as usize].value != 0)
            .map(|at| KeyOf {
                source: KeySource::Token,
                at,
            }),
    );
    // a trace's or token transfer's own time, else its block's, settled
    // where it lies before movements are read from it
    internals
        .par_iter_mut()
        .for_each(|i| i.time = Some(time_of(i.time, i.block)));
    tokens
        .par_iter_mut()
        .for_each(|t| t.time = Some(time_of(t.time, t.block)));
    // Movements alone (the native format) are already in canonical order:
    // `moves` was sorted by (block, transaction index, sequence, hash),
    // which is their key's order. Otherwise every record gets its key.
    let only_moves = keys.is_empty();
    let high = |b: u64| (b > u32::MAX as u64).then_some(b);
    // one pass finds out whether any movement alone moves nothing or lies
    // in a block above what a store holds (usually none does)
    let plain_moves = only_moves && runs::all(&moves, |m| m.amount != 0 && high(m.block).is_none());
    // movements alone are read in place (no copy); otherwise each has its
    // key (and `moves` stays, for the keys to point into)
    let (live_moves, moves_for_keys): (Vec<&LMove>, Vec<&LMove>) = if only_moves {
        let live = if plain_moves {
            moves
        } else {
            moves.into_par_iter().filter(|m| m.amount != 0).collect()
        };
        (live, Vec::new())
    } else {
        let move_key = |at: usize| KeyOf {
            source: KeySource::Move,
            at: at as u32,
        };
        if runs::all(&moves, |m| m.amount != 0) {
            // indexed: written in place, in parallel
            keys.par_extend((0..moves.len()).into_par_iter().map(move_key));
        } else {
            keys.extend(
                (0..moves.len())
                    .filter(|at| moves[*at].amount != 0)
                    .map(move_key),
            );
        }
        (Vec::new(), moves)
    };
    let records = Records {
        txs: &txs,
        internals: &internals,
        tokens: &tokens,
        moves: &moves_for_keys,
        eth,
    };
    phases.lap("finish: movement keys");
    // (the keys' own search reads every record through its key: only when
    // some record lies that high)
    let any_high = || {
        txs.par_iter().any(|t| high(t.block).is_some())
            || internals.par_iter().any(|i| high(i.block).is_some())
            || tokens.par_iter().any(|t| high(t.block).is_some())
            || moves_for_keys.par_iter().any(|m| high(m.block).is_some())
    };
    let high_block = if plain_moves {
        None
    } else if only_moves {
        runs::find_first(&live_moves, |_, m| high(m.block))
    } else if any_high() {
        runs::find_first(&keys, |_, k| high(records.pending(*k).block))
    } else {
        None
    };
    if let Some(b) = high_block {
        rejects.push(reject(
            Loc::default(),
            "block",
            format!("block number {b} is above 4294967295"),
        ));
        return Err(rejects.swap_remove(0));
    }
    let order: Vec<u32> = if only_moves {
        Vec::new() // the identity
    } else {
        // Each key is made from its record where it is compared, not kept:
        // at 80 bytes a movement, the keys of a large ledger were its
        // largest write to fresh memory.
        let key_of = |k: &KeyOf| -> MoveKey {
            let at = k.at as usize;
            match k.source {
                KeySource::TxValue | KeySource::TxFee => {
                    let t = txs[at];
                    MoveKey {
                        block: t.block,
                        lane: t.tx_index,
                        phase: u8::from(k.source == KeySource::TxFee),
                        sub: SmallVec::new(),
                        tie: (t.hash, 0, 0, 0),
                    }
                }
                KeySource::Internal => {
                    let i = &internals[at];
                    let lane = if i.reward {
                        LANE_REWARD
                    } else {
                        resolve(i.tx_index, i.block, i.tx)
                            .map(|p| p.1)
                            .unwrap_or(LANE_UNKNOWN_TX)
                    };
                    // Etherscan's internal calls come after the transaction's
                    // own value, whose key has the empty trace address.
                    let mut sub: SmallVec<[u32; 4]> = SmallVec::new();
                    if i.source == TraceSource::Etherscan {
                        sub.push(1);
                    }
                    sub.extend_from_slice(&i.trace_address);
                    MoveKey {
                        block: i.block,
                        lane,
                        phase: 0,
                        sub,
                        tie: (i.tx, (i.id >> 96) as u32, (i.id >> 64) as u32, i.id),
                    }
                }
                // Tokens are separate assets: within one token, (block,
                // log_index) is the canonical order, so a block's token
                // transfers sort after its native movements, by log index.
                KeySource::Token => {
                    let t = &tokens[at];
                    MoveKey {
                        block: t.block,
                        lane: LANE_UNKNOWN_TX,
                        phase: 2,
                        sub: SmallVec::from_slice(&[
                            (t.log_index >> 32) as u32,
                            t.log_index as u32,
                        ]),
                        tie: (t.tx, t.from, t.to, t.value),
                    }
                }
                KeySource::Move => {
                    let m = moves_for_keys[at];
                    MoveKey {
                        block: m.block,
                        lane: m.tx_index,
                        phase: 0,
                        sub: SmallVec::from_slice(&[m.seq]),
                        tie: (m.tx, m.from, m.to, m.amount),
                    }
                }
            }
        };
        sorted_order(
            &keys,
            |k| {
                let k = key_of(k);
                (k.block as u128) << 96
                    | (k.lane as u128) << 64
                    | (k.phase as u128) << 56
                    | (k.sub.first().copied().unwrap_or(0) as u128) << 24
            },
            |a, b| key_of(a).cmp(&key_of(b)),
        )
    };

    phases.lap("finish: sort movements");
    // --- assets: ETH may only be implied by transactions ----------------
    let mut asset_names: Vec<String> = asset_strs.iter().map(str::to_string).collect();
    let mut asset_shift: Vec<u32> = (0..asset_names.len() as u32).collect();
    let mut implied_eth = None;
    if needs_eth && eth_asset.is_none() {
        let pos = asset_names.partition_point(|n| n.as_str() < ETH);
        asset_names.insert(pos, ETH.to_string());
        for s in asset_shift.iter_mut() {
            if *s as usize >= pos {
                *s += 1;
            }
        }
        implied_eth = Some(pos as u32);
    }
    let asset_of = |temp: u32| AssetId(if temp == NONE { 0 } else { temp });

    // --- UTXO model --------------------------------------------------------
    let (utxos, utxo_rejects) = place_utxos(utxos, tips, &mut dups, &reject);
    rejects.extend(utxo_rejects);
    let utxo_asset = |a: u32| {
        if needs_eth && eth_asset.is_none() {
            asset_shift[a as usize]
        } else {
            a
        }
    };

    let src = if only_moves {
        Src::Moves(&live_moves)
    } else {
        Src::Keyed {
            keys: &keys,
            records: &records,
            implied_eth: implied_eth.map(|pos| (pos, asset_shift.as_slice())),
        }
    };
    phases.lap("finish: assets + UTXO placement");
    // --- accounts, the asset table and movements ------------------------
    let (accounts_of, accounts, moved) =
        AccountIndex::new(addr_strs.len(), asset_names.len(), &src, asset_of);
    let mut models = vec![None; asset_names.len()];
    for (m, used) in models.iter_mut().zip(moved) {
        if used {
            *m = Some(ChainModel::Account);
        }
    }
    for u in &utxos {
        models[utxo_asset(u.asset) as usize].get_or_insert(ChainModel::Utxo);
    }
    let mut meta: BTreeMap<String, (Option<String>, Option<u8>)> = BTreeMap::new();
    assets.sort();
    for a in assets {
        let e = meta.entry(a.asset).or_default();
        if e.0.is_none() {
            e.0 = a.symbol;
        }
        if e.1.is_none() {
            e.1 = a.decimals;
        }
    }
    let asset_table: Vec<AssetInfo> = asset_names
        .iter()
        .zip(&models)
        .map(|(name, model)| {
            let (sym, dec) = meta.get(name).cloned().unwrap_or_default();
            let (sym, dec) = match name.as_str() {
                "ETH" => (Some("ETH".to_string()), Some(18)),
                "BTC" => (Some("BTC".to_string()), Some(8)),
                _ => (sym, dec),
            };
            AssetInfo {
                name: name.clone(),
                model: model.unwrap_or(ChainModel::Account),
                symbol: sym,
                decimals: dec,
            }
        })
        .collect();
    let acct = |addr: u32, asset: AssetId| accounts_of.id(addr, asset, &accounts);
    let at = |k: usize| if only_moves { k } else { order[k] as usize };
    let movements: Vec<Movement> = (0..src.len())
        .into_par_iter()
        .map(|k| {
            // the index entries of a movement a little ahead (random reads)
            if let Some(q) = (k + ACCOUNT_AHEAD < src.len()).then(|| src.get(at(k + ACCOUNT_AHEAD)))
            {
                accounts_of.prefetch(q.from);
                accounts_of.prefetch(q.to);
            }
            let p = src.get(at(k));
            let asset = asset_of(p.asset);
            Movement {
                amount: Amt::new(p.amount),
                block: p.block as u32,
                tx: if p.tx == NONE { TxId::NONE } else { TxId(p.tx) },
                from: acct(p.from, asset),
                to: acct(p.to, asset),
                asset,
                kind: p.kind as u32,
            }
        })
        .collect();
    phases.lap("finish: accounts + movement columns");
    // three passes over the movements, each on its own: the block times and
    // the two CSR indexes
    let (block_times, (by_source, by_dest)) = rayon::join(
        || {
            // the earliest time given for each block (`order` is sorted by
            // block)
            let mut block_times: Vec<BlockTime> = Vec::new();
            for p in (0..src.len()).map(|k| src.get(at(k))) {
                match block_times.last_mut() {
                    Some(b) if b.block == p.block => b.time = b.time.min(p.time),
                    _ => block_times.push(BlockTime {
                        block: p.block,
                        time: p.time,
                    }),
                }
            }
            block_times
        },
        || {
            rayon::join(
                || Csr::build(accounts.len(), movements.iter().map(|m| m.from)),
                || Csr::build(accounts.len(), movements.iter().map(|m| m.to)),
            )
        },
    );
    drop(live_moves);
    drop(keys);
    phases.lap("finish: block times + CSR indexes");

    // --- UTXO arrays with spend links -------------------------------------
    let mut utxo_txs = Vec::with_capacity(utxos.len());
    let n_outputs: usize = utxos.iter().map(|u| u.outputs.len()).sum();
    let mut inputs: Vec<TxInput> = Vec::with_capacity(utxos.iter().map(|u| u.inputs.len()).sum());
    let mut outputs: Vec<TxOutput> = Vec::with_capacity(n_outputs);
    // txid -> (first output index, count) of the latest transaction with it
    // (`NONE` first: none yet), and output -> the transaction that spent it;
    // ids are dense, so arrays rather than maps
    let mut created: Vec<(u32, u32)> = if utxos.is_empty() {
        Vec::new()
    } else {
        vec![(NONE, 0); tx_strs.len()]
    };
    let mut spent_by: Vec<u32> = vec![NONE; n_outputs];
    let mut unknown_value_inputs = 0u64;
    let addr = |a: u32| if a == NONE { AddrId::NONE } else { AddrId(a) };
    for u in &utxos {
        let BlockRef::Height(block) = u.block else {
            continue; // place_utxos resolved every block to a height
        };
        let in_start = inputs.len();
        let mut bad = None;
        for (k, i) in u.inputs.iter().enumerate() {
            let link = if i.prev == NONE {
                None
            } else {
                Some(created[i.prev as usize]).filter(|c| c.0 != NONE)
            };
            let input = match link {
                Some((start, count)) => {
                    if i.vout >= count {
                        bad = Some((
                            format!("inputs[{k}].vout"),
                            format!(
                                "spends output {} of {}, which has only {count} outputs",
                                i.vout,
                                tx_strs.get(i.prev as usize)
                            ),
                        ));
                        break;
                    }
                    let o = start + i.vout;
                    if let Some(other) = Some(spent_by[o as usize]).filter(|t| *t != NONE) {
                        bad = Some((
                            format!("inputs[{k}]"),
                            format!(
                                "spends {}:{} which transaction {} already spent",
                                tx_strs.get(i.prev as usize),
                                i.vout,
                                tx_strs.get(other as usize)
                            ),
                        ));
                        break;
                    }
                    let out = outputs[o as usize];
                    TxInput::new(o, out.owner, Some(out.value()))
                }
                None => {
                    if i.value.is_none() {
                        unknown_value_inputs += 1;
                    }
                    TxInput::new(NO_OUTPUT, addr(i.owner), i.value)
                }
            };
            inputs.push(input);
        }
        if let Some((field, message)) = bad {
            inputs.truncate(in_start);
            rejects.push(reject(u.loc, &field, message));
            continue;
        }
        if block > u32::MAX as u64 {
            inputs.truncate(in_start);
            rejects.push(reject(
                u.loc,
                "block",
                format!("block number {block} is above 4294967295"),
            ));
            continue;
        }
        for t in &inputs[in_start..] {
            if t.spent != NO_OUTPUT {
                spent_by[t.spent as usize] = u.txid;
            }
        }
        let in_start = in_start as u32;
        let out_start = outputs.len() as u32;
        outputs.extend(u.outputs.iter().map(|(o, v)| TxOutput::new(AddrId(*o), *v)));
        created[u.txid as usize] = (out_start, u.outputs.len() as u32);
        utxo_txs.push(UtxoTx {
            time: u.time,
            block: block as u32,
            index: u.index.unwrap_or(u32::MAX),
            txid: TxId(u.txid),
            asset: AssetId(utxo_asset(u.asset)),
            coinbase: u.coinbase as u32,
            inputs: [in_start, inputs.len() as u32],
            outputs: [out_start, outputs.len() as u32],
            _pad: 0,
        });
    }

    phases.lap("finish: UTXO links");
    // gas prices by transaction id, when any export gave one
    let gas_prices: Vec<Amt> = if txs.par_iter().any(|t| t.gas_price.is_some()) {
        let mut v = vec![Amt::new(0); tx_strs.len()];
        for t in &txs {
            if let Some(p) = t.gas_price {
                v[t.hash as usize] = Amt::new(p);
            }
        }
        v
    } else {
        Vec::new()
    };
    let mut ledger = Ledger {
        addresses: addr_strs,
        assets: asset_table,
        txids: tx_strs,
        accounts: accounts.into(),
        movements: movements.into(),
        by_source,
        by_dest,
        block_times: block_times.into(),
        utxo_txs: utxo_txs.into(),
        inputs: inputs.into(),
        outputs: outputs.into(),
        gas_prices: gas_prices.into(),
        ..Default::default()
    };
    ledger.info.duplicates = dups;
    ledger.info.unknown_fee_txs = unknown_fee;
    ledger.info.unknown_value_inputs = unknown_value_inputs;
    phases.lap("finish: gas prices");
    Ok(Built {
        ledger,
        rejects,
        phases,
    })
}

/// A movement record as a pending account movement.
#[inline]
fn pend(m: &LMove) -> Pending {
    Pending {
        block: m.block,
        time: m.time,
        tx: m.tx,
        from: m.from,
        to: m.to,
        asset: m.asset,
        kind: m.kind,
        amount: m.amount,
    }
}

/// How many movements ahead the movement columns ask for account entries.
const ACCOUNT_AHEAD: usize = 16;

/// The records that account movements are made from, each named by a
/// [`KeyOf`].
struct Records<'a> {
    txs: &'a [&'a LTx],
    /// Every time settled (a trace's own, else its block's).
    internals: &'a [LInternal],
    /// Every time settled, as for traces.
    tokens: &'a [LToken],
    moves: &'a [&'a LMove],
    /// ETH's temporary asset id (NONE when only implied).
    eth: u32,
}

impl Records<'_> {
    /// The movement `k` names, its asset a temporary id.
    #[inline]
    fn pending(&self, k: KeyOf) -> Pending {
        let at = k.at as usize;
        match k.source {
            KeySource::TxValue | KeySource::TxFee => {
                let t = self.txs[at];
                let (to, kind, amount) = if k.source == KeySource::TxValue {
                    (t.to, MoveKind::Native, t.value)
                } else {
                    (NONE, MoveKind::Fee, t.fee.unwrap_or(0))
                };
                Pending {
                    block: t.block,
                    time: t.time,
                    tx: t.hash,
                    from: t.from,
                    to,
                    asset: self.eth,
                    kind,
                    amount,
                }
            }
            KeySource::Internal => {
                let i = &self.internals[at];
                Pending {
                    block: i.block,
                    time: i.time.unwrap_or(0),
                    tx: i.tx,
                    from: if i.reward { NONE } else { i.from },
                    to: i.to,
                    asset: self.eth,
                    kind: if i.reward {
                        MoveKind::Mint
                    } else {
                        MoveKind::Native
                    },
                    amount: i.value,
                }
            }
            KeySource::Token => {
                let t = &self.tokens[at];
                Pending {
                    block: t.block,
                    time: t.time.unwrap_or(0),
                    tx: t.tx,
                    from: t.from,
                    to: t.to,
                    asset: t.token,
                    kind: MoveKind::Token,
                    amount: t.value,
                }
            }
            KeySource::Move => pend(self.moves[at]),
        }
    }
}

/// The account movements to number and lay out.
enum Src<'a> {
    /// Movements alone: the de-duplicated `LMove`s, read in place.
    Moves(&'a [&'a LMove]),
    /// Movements made from their records when read.
    Keyed {
        keys: &'a [KeyOf],
        records: &'a Records<'a>,
        /// When ETH is only implied by transactions: its place among the
        /// assets, and every other temporary asset id's final one.
        implied_eth: Option<(u32, &'a [u32])>,
    },
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Moves(m) => m.len(),
            Src::Keyed { keys, .. } => keys.len(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Pending {
        match self {
            Src::Moves(m) => pend(m[i]),
            Src::Keyed {
                keys,
                records,
                implied_eth,
            } => {
                let mut p = records.pending(keys[i]);
                if let Some((pos, shift)) = implied_eth {
                    p.asset = if p.asset == NONE {
                        *pos
                    } else {
                        shift[p.asset as usize]
                    };
                }
                p
            }
        }
    }

    fn asset(&self, i: usize) -> u32 {
        self.get(i).asset
    }
}

/// One address's entry in [`AccountIndex::Bits`].
#[derive(Copy, Clone)]
struct AddrAccounts {
    mask: u64,
    before: u32,
}

/// The accounts (address, asset) that movements touch, numbered in sorted
/// order. With at most 64 assets each address keeps a bit per asset and an
/// account's id is the count of accounts before its address plus the bits
/// below its asset: no sort and no search. With more assets it falls back to
/// sorting the pairs and searching them.
enum AccountIndex {
    /// Per address: its asset bits and the accounts of the addresses
    /// before it, side by side (one cache line per lookup).
    Bits(Vec<AddrAccounts>),
    /// Search the sorted account list itself.
    Sorted,
}

impl AccountIndex {
    /// The index, the accounts, and which assets movements use (learnt
    /// on the way).
    fn new(
        addrs: usize,
        assets: usize,
        src: &Src,
        asset_of: impl Fn(u32) -> AssetId + Sync,
    ) -> (AccountIndex, Vec<Account>, Vec<bool>) {
        if assets > 64 {
            let mut v: Vec<Account> = (0..src.len())
                .into_par_iter()
                .flat_map_iter(|i| {
                    let p = src.get(i);
                    [(p.from, p.asset), (p.to, p.asset)]
                })
                .filter(|(a, _)| *a != NONE)
                .map(|(a, s)| Account {
                    addr: AddrId(a),
                    asset: asset_of(s),
                })
                .collect();
            v.par_sort_unstable();
            v.dedup();
            let moved = (0..src.len())
                .into_par_iter()
                .fold(
                    || vec![false; assets],
                    |mut used, i| {
                        used[asset_of(src.asset(i)).index()] = true;
                        used
                    },
                )
                .reduce(
                    || vec![false; assets],
                    |a, b| a.iter().zip(&b).map(|(x, y)| *x || *y).collect(),
                );
            return (AccountIndex::Sorted, v, moved);
        }
        // each worker thread sets bits in a mask of its own (plain writes,
        // not atomic ones), taking runs of movements as they come (so the
        // threads stay balanced), and the masks are joined into the first
        // (each written before it is read: memory from `vec![0; n]` read
        // first would fault twice a page)
        let threads = rayon::current_num_threads().max(1);
        let mut masks: Vec<(Vec<u64>, u64)> = (0..threads)
            .into_par_iter()
            .map(|_| {
                // (written here, not calloc'd by `vec!`: see above)
                #[allow(clippy::slow_vector_initialization)]
                let mask = {
                    let mut m = Vec::with_capacity(addrs);
                    m.resize(addrs, 0u64);
                    m
                };
                (mask, 0u64)
            })
            .collect();
        {
            // (a thread only ever locks its own mask: never contended)
            let own: Vec<Mutex<&mut (Vec<u64>, u64)>> = masks.iter_mut().map(Mutex::new).collect();
            const RUN: usize = 1 << 12;
            (0..src.len().div_ceil(RUN)).into_par_iter().for_each(|r| {
                let t = rayon::current_thread_index().unwrap_or(0) % own.len();
                let mut guard = own[t].lock().expect("a mask's lock is never poisoned");
                let (mask, used) = &mut **guard;
                for i in r * RUN..((r + 1) * RUN).min(src.len()) {
                    let p = src.get(i);
                    let bit = 1 << asset_of(p.asset).0;
                    *used |= bit;
                    for a in [p.from, p.to] {
                        if a != NONE {
                            mask[a as usize] |= bit;
                        }
                    }
                }
            });
        }
        let used = masks.iter().fold(0, |u, m| u | m.1);
        let moved = (0..assets).map(|a| used >> a & 1 != 0).collect();
        let (first, others) = masks.split_first_mut().expect("one share at least");
        const JOIN: usize = 1 << 14;
        first
            .0
            .par_chunks_mut(JOIN)
            .enumerate()
            .for_each(|(c, out)| {
                let at = c * JOIN;
                for (m, _) in others.iter() {
                    for (o, x) in out.iter_mut().zip(&m[at..]) {
                        *o |= x;
                    }
                }
            });
        let mask = masks.swap_remove(0).0;
        let mut n = 0u32;
        let index: Vec<AddrAccounts> = mask
            .into_iter()
            .map(|mask| {
                let e = AddrAccounts { mask, before: n };
                n += mask.count_ones();
                e
            })
            .collect();
        let mut accounts = Vec::with_capacity(n as usize);
        for (a, e) in index.iter().enumerate() {
            let mut bits = e.mask;
            while bits != 0 {
                accounts.push(Account {
                    addr: AddrId(a as u32),
                    asset: AssetId(bits.trailing_zeros()),
                });
                bits &= bits - 1;
            }
        }
        (AccountIndex::Bits(index), accounts, moved)
    }

    fn id(&self, addr: u32, asset: AssetId, accounts: &[Account]) -> AcctId {
        if addr == NONE {
            return AcctId::NONE;
        }
        match self {
            AccountIndex::Sorted => accounts
                .binary_search(&Account {
                    addr: AddrId(addr),
                    asset,
                })
                .map(|i| AcctId(i as u32))
                .unwrap_or(AcctId::NONE),
            AccountIndex::Bits(index) => {
                let AddrAccounts { mask, before } = index[addr as usize];
                let bit = 1u64 << asset.0;
                if mask & bit == 0 {
                    return AcctId::NONE;
                }
                AcctId(before + (mask & (bit - 1)).count_ones())
            }
        }
    }

    /// Ask for the cache line [`AccountIndex::id`] will read for `addr`.
    #[inline]
    fn prefetch(&self, addr: u32) {
        if let AccountIndex::Bits(index) = self {
            if let Some(e) = index.get(addr as usize) {
                crate::trace::prefetch(e);
            }
        }
    }
}

/// Resolve every UTXO transaction's block to a height, drop duplicates
/// (identity: txid and block), and sort into canonical order.
///
/// `getrawtransaction` names its block only by hash and a confirmation count.
/// Such a transaction that also appears with a height is a duplicate; the
/// others are placed at `tip - confirmations + 1`, with the tip learnt from a
/// `getblock` result's confirmations or from a transaction seen both ways.
/// When no transaction in the sample has a height at all, heights are
/// relative: the most-confirmed block is height 0.
fn place_utxos(
    utxos: Vec<LUtxo>,
    mut tips: Vec<u64>,
    dups: &mut u64,
    reject: &dyn Fn(Loc, &str, String) -> Reject,
) -> (Vec<LUtxo>, Vec<Reject>) {
    let mut rejects = Vec::new();
    let heights: FxHashMap<u32, u64> = utxos
        .iter()
        .filter_map(|u| match u.block {
            BlockRef::Height(h) => Some((u.txid, h)),
            _ => None,
        })
        .collect();
    let any_height = !heights.is_empty();
    tips.extend(utxos.iter().filter_map(|u| match &u.block {
        BlockRef::Hash {
            confirmations: Some(c),
            ..
        } if *c > 0 => heights.get(&u.txid).map(|h| h + c - 1),
        _ => None,
    }));
    tips.sort_unstable();
    let tip = tips.first().copied();
    let max_conf = utxos
        .iter()
        .filter_map(|u| match &u.block {
            BlockRef::Hash {
                confirmations: Some(c),
                ..
            } => Some(*c),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut placed = Vec::with_capacity(utxos.len());
    for mut u in utxos {
        if let BlockRef::Hash {
            hash,
            confirmations,
        } = &u.block
        {
            if heights.contains_key(&u.txid) {
                *dups += 1;
                continue;
            }
            let h = match (confirmations, tip, any_height) {
                (Some(c), Some(t), _) if *c >= 1 && t + 1 >= *c => t + 1 - c,
                (Some(c), None, false) => max_conf - c,
                _ => {
                    rejects.push(reject(
                        u.loc,
                        "blockhash",
                        format!(
                            "cannot place this transaction in block order: block {hash} is not in the sample; \
                             add its getblock response or a bitcoin-etl export of it"
                        ),
                    ));
                    continue;
                }
            };
            u.block = BlockRef::Height(h);
        }
        placed.push(u);
    }
    let key = |u: &LUtxo| {
        let h = match u.block {
            BlockRef::Height(h) => h,
            BlockRef::Hash { .. } => 0,
        };
        (h, u.index.unwrap_or(u32::MAX), u.txid)
    };
    placed.par_sort_unstable_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.cmp(b)));
    let before = placed.len();
    placed.dedup_by(|b, a| key(a).0 == key(b).0 && a.txid == b.txid);
    *dups += (before - placed.len()) as u64;
    (placed, rejects)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Keeping the least record of each id in one pass keeps what a
        /// sort by id then content, and a dedup of its runs, keeps.
        #[test]
        fn least_of_each_id_is_the_first_of_a_sort(
            v in proptest::collection::vec((0u32..20, 0u8..4, 0u8..3), 0..200)
        ) {
            let (mut dups, mut want_dups) = (0, 0);
            let got = least_of_each_id(&v, |t| t.0, 20, &mut dups);
            let order = sorted_order(&v, |t| t.0 as u128, |a, b| a.cmp(b));
            let mut want = dedup_order(&v, order, |t| t.0, &mut want_dups);
            want.sort_unstable();
            // (equal records are interchangeable: compare them, not places)
            let records = |ix: &[u32]| {
                let mut r: Vec<_> = ix.iter().map(|i| v[*i as usize]).collect();
                r.sort_unstable();
                r
            };
            proptest::prop_assert_eq!(records(&got), records(&want));
            proptest::prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
            proptest::prop_assert_eq!(dups, want_dups);
        }
    }

    proptest::proptest! {
        /// Keeping the least record of each identity where it lies keeps
        /// what a sort by identity then content, and a dedup, keeps, in the
        /// order the records were in.
        #[test]
        fn keep_least_by_keeps_the_first_of_a_sort_in_place(
            v in proptest::collection::vec((0u32..20, 0u8..4, 0u8..3), 0..200)
        ) {
            let (mut kept, mut dups, mut want_dups) = (v.clone(), 0, 0);
            keep_least_by(&mut kept, |t| t.0, &mut dups);
            let order = sorted_order(&v, |t| t.0 as u128, |a, b| a.cmp(b));
            let want = dedup_order(&v, order, |t| t.0, &mut want_dups);
            let mut sorted_kept = kept.clone();
            sorted_kept.sort_unstable();
            let mut want: Vec<_> = want.iter().map(|i| v[*i as usize]).collect();
            want.sort_unstable();
            proptest::prop_assert_eq!(sorted_kept, want);
            proptest::prop_assert_eq!(dups, want_dups);
            // a subsequence of `v`
            let mut rest = v.iter();
            proptest::prop_assert!(kept.iter().all(|k| rest.any(|x| x == k)));
        }

        /// The order is a sort whichever way it goes: records in order,
        /// a few sorted runs (merged in parallel), some more (a merge
        /// sort) or none (sorted in parallel).
        #[test]
        fn sorted_order_sorts_runs_and_disorder(
            runs in proptest::collection::vec(
                proptest::collection::vec((0u64..50, 0u8..3), 0..300),
                1..80,
            ),
            shuffle in proptest::bool::ANY,
        ) {
            let mut v: Vec<(u64, u8)> = Vec::new();
            for mut r in runs {
                if !shuffle {
                    r.sort_unstable();
                }
                v.extend(r);
            }
            let order = sorted_order(&v, |t| t.0 as u128, |a, b| a.cmp(b));
            let got: Vec<_> = order.iter().map(|i| v[*i as usize]).collect();
            let mut want = v.clone();
            want.sort_unstable();
            proptest::prop_assert_eq!(got, want);
            let mut seen = order.clone();
            seen.sort_unstable();
            proptest::prop_assert_eq!(seen, (0..v.len() as u32).collect::<Vec<_>>());
        }
    }

    proptest::proptest! {
        /// Records are distinct exactly when no two identities are equal
        /// (a one-word identity's hash is one-to-one, so no false "maybe").
        #[test]
        fn distinct_by_finds_every_repeat(
            v in proptest::collection::vec((0u32..400, proptest::bool::ANY), 0..40)
        ) {
            let ids: std::collections::HashSet<u32> = v.iter().map(|t| t.0).collect();
            proptest::prop_assert_eq!(distinct_by(&v, |t| t.0), ids.len() == v.len());
        }
    }

    proptest::proptest! {
        /// Sorted runs merged in any number of pieces give the stable sort:
        /// equal elements stay in the order they were in.
        #[test]
        fn runs_merged_in_pieces_are_a_stable_sort(
            runs in proptest::collection::vec(
                proptest::collection::vec((0u8..6, 0u8..3), 0..200),
                1..12,
            ),
            pieces in 1usize..10,
        ) {
            let mut v: Vec<(u8, u8)> = Vec::new();
            let mut starts = Vec::new();
            for mut r in runs {
                r.sort_unstable_by_key(|t| t.0);
                starts.push(v.len());
                v.extend(r);
            }
            let less = |i: u32, j: u32| (v[i as usize].0, i) < (v[j as usize].0, j);
            let got = merge_runs(v.len(), &starts, pieces, less);
            let mut want: Vec<u32> = (0..v.len() as u32).collect();
            want.sort_by_key(|i| v[*i as usize].0);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn runs_filled_in_parallel_give_the_values_in_order_after_what_was_there() {
        // 0, 1 or 2 values an element, over several runs and a partial one
        let v: Vec<u32> = (0..10_000).collect();
        let mut a = vec![String::from("before")];
        extend_by_runs(
            &v,
            &mut a,
            |&x| (x % 3) as usize,
            |at, &x, out| {
                for k in 0..x % 3 {
                    out(format!("{at}:{x}.{k}"));
                }
            },
        );
        let want: Vec<String> = v
            .iter()
            .enumerate()
            .flat_map(|(at, &x)| (0..x % 3).map(move |k| format!("{at}:{x}.{k}")))
            .collect();
        assert_eq!(a[0], "before");
        assert_eq!(a[1..], want[..]);
    }

    fn movement(from: u32, to: u32, asset: u32) -> LMove {
        LMove {
            tx: 0,
            block: 1,
            time: 0,
            tx_index: 0,
            seq: 0,
            from,
            to,
            asset,
            amount: 1,
            kind: MoveKind::Native,
        }
    }

    #[test]
    fn account_bits_and_sorted_search_number_accounts_alike() {
        let m = [
            movement(3, 1, 2),
            movement(NONE, 0, 0),
            movement(1, 3, 0),
            movement(4, NONE, 1),
            movement(3, 1, 2),
        ];
        let moves: Vec<&LMove> = m.iter().collect();
        let asset_of = |a: u32| AssetId(a);
        let src = Src::Moves(&moves);
        let (bits, a1, moved1) = AccountIndex::new(5, 3, &src, asset_of);
        let (sorted, a2, moved2) = AccountIndex::new(5, 65, &src, asset_of);
        assert_eq!(moved1, [true, true, true]);
        assert_eq!(moved2[..3], moved1[..]);
        assert!(!moved2[3..].contains(&true));
        assert!(matches!(bits, AccountIndex::Bits { .. }));
        assert!(matches!(sorted, AccountIndex::Sorted));
        let pairs: Vec<(u32, u32)> = a1.iter().map(|a| (a.addr.0, a.asset.0)).collect();
        assert_eq!(pairs, [(0, 0), (1, 0), (1, 2), (3, 0), (3, 2), (4, 1)]);
        assert_eq!(a1, a2);
        for addr in [0, 1, 2, 3, 4, NONE] {
            for asset in 0..3 {
                let id1 = bits.id(addr, AssetId(asset), &a1);
                assert_eq!(id1, sorted.id(addr, AssetId(asset), &a2));
                if id1 != AcctId::NONE {
                    let a = a1[id1.0 as usize];
                    assert_eq!((a.addr.0, a.asset.0), (addr, asset));
                }
            }
        }
        assert_eq!(bits.id(2, AssetId(0), &a1), AcctId::NONE);
    }

    /// A native movement of `amount` in block `block` (tests).
    fn native_move(block: u64, amount: Amount) -> Raw {
        Raw::Move(crate::ingest::raw::RawMove {
            tx_hash: Some(format!("0x{block:x}")),
            block,
            time: 1,
            tx_index: 0,
            seq: 0,
            from: Some("0xaa".into()),
            to: Some("0xbb".into()),
            asset: "ETH".into(),
            amount,
            kind: MoveKind::Native,
        })
    }

    fn build_error(raws: Vec<Raw>) -> Option<String> {
        let raws = raws.into_iter().map(|r| (r, Loc::default())).collect();
        build(raws, &[])
            .err()
            .map(|r| format!("{}: {}", r.field, r.message))
    }

    /// An input must spend an output that exists and that nothing spent
    /// before; a transaction refused for one input leaves none of its
    /// inputs behind and spends nothing.
    #[test]
    fn inputs_that_spend_a_missing_or_spent_output_are_refused() {
        let h = |c: char| c.to_string().repeat(64);
        let (a, b, c, d, e) = (h('a'), h('b'), h('c'), h('d'), h('e'));
        let raws = vec![
            utx(&a, 1, &[], &[("1A", 50)]),
            utx(&b, 2, &[(&a, 0)], &[("1B", 50)]),
            utx(&c, 3, &[(&a, 0)], &[("1C", 50)]),
            utx(&d, 4, &[(&b, 0), (&b, 1)], &[("1D", 50)]),
            utx(&e, 5, &[(&b, 0)], &[("1E", 50)]),
        ];
        let built =
            build(raws.into_iter().map(|r| (r, Loc::default())).collect(), &[]).expect("builds");
        let said: Vec<String> = built
            .rejects
            .iter()
            .map(|r| format!("{}: {}", r.field, r.message))
            .collect();
        assert_eq!(
            said,
            [
                format!("inputs[0]: spends {a}:0 which transaction {b} already spent"),
                format!("inputs[1].vout: spends output 1 of {b}, which has only 1 outputs"),
            ]
        );
        let l = &built.ledger;
        let txids: Vec<&str> = l.utxo_txs.iter().map(|t| l.txid(t.txid)).collect();
        assert_eq!(txids, [&a, &b, &e]);
        // b's input and e's: d's first input went with it
        assert_eq!(l.inputs.len(), 2);
    }

    #[test]
    fn a_movement_above_the_highest_block_a_store_holds_is_refused() {
        let high = u32::MAX as u64 + 1;
        let refused = Some("block: block number 4294967296 is above 4294967295".to_string());
        // movements alone, in order and not
        assert_eq!(
            build_error(vec![native_move(1, 5), native_move(high, 5)]),
            refused
        );
        assert_eq!(
            build_error(vec![native_move(high, 5), native_move(1, 5)]),
            refused
        );
        // one that moves nothing is dropped before the check
        assert_eq!(
            build_error(vec![native_move(1, 5), native_move(high, 0)]),
            None
        );
        // beside a transaction record (movements then go through their keys)
        let tx = |block: u64, value: Amount| {
            Raw::AccountTx(crate::ingest::raw::RawAccountTx {
                hash: format!("0x{block:x}ff"),
                block,
                time: 2,
                tx_index: 0,
                from: "0xaa".into(),
                to: Some("0xcc".into()),
                value,
                fee: None,
                failed: false,
                gas_price: None,
            })
        };
        assert_eq!(build_error(vec![native_move(1, 5), tx(high, 3)]), refused);
        assert_eq!(build_error(vec![native_move(high, 5), tx(1, 3)]), refused);
        // a transaction that moves nothing makes no movement to refuse
        assert_eq!(build_error(vec![native_move(1, 5), tx(high, 0)]), None);
    }

    #[test]
    fn assets_after_an_implied_eth_keep_their_own_movements() {
        use crate::ingest::raw::{RawAccountTx, RawMove, RawTokenTransfer};
        // Transactions imply ETH, which no record names: it joins the asset
        // table between the token (0x..., before it) and USDC (after it).
        let l = ledger_of(vec![
            Raw::AccountTx(RawAccountTx {
                hash: "0x01".into(),
                block: 5,
                time: 50,
                tx_index: 0,
                from: "0xaa".into(),
                to: Some("0xbb".into()),
                value: 7,
                fee: Some(2),
                failed: false,
                gas_price: None,
            }),
            Raw::Token(RawTokenTransfer {
                tx_hash: "0x01".into(),
                log_index: 0,
                block: 5,
                time: None,
                token: "0x7070".into(),
                from: "0xbb".into(),
                to: "0xcc".into(),
                value: 3,
            }),
            Raw::Move(RawMove {
                tx_hash: Some("0x02".into()),
                block: 6,
                time: 60,
                tx_index: 0,
                seq: 0,
                from: Some("0xcc".into()),
                to: Some("0xdd".into()),
                asset: "USDC".into(),
                amount: 11,
                kind: MoveKind::Token,
            }),
        ]);
        let names: Vec<&str> = l.assets.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["0x7070", "ETH", "USDC"]);
        let got: Vec<(&str, &str, Amount)> = l
            .movements
            .iter()
            .map(|m| {
                let from = l.account(m.from).map_or("-", |a| l.address(a.addr));
                (from, names[m.asset.index()], m.amount())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("0xaa", "ETH", 7),
                ("0xaa", "ETH", 2),
                ("0xbb", "0x7070", 3),
                ("0xcc", "USDC", 11),
            ]
        );
        // each end's account is of its movement's asset
        for m in l.movements.iter() {
            for a in [m.from, m.to].into_iter().filter_map(|a| l.account(a)) {
                assert_eq!(a.asset, m.asset);
            }
        }
        // the token transfer took its block's time from the transaction
        assert_eq!(
            l.block_times
                .iter()
                .map(|b| (b.block, b.time))
                .collect::<Vec<_>>(),
            [(5, 50), (6, 60)]
        );
    }
}

#[cfg(test)]
mod gas_tests {
    use crate::ingest::{ingest_files, IngestOptions};
    use crate::store;
    use std::path::PathBuf;

    #[test]
    fn gas_prices_of_the_real_export_survive_the_store() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/ethereum-etl/blocks_17173049_17173050_transactions.json");
        let l = ingest_files(&[p], &IngestOptions::default())
            .expect("ingests")
            .ledger;
        let tx = l
            .tx_id("0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0")
            .expect("first transaction");
        assert_eq!(l.gas_price(tx), Some(80_869_370_967));
        assert_eq!(l.gas_prices.len(), l.txids.len());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("eth.ftl");
        store::write(&l, &f).unwrap();
        let back = store::open(&f).unwrap();
        assert_eq!(back.gas_price(tx), Some(80_869_370_967));
        assert_eq!(back.gas_prices.as_slice(), l.gas_prices.as_slice());
    }
}
