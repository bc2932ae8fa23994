//! Build a `Ledger` from parsed records: place every record in canonical
//! order (SPEC.md §1), drop and count duplicates, intern addresses, assets and
//! hashes, and link UTXO inputs to the outputs they spend.
//!
//! Everything here is a function of the *set* of records: the order of files
//! and lines never changes the result (ids come from sorted tables, duplicates
//! resolve to the smallest record).

use super::raw::{
    BlockRef, Raw, RawAccountTx, RawInternal, RawMove, RawTokenTransfer, RawUtxoTx, TraceSource,
};
use super::{Loc, Reject};
use crate::ledger::Ledger;
use crate::model::{
    AddrId, Amount, AssetId, AssetInfo, ChainModel, MoveKind, Movement, TxId, TxInput, TxOutput,
    UtxoTx, LANE_REWARD, LANE_UNKNOWN_TX, NO_OUTPUT,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

pub struct Built {
    pub ledger: Ledger,
    pub rejects: Vec<Reject>,
}

/// Native coin of the account model.
pub const ETH: &str = "ETH";

/// Sort key of an account movement: block, transaction lane, phase inside
/// the transaction (0 native value, 1 fee, 2 tokens), position (trace address
/// or log index), then a content tie-break so equal keys sort the same way
/// whatever the input order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MoveKey {
    block: u64,
    lane: u32,
    phase: u8,
    sub: Vec<u32>,
    tie: String,
}

struct PendingMove {
    key: MoveKey,
    time: u64,
    tx_index: u32,
    tx: Option<String>,
    from: Option<String>,
    to: Option<String>,
    asset: String,
    kind: MoveKind,
    amount: Amount,
}

/// Keep the first record of each identity, counting the rest. `v` must be
/// sorted by identity, then by content (`sort_identity`), so the record kept
/// does not depend on input order.
fn dedup_by<T, K: PartialEq>(
    v: Vec<(T, Loc)>,
    key: impl Fn(&T) -> K,
    dups: &mut u64,
) -> Vec<(T, Loc)> {
    let before = v.len();
    let mut out: Vec<(T, Loc)> = Vec::with_capacity(v.len());
    for item in v {
        if out.last().is_some_and(|l| key(&l.0) == key(&item.0)) {
            continue;
        }
        out.push(item);
    }
    *dups += (before - out.len()) as u64;
    out
}

