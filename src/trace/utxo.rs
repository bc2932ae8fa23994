//! The UTXO-model replay: transactions in canonical order; each spends whole
//! outputs, and the policy splits the inputs' taint over the new outputs and
//! the fee.

use super::{Books, Endpoint, EndpointKind, Roles, TaintPolicy, TracePlan, NO_HOPS};
use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, AssetId, NO_OUTPUT};
use std::collections::BTreeMap;

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

pub(crate) fn replay<P: TaintPolicy>(
    ledger: &Ledger,
    plan: &TracePlan,
    roles: &Roles,
    books: &mut Books,
) -> UtxoOutcome {
    let n_out = ledger.outputs.len();
    let mut parcels: Vec<Option<P::Parcel>> = vec![None; n_out];
    let mut hops: Vec<u32> = vec![NO_HOPS; n_out];
    let mut spent = vec![false; n_out];
    let mut absorbed: BTreeMap<(AddrId, AssetId), (Amount, u32)> = BTreeMap::new();
    let mut unknown_value_inputs = 0u64;
    let mut unbalanced_txs = 0u64;

    for tx in ledger.utxo_txs.iter() {
        let asset = tx.asset;
        let ins = ledger.tx_inputs(tx);
        let outs = ledger.tx_outputs(tx);
        let out_values: Vec<Amount> = outs.iter().map(|o| o.value()).collect();
        let out_total: Amount = out_values.iter().sum();
        let known: Amount = ins.iter().filter_map(|i| i.value()).sum();
        let n_unknown = ins.iter().filter(|i| i.value().is_none()).count();
        unknown_value_inputs += n_unknown as u64;
        let mut guessed = unknown_input_values(known, out_total, n_unknown).into_iter();

        let mut in_parcels = Vec::with_capacity(ins.len() + 1);
        let mut tx_hops = NO_HOPS;
        let mut in_total: Amount = 0;
        for i in ins {
            let p = if i.spent != NO_OUTPUT {
                let o = i.spent as usize;
                spent[o] = true;
                if parcels[o].as_ref().is_some_and(|p| P::parcel_taint(p) > 0) {
                    tx_hops = tx_hops.min(hops[o]);
                }
                parcels[o]
                    .take()
                    .unwrap_or_else(|| P::clean(ledger.outputs[o].value()))
            } else {
                match i.value() {
                    // Missing history: clean, unless the owner is a seed.
                    Some(v) if roles.seed.contains(&i.owner) => {
                        books.at(asset).seeded += v;
                        tx_hops = 0;
                        P::tainted(v)
                    }
                    Some(v) => P::clean(v),
                    None => P::clean(guessed.next().unwrap_or(0)),
                }
            };
            in_total += P::parcel_amount(&p);
            in_parcels.push(p);
        }
        if !tx.is_coinbase() && in_total < out_total {
            // Value from outside the sample (e.g. a shielded pool): clean.
            unbalanced_txs += 1;
            in_parcels.push(P::clean(out_total - in_total));
        } else if tx.is_coinbase() && in_total < out_total {
            in_parcels.push(P::clean(out_total - in_total));
        }
        let (mut out_parcels, mut fee) = P::split(in_parcels, &out_values);
        let mut next_hops = tx_hops.saturating_add(1);
        if roles.seed_tx.contains(&tx.txid) {
            // Everything the transaction moves turns tainted; the seeded total
            // grows by what was not tainted already, counted over the whole
            // transaction: a haircut fee bucket can hold rounding dust beyond
            // its own amount, so per bucket the difference can be negative.
            let before =
                out_parcels.iter().map(P::parcel_taint).sum::<Amount>() + P::parcel_taint(&fee);
            for (p, v) in out_parcels.iter_mut().zip(&out_values) {
                *p = P::tainted(*v);
            }
            let f = P::parcel_amount(&fee);
            fee = P::tainted(f);
            books.at(asset).seeded += out_total + f - before;
            next_hops = next_hops.min(1);
        }
        books.at(asset).fees += P::parcel_taint(&fee);

        for (k, (mut p, o)) in out_parcels.into_iter().zip(outs).enumerate() {
            let g = tx.outputs[0] as usize + k;
            let taint = P::parcel_taint(&p);
            if roles.seed.contains(&o.owner) {
                books.at(asset).seeded += o.value() - taint;
                parcels[g] = Some(P::tainted(o.value()));
                hops[g] = 0;
                continue;
            }
            if taint > 0 && taint < plan.min_taint {
                books.at(asset).below_threshold += taint;
                p = P::clean(o.value());
            }
            let taint = P::parcel_taint(&p);
            if roles.stop.contains(&o.owner) {
                if taint > 0 {
                    books.at(asset).absorbed += taint;
                    let a = absorbed.entry((o.owner, asset)).or_insert((0, NO_HOPS));
                    a.0 += taint;
                    a.1 = a.1.min(next_hops);
                }
                spent[g] = true; // a service's outputs never carry taint on
                continue;
            }
            if taint > 0 {
                hops[g] = next_hops;
                parcels[g] = Some(p);
            }
        }
    }

    let mut held: BTreeMap<(AddrId, AssetId), (Amount, u32)> = BTreeMap::new();
    for tx in ledger.utxo_txs.iter() {
        for g in tx.outputs[0] as usize..tx.outputs[1] as usize {
            if spent[g] {
                continue;
            }
            if let Some(p) = &parcels[g] {
                let t = P::parcel_taint(p);
                if t > 0 {
                    let e = held
                        .entry((ledger.outputs[g].owner, tx.asset))
                        .or_insert((0, NO_HOPS));
                    e.0 += t;
                    e.1 = e.1.min(hops[g]);
                }
            }
        }
    }
    let mut endpoints = Vec::new();
    for ((addr, asset), (t, h)) in held {
        books.at(asset).held += t;
        endpoints.push(Endpoint {
            addr,
            asset,
            tainted: t,
            kind: EndpointKind::Holding,
            hops: h,
        });
    }
    for ((addr, asset), (t, h)) in absorbed {
        endpoints.push(Endpoint {
            addr,
            asset,
            tainted: t,
            kind: EndpointKind::Service,
            hops: h,
        });
    }
    UtxoOutcome {
        endpoints,
        unknown_value_inputs,
        unbalanced_txs,
    }
}
