//! The UTXO-model replay: transactions in canonical order; each spends whole
//! outputs, and the policy splits the inputs' taint over the new outputs and
//! the fee.
//!
//! Only tainted unspent outputs are kept (a parcel each, found through an
//! array of one slot number per output), so the parcels grow with the
//! seeds' forward cone, not with the ledger; a transaction that spends
//! nothing tainted, pays no seed and is no seed transaction is passed over
//! after one look at its inputs and outputs.

use super::{
    prefetch, prefetch_whole, Bits, Books, CoinJoinPassage, Endpoint, EndpointKind, Flow, Roles,
    TaintPolicy, TracePlan, NO_HOPS,
};
use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, AssetId, UtxoTx, NO_OUTPUT};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Tainted unspent outputs: each one's entry in `entries` (with its output
/// id), found through `at` (one slot number per output of the ledger, or
/// `EMPTY`). An array rather than a hash map: looking an output up is one
/// read, and the replay looks up every input of every transaction.
struct Live<T> {
    at: Vec<u32>,
    entries: Vec<(u32, T)>,
}

const EMPTY: u32 = u32::MAX;

/// How many transactions ahead the replay asks for the state their inputs
/// spend.
const AHEAD: usize = 8;

impl<T> Live<T> {
    /// Start loading where the inputs of `tx` will find their slots.
    #[inline]
    fn prefetch_slots(&self, ledger: &Ledger, tx: &UtxoTx) {
        for i in ledger.tx_inputs(tx) {
            if i.spent != NO_OUTPUT {
                prefetch(&self.at[i.spent as usize]);
            }
        }
    }

    /// Start loading the entries the inputs of `tx` will take.
    #[inline]
    fn prefetch_entries(&self, ledger: &Ledger, tx: &UtxoTx) {
        for i in ledger.tx_inputs(tx) {
            if i.spent != NO_OUTPUT {
                if let Some(e) = self.entries.get(self.at[i.spent as usize] as usize) {
                    prefetch_whole(e);
                }
            }
        }
    }

    fn new(outputs: usize) -> Self {
        Live {
            at: vec![EMPTY; outputs],
            entries: Vec::new(),
        }
    }

    #[inline]
    fn contains(&self, g: u32) -> bool {
        self.at[g as usize] != EMPTY
    }

    fn remove(&mut self, g: u32) -> Option<T> {
        let k = std::mem::replace(&mut self.at[g as usize], EMPTY);
        if k == EMPTY {
            return None;
        }
        let (_, v) = self.entries.swap_remove(k as usize);
        if let Some((moved, _)) = self.entries.get(k as usize) {
            self.at[*moved as usize] = k;
        }
        Some(v)
    }

    fn insert(&mut self, g: u32, v: T) {
        match self.at[g as usize] {
            EMPTY => {
                self.at[g as usize] = self.entries.len() as u32;
                self.entries.push((g, v));
            }
            k => self.entries[k as usize].1 = v,
        }
    }
}

pub(crate) struct UtxoOutcome {
    pub endpoints: Vec<Endpoint>,
    pub unknown_value_inputs: u64,
    pub unbalanced_txs: u64,
}

/// Values of inputs whose spent output is not in the sample and whose value
/// the export did not give: together they make the transaction balance with
/// zero fee, split evenly in input order, remainder on the first.
fn unknown_input_values(known: Amount, outputs: Amount, unknown: usize) -> Vec<Amount> {
    if unknown == 0 {
        return Vec::new();
    }
    let total = outputs.saturating_sub(known);
    let n = unknown as Amount;
    let each = total / n;
    let mut v = vec![each; unknown];
    v[0] += total % n;
    v
}

/// The CoinJoin an output's taint passed, if any.
type Via = Option<CoinJoinPassage>;

/// Of two passages, the surer (then the earlier transaction), so the result
/// does not depend on the order parcels meet, with both amounts.
fn best(a: Via, b: Via) -> Via {
    match (a, b) {
        (Some(x), Some(y)) => {
            let taint = x.taint.saturating_add(y.taint);
            let pick = if (y.confidence_ppm, std::cmp::Reverse(y.tx))
                > (x.confidence_ppm, std::cmp::Reverse(x.tx))
            {
                y
            } else {
                x
            };
            Some(CoinJoinPassage { taint, ..pick })
        }
        (x, None) => x,
        (None, y) => y,
    }
}

/// The part of a passage that `part` of `whole` taint carries on.
fn share_of(v: Via, part: Amount, whole: Amount) -> Via {
    let c = v?;
    let taint = if whole == 0 {
        0
    } else {
        crate::amount::mul_div_floor(part, c.taint, whole)
            .unwrap_or(0)
            .min(part)
    };
    (taint > 0).then_some(CoinJoinPassage { taint, ..c })
}