pub fn build(raws: Vec<(Raw, Loc)>, paths: &[PathBuf]) -> Result<Built, Reject> {
    let mut txs = Vec::new();
    let mut tokens = Vec::new();
    let mut internals = Vec::new();
    let mut utxos = Vec::new();
    let mut moves = Vec::new();
    let mut asset_meta = Vec::new();
    let mut seen_tips = Vec::new();
    for (r, loc) in raws {
        match r {
            Raw::AccountTx(t) => txs.push((t, loc)),
            Raw::Token(t) => tokens.push((t, loc)),
            Raw::Internal(t) => internals.push((t, loc)),
            Raw::Utxo(t) => utxos.push((t, loc)),
            Raw::Move(t) => moves.push((t, loc)),
            Raw::Asset(a) => asset_meta.push(a),
            Raw::BlockSeen(b) => seen_tips.push(b.height + b.confirmations - 1),
        }
    }
    let mut dups = 0u64;
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

    // --- account model -------------------------------------------------
    // Identity first in each sort so duplicates sit together.
    let txs = dedup_by(
        sort_identity(txs, |t: &RawAccountTx| t.hash.clone()),
        |t| t.hash.clone(),
        &mut dups,
    );
    let tokens = dedup_by(
        sort_identity(tokens, |t: &RawTokenTransfer| {
            (t.tx_hash.clone(), t.log_index)
        }),
        |t| (t.tx_hash.clone(), t.log_index),
        &mut dups,
    );
    let internals = dedup_by(
        sort_identity(internals, |t: &RawInternal| t.id.clone()),
        |t| t.id.clone(),
        &mut dups,
    );
    let moves = dedup_by(
        sort_identity(moves, |m: &RawMove| {
            (m.block, m.tx_index, m.seq, m.tx_hash.clone())
        }),
        |m| (m.block, m.tx_index, m.seq, m.tx_hash.clone()),
        &mut dups,
    );

    let tx_pos: HashMap<&str, (u64, u32)> = txs
        .iter()
        .map(|(t, _)| (t.hash.as_str(), (t.block, t.tx_index)))
        .collect();
    let mut block_time: HashMap<u64, u64> = HashMap::new();
    for (t, _) in &txs {
        block_time.entry(t.block).or_insert(t.time);
    }
    let traced: HashSet<(u64, u32)> = internals
        .iter()
        .filter(|(i, _)| i.source == TraceSource::EthereumEtl && !i.reward)
        .filter_map(|(i, _)| {
            i.tx_index
                .map(|ix| (i.block, ix))
                .or_else(|| i.tx_hash.as_deref().and_then(|h| tx_pos.get(h).copied()))
        })
        .collect();

    let mut pending: Vec<PendingMove> = Vec::new();
    let mut unknown_fee = 0u64;
    for (t, _) in &txs {
        if t.fee.is_none() {
            unknown_fee += 1;
        }
        if !t.failed && t.value > 0 && !traced.contains(&(t.block, t.tx_index)) {
            pending.push(PendingMove {
                key: MoveKey {
                    block: t.block,
                    lane: t.tx_index,
                    phase: 0,
                    sub: vec![],
                    tie: t.hash.clone(),
                },
                time: t.time,
                tx_index: t.tx_index,
                tx: Some(t.hash.clone()),
                from: Some(t.from.clone()),
                to: t.to.clone(),
                asset: ETH.into(),
                kind: MoveKind::Native,
                amount: t.value,
            });
        }
        if let Some(fee) = t.fee.filter(|f| *f > 0) {
            pending.push(PendingMove {
                key: MoveKey {
                    block: t.block,
                    lane: t.tx_index,
                    phase: 1,
                    sub: vec![],
                    tie: t.hash.clone(),
                },
                time: t.time,
                tx_index: t.tx_index,
                tx: Some(t.hash.clone()),
                from: Some(t.from.clone()),
                to: None,
                asset: ETH.into(),
                kind: MoveKind::Fee,
                amount: fee,
            });
        }
    }
    for (i, loc) in &internals {
        if !i.moves || i.value == 0 {
            continue;
        }
        let resolved = i
            .tx_index
            .map(|ix| (i.block, ix))
            .or_else(|| i.tx_hash.as_deref().and_then(|h| tx_pos.get(h).copied()));
        let lane = if i.reward {
            LANE_REWARD
        } else {
            resolved.map(|p| p.1).unwrap_or(LANE_UNKNOWN_TX)
        };
        if !i.reward && i.from.is_none() {
            rejects.push(reject(
                *loc,
                "from_address",
                "a value-moving trace has no sender".into(),
            ));
            continue;
        }
        if i.to.is_none() {
            rejects.push(reject(
                *loc,
                "to_address",
                "a value-moving trace has no recipient".into(),
            ));
            continue;
        }
        // Etherscan's internal calls come after the transaction's own value,
        // whose key has the empty trace address.
        let mut sub = i.trace_address.clone();
        if i.source == TraceSource::Etherscan {
            sub.insert(0, 1);
        }
        pending.push(PendingMove {
            key: MoveKey {
                block: i.block,
                lane,
                phase: 0,
                sub,
                tie: i.id.clone(),
            },
            time: i
                .time
                .or_else(|| block_time.get(&i.block).copied())
                .unwrap_or(0),
            tx_index: lane,
            tx: i.tx_hash.clone(),
            from: i.from.clone(),
            to: i.to.clone(),
            asset: ETH.into(),
            kind: if i.reward {
                MoveKind::Mint
            } else {
                MoveKind::Native
            },
            amount: i.value,
        });
    }
    for (t, _) in &tokens {
        if t.value == 0 {
            continue;
        }
        // Tokens are separate assets: within one token, (block, log_index) is
        // the canonical order, so all token transfers of a block sort after its
        // native movements, by log index.
        let tx_index = tx_pos
            .get(t.tx_hash.as_str())
            .map(|p| p.1)
            .unwrap_or(LANE_UNKNOWN_TX);
        pending.push(PendingMove {
            key: MoveKey {
                block: t.block,
                lane: LANE_UNKNOWN_TX,
                phase: 2,
                sub: vec![(t.log_index >> 32) as u32, t.log_index as u32],
                tie: t.tx_hash.clone(),
            },
            time: t
                .time
                .or_else(|| block_time.get(&t.block).copied())
                .unwrap_or(0),
            tx_index,
            tx: Some(t.tx_hash.clone()),
            from: Some(t.from.clone()),
            to: Some(t.to.clone()),
            asset: t.token.clone(),
            kind: MoveKind::Token,
            amount: t.value,
        });
    }
    for (m, _) in &moves {
        if m.amount == 0 {
            continue;
        }
        pending.push(PendingMove {
            key: MoveKey {
                block: m.block,
                lane: m.tx_index,
                phase: 0,
                sub: vec![m.seq],
                tie: m.tx_hash.clone().unwrap_or_default(),
            },
            time: m.time,
            tx_index: m.tx_index,
            tx: m.tx_hash.clone(),
            from: m.from.clone(),
            to: m.to.clone(),
            asset: m.asset.clone(),
            kind: m.kind,
            amount: m.amount,
        });
    }
    pending.sort_by(|a, b| a.key.cmp(&b.key));

    // --- UTXO model ----------------------------------------------------
    let (utxos, utxo_rejects) = place_utxos(utxos, seen_tips, &mut dups, &reject);
    rejects.extend(utxo_rejects);

    // --- interning -----------------------------------------------------
    let mut addr_set: BTreeSet<&str> = BTreeSet::new();
    let mut tx_set: BTreeSet<&str> = BTreeSet::new();
    let mut asset_set: BTreeMap<&str, ChainModel> = BTreeMap::new();
    for p in &pending {
        for a in [&p.from, &p.to].into_iter().flatten() {
            addr_set.insert(a);
        }
        if let Some(h) = &p.tx {
            tx_set.insert(h);
        }
        asset_set.entry(&p.asset).or_insert(ChainModel::Account);
    }
    for (u, _) in &utxos {
        tx_set.insert(&u.txid);
        asset_set.entry(&u.asset).or_insert(ChainModel::Utxo);
        for o in &u.outputs {
            addr_set.insert(&o.owner);
        }
        for i in &u.inputs {
            if let Some(o) = &i.owner {
                addr_set.insert(o);
            }
        }
    }
    let addresses: Vec<String> = addr_set.iter().map(|s| s.to_string()).collect();
    let addr_ids: HashMap<&str, AddrId> = addr_set
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, AddrId(i as u32)))
        .collect();
    let txids: Vec<String> = tx_set.iter().map(|s| s.to_string()).collect();
    let tx_ids: HashMap<&str, TxId> = tx_set
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, TxId(i as u32)))
        .collect();
    let mut meta: BTreeMap<String, (Option<String>, Option<u8>)> = BTreeMap::new();
    asset_meta.sort();
    for a in asset_meta {
        let e = meta.entry(a.asset).or_default();
        if e.0.is_none() {
            e.0 = a.symbol;
        }
        if e.1.is_none() {
            e.1 = a.decimals;
        }
    }
    let assets: Vec<AssetInfo> = asset_set
        .iter()
        .map(|(name, model)| {
            let (sym, dec) = meta.get(*name).cloned().unwrap_or_default();
            let (sym, dec) = match *name {
                "ETH" => (Some("ETH".to_string()), Some(18)),
                "BTC" => (Some("BTC".to_string()), Some(8)),
                _ => (sym, dec),
            };
            AssetInfo {
                name: name.to_string(),
                model: *model,
                symbol: sym,
                decimals: dec,
            }
        })
        .collect();
    let asset_ids: HashMap<&str, AssetId> = asset_set
        .keys()
        .enumerate()
        .map(|(i, a)| (*a, AssetId(i as u32)))
        .collect();
    let aid = |a: &Option<String>| a.as_deref().map(|s| addr_ids[s]).unwrap_or(AddrId::NONE);

    let movements: Vec<Movement> = pending
        .iter()
        .map(|p| Movement {
            block: p.key.block,
            time: p.time,
            tx_index: p.tx_index,
            tx: p.tx.as_deref().map(|h| tx_ids[h]).unwrap_or(TxId::NONE),
            from: aid(&p.from),
            to: aid(&p.to),
            asset: asset_ids[p.asset.as_str()],
            kind: p.kind,
            amount: p.amount,
        })
        .collect();

    // UTXO arrays with spend links.
    let mut utxo_txs = Vec::with_capacity(utxos.len());
    let mut inputs = Vec::new();
    let mut outputs: Vec<TxOutput> = Vec::new();
    // txid -> (first output index, count) of the latest transaction with it
    let mut created: HashMap<&str, (u32, u32)> = HashMap::new();
    let mut spent_by: HashMap<u32, usize> = HashMap::new();
    let mut unknown_value_inputs = 0u64;
    for (pos, (u, loc)) in utxos.iter().enumerate() {
        let BlockRef::Height(block) = u.block else {
            continue; // place_utxos resolved every block to a height
        };
        let in_start = inputs.len() as u32;
        let mut tx_inputs = Vec::with_capacity(u.inputs.len());
        let mut bad = None;
        for (k, i) in u.inputs.iter().enumerate() {
            let link = created.get(i.prev_txid.as_str()).copied();
            let input = match link {
                Some((start, count)) => {
                    if i.vout >= count {
                        bad = Some((
                            format!("inputs[{k}].vout"),
                            format!(
                                "spends output {} of {}, which has only {count} outputs",
                                i.vout, i.prev_txid
                            ),
                        ));
                        break;
                    }
                    let o = start + i.vout;
                    if let Some(other) = spent_by.get(&o) {
                        bad = Some((
                            format!("inputs[{k}]"),
                            format!(
                                "spends {}:{} which transaction {} already spent",
                                i.prev_txid, i.vout, utxos[*other].0.txid
                            ),
                        ));
                        break;
                    }
                    let out = outputs[o as usize];
                    TxInput {
                        spent: o,
                        owner: out.owner,
                        value: Some(out.value),
                    }
                }
                None => {
                    if i.value.is_none() {
                        unknown_value_inputs += 1;
                    }
                    TxInput {
                        spent: NO_OUTPUT,
                        owner: aid(&i.owner),
                        value: i.value,
                    }
                }
            };
            tx_inputs.push(input);
        }
        if let Some((field, message)) = bad {
            rejects.push(reject(*loc, &field, message));
            continue;
        }
        for t in &tx_inputs {
            if t.spent != NO_OUTPUT {
                spent_by.insert(t.spent, pos);
            }
        }
        inputs.extend(tx_inputs);
        let out_start = outputs.len() as u32;
        outputs.extend(u.outputs.iter().map(|o| TxOutput {
            owner: addr_ids[o.owner.as_str()],
            value: o.value,
        }));
        created.insert(&u.txid, (out_start, u.outputs.len() as u32));
        utxo_txs.push(UtxoTx {
            block,
            time: u.time,
            index: u.index.unwrap_or(u32::MAX),
            txid: tx_ids[u.txid.as_str()],
            asset: asset_ids[u.asset.as_str()],
            coinbase: u.coinbase,
            inputs: (in_start, inputs.len() as u32),
            outputs: (out_start, outputs.len() as u32),
        });
    }

    let mut ledger = Ledger {
        addresses,
        assets,
        txids,
        movements,
        utxo_txs,
        inputs,
        outputs,
        ..Default::default()
    };
    ledger.info.duplicates = dups;
    ledger.info.unknown_fee_txs = unknown_fee;
    ledger.info.unknown_value_inputs = unknown_value_inputs;
    Ok(Built { ledger, rejects })
}