pub(crate) fn replay<P: TaintPolicy>(
    ledger: &Ledger,
    plan: &TracePlan,
    roles: &Roles,
    books: &mut Books,
) -> UtxoOutcome {
    // tainted unspent outputs: (parcel, fewest hops, asset, owner), and
    // apart (few outputs have one, and entries stay small) the CoinJoin an
    // output's taint passed
    let mut live: Live<(P::Parcel, u32, AssetId, AddrId)> = Live::new(ledger.outputs.len());
    let mut vias: FxHashMap<u32, CoinJoinPassage> = FxHashMap::default();
    let mut absorbed: BTreeMap<(AddrId, AssetId), (Amount, u32, Via)> = BTreeMap::new();
    let coinjoins = plan.coinjoins.as_deref();
    let mut unknown_value_inputs = 0u64;
    let mut unbalanced_txs = 0u64;

    // whether an address is a seed's, asked of every output: a bit per
    // address rather than a hash
    let mut seed_bits = Bits::new(ledger.addresses.len());
    for a in &roles.seed {
        seed_bits.set(a.index());
    }
    let is_seed = |a: AddrId| !a.is_none() && seed_bits.has(a.index());
    let mut out_values: Vec<Amount> = Vec::new();
    let txs = &ledger.utxo_txs;
    for (tx_index, tx) in txs.iter().enumerate() {
        // the spent outputs' slots and entries are reads at random: ask
        // for those of the transactions a little ahead
        if let Some(t) = txs.get(tx_index + 2 * AHEAD) {
            live.prefetch_slots(ledger, t);
        }
        if let Some(t) = txs.get(tx_index + AHEAD) {
            live.prefetch_entries(ledger, t);
        }
        let asset = tx.asset;
        let ins = ledger.tx_inputs(tx);
        let outs = ledger.tx_outputs(tx);
        let n_unknown = ins.iter().filter(|i| i.value().is_none()).count();
        unknown_value_inputs += n_unknown as u64;
        let seed_tx = !roles.seed_tx.is_empty() && roles.seed_tx.contains(&tx.txid);
        let touched = seed_tx
            || ins.iter().any(|i| {
                if i.spent != NO_OUTPUT {
                    live.contains(i.spent)
                } else {
                    i.value().is_some() && is_seed(i.owner)
                }
            })
            || outs.iter().any(|o| is_seed(o.owner));
        if !touched {
            continue; // nothing tainted goes in or comes out
        }

        out_values.clear();
        out_values.extend(outs.iter().map(|o| o.value()));
        let out_total: Amount = out_values.iter().sum();
        let known: Amount = ins.iter().filter_map(|i| i.value()).sum();
        let mut guessed = unknown_input_values(known, out_total, n_unknown).into_iter();
        let mut in_parcels = Vec::with_capacity(ins.len() + 1);
        let mut tx_hops = NO_HOPS;
        let mut tx_via: Via = None;
        let mut tainted_from = AddrId::NONE;
        let mut in_total: Amount = 0;
        let cj = coinjoins.and_then(|c| {
            c.by_tx.get(&(tx_index as u32)).map(|ppm| {
                (
                    c.stop,
                    CoinJoinPassage {
                        tx: tx.txid,
                        confidence_ppm: *ppm,
                        taint: 0,
                    },
                )
            })
        });
        for i in ins {
            let p = if i.spent != NO_OUTPUT {
                match live.remove(i.spent) {
                    Some((p, h, _, _)) => {
                        tx_hops = tx_hops.min(h);
                        if !vias.is_empty() {
                            tx_via = best(tx_via, vias.remove(&i.spent));
                        }
                        p
                    }
                    None => P::clean(ledger.outputs[i.spent as usize].value()),
                }
            } else {
                match i.value() {
                    // Missing history: clean, unless the owner is a seed.
                    Some(v) if is_seed(i.owner) => {
                        books.at(asset).seeded += v;
                        tx_hops = 0;
                        P::tainted(v)
                    }
                    Some(v) => P::clean(v),
                    None => P::clean(guessed.next().unwrap_or(0)),
                }
            };
            in_total += P::parcel_amount(&p);
            let t = P::parcel_taint(&p);
            if t > 0 && tainted_from == AddrId::NONE {
                tainted_from = i.owner;
            }
            let p = match cj {
                // taint entering a CoinJoin stops at the input's address
                Some((true, pass)) if t > 0 => {
                    books.at(asset).absorbed += t;
                    let a = absorbed
                        .entry((i.owner, asset))
                        .or_insert((0, NO_HOPS, None));
                    a.0 += t;
                    a.1 = a.1.min(tx_hops.saturating_add(1));
                    a.2 = best(a.2, Some(CoinJoinPassage { taint: t, ..pass }));
                    P::clean(P::parcel_amount(&p))
                }
                _ => p,
            };
            in_parcels.push(p);
        }
        // the taint the transaction carries on, and how much of it crossed
        // a CoinJoin: all of it, if this is one
        if let Some((false, pass)) = cj {
            let tx_taint_in: Amount = in_parcels.iter().map(P::parcel_taint).sum();
            tx_via = best(tx_via, Some(pass)).map(|c| CoinJoinPassage {
                taint: tx_taint_in,
                ..c
            });
        }
        if in_total < out_total {
            // Value from outside the sample (a coinbase's new coins, a
            // shielded pool): clean.
            if !tx.is_coinbase() {
                unbalanced_txs += 1;
            }
            in_parcels.push(P::clean(out_total - in_total));
        }
        let (mut out_parcels, mut fee) = P::split(in_parcels, &out_values);
        let mut next_hops = tx_hops.saturating_add(1);
        if seed_tx {
            // Everything the transaction moves turns tainted; the seeded total
            // grows by what was not tainted already, counted over the whole
            // transaction: a haircut fee bucket can hold rounding dust beyond
            // its own amount, so per bucket the difference can be negative.
            let before =
                out_parcels.iter().map(P::parcel_taint).sum::<Amount>() + P::parcel_taint(&fee);
            for (p, v) in out_parcels.iter_mut().zip(out_values.iter()) {
                *p = P::tainted(*v);
            }
            let f = P::parcel_amount(&fee);
            fee = P::tainted(f);
            books.at(asset).seeded += out_total + f - before;
            next_hops = next_hops.min(1);
        }
        let fee_taint = P::parcel_taint(&fee);
        if fee_taint > 0 {
            books.at(asset).fees += fee_taint;
        }
        // (only needed to share out a passage)
        let tx_taint_out: Amount = if tx_via.is_some() {
            out_parcels.iter().map(P::parcel_taint).sum::<Amount>() + fee_taint
        } else {
            0
        };

        for (k, (mut p, o)) in out_parcels.into_iter().zip(outs).enumerate() {
            let g = tx.outputs[0] + k as u32;
            let taint = P::parcel_taint(&p);
            let flow = |t: Amount| Flow {
                from: tainted_from,
                to: o.owner,
                asset,
                tx: tx.txid,
                block: tx.block,
                taint: t,
            };
            if is_seed(o.owner) {
                if plan.record_flows && taint > 0 {
                    books.flows.push(flow(taint));
                }
                books.at(asset).seeded += o.value() - taint;
                live.insert(g, (P::tainted(o.value()), 0, asset, o.owner));
                continue;
            }
            if taint > 0 && taint < plan.min_taint {
                books.at(asset).below_threshold += taint;
                p = P::clean(o.value());
            }
            let taint = P::parcel_taint(&p);
            if taint == 0 {
                continue;
            }
            if plan.record_flows {
                books.flows.push(flow(taint));
            }
            let out_via = share_of(tx_via, taint, tx_taint_out);
            if !roles.stop.is_empty() && roles.stop.contains(&o.owner) {
                // a service's outputs never carry taint on
                books.at(asset).absorbed += taint;
                let a = absorbed
                    .entry((o.owner, asset))
                    .or_insert((0, NO_HOPS, None));
                a.0 += taint;
                a.1 = a.1.min(next_hops);
                a.2 = best(a.2, out_via);
                continue;
            }
            live.insert(g, (p, next_hops, asset, o.owner));
            if let Some(v) = out_via {
                vias.insert(g, v);
            }
        }
    }

    let mut held: BTreeMap<(AddrId, AssetId), (Amount, u32, Via)> = BTreeMap::new();
    for (g, (p, h, asset, owner)) in &live.entries {
        let t = P::parcel_taint(p);
        if t > 0 {
            let e = held.entry((*owner, *asset)).or_insert((0, NO_HOPS, None));
            e.0 += t;
            e.1 = e.1.min(*h);
            if !vias.is_empty() {
                e.2 = best(e.2, vias.get(g).copied());
            }
        }
    }
    let mut endpoints = Vec::new();
    for ((addr, asset), (t, h, v)) in held {
        books.at(asset).held += t;
        endpoints.push(Endpoint {
            addr,
            asset,
            tainted: t,
            kind: EndpointKind::Holding,
            hops: h,
            mixer: None,
            coinjoin: v,
        });
    }
    for ((addr, asset), (t, h, v)) in absorbed {
        endpoints.push(Endpoint {
            addr,
            asset,
            tainted: t,
            kind: EndpointKind::Service,
            hops: h,
            mixer: None,
            coinjoin: v,
        });
    }
    UtxoOutcome {
        endpoints,
        unknown_value_inputs,
        unbalanced_txs,
    }
}