fn sort_identity<T: Ord, K: Ord>(mut v: Vec<(T, Loc)>, key: impl Fn(&T) -> K) -> Vec<(T, Loc)> {
    v.sort_by(|a, b| key(&a.0).cmp(&key(&b.0)).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Resolve every UTXO transaction's block to a height, drop duplicates
/// (identity: txid and block), and sort into canonical order.
///
/// `getrawtransaction` names its block only by hash and a confirmation count.
/// Such a transaction that also appears with a height is a duplicate; the
/// others are placed at `tip - confirmations + 1`, with the tip learnt from a
/// `getblock` result's confirmations or from a transaction seen both ways. When no transaction in the sample has a height
/// at all, heights are relative: the most-confirmed block is height 0.
type Placed = (Vec<(RawUtxoTx, Loc)>, Vec<Reject>);
fn place_utxos(
    utxos: Vec<(RawUtxoTx, Loc)>,
    mut tips: Vec<u64>,
    dups: &mut u64,
    reject: &dyn Fn(Loc, &str, String) -> Reject,
) -> Placed {
    let mut rejects = Vec::new();
    let heights: HashMap<String, u64> = utxos
        .iter()
        .filter_map(|(u, _)| match u.block {
            BlockRef::Height(h) => Some((u.txid.clone(), h)),
            _ => None,
        })
        .collect();
    let any_height = !heights.is_empty();
    // the tip height, from getblock results and from transactions given both ways
    tips.extend(utxos.iter().filter_map(|(u, _)| match &u.block {
        BlockRef::Hash {
            confirmations: Some(c),
            ..
        } if *c > 0 => heights.get(&u.txid).map(|h| h + c - 1),
        _ => None,
    }));
    tips.sort();
    let tip = tips.first().copied();
    let max_conf = utxos
        .iter()
        .filter_map(|(u, _)| match &u.block {
            BlockRef::Hash {
                confirmations: Some(c),
                ..
            } => Some(*c),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut placed = Vec::with_capacity(utxos.len());
    for (mut u, loc) in utxos {
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
                        loc,
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
        placed.push((u, loc));
    }
    let key = |u: &RawUtxoTx| {
        let BlockRef::Height(h) = u.block else {
            return (0, 0, String::new());
        };
        (h, u.index.unwrap_or(u32::MAX), u.txid.clone())
    };
    placed.sort_by(|a, b| key(&a.0).cmp(&key(&b.0)).then_with(|| a.0.cmp(&b.0)));
    let before = placed.len();
    placed.dedup_by(|b, a| {
        let (BlockRef::Height(ha), BlockRef::Height(hb)) = (&a.0.block, &b.0.block) else {
            return false;
        };
        a.0.txid == b.0.txid && ha == hb
    });
    *dups += (before - placed.len()) as u64;
    (placed, rejects)
}
