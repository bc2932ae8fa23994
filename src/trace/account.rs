//! The account-model replay: movements in canonical order, each a debit of
//! the sender (revealing missing history) and a credit of the receiver,
//! under one `TaintPolicy`.

use super::{Books, Endpoint, EndpointKind, Roles, TaintPolicy, TracePlan, NO_HOPS};
use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, AssetId};
use std::collections::HashMap;

struct Slot<A> {
    st: A,
    hops: u32,
}

/// Absorbed taint at a stop service, with the fewest hops it came by.
#[derive(Default)]
struct Absorbed {
    taint: Amount,
    hops: u32,
}

pub(crate) fn replay<P: TaintPolicy>(
    ledger: &Ledger,
    plan: &TracePlan,
    roles: &Roles,
    books: &mut Books,
) -> Vec<Endpoint> {
    let mut index: HashMap<(AddrId, AssetId), usize> = HashMap::new();
    let mut slots: Vec<Slot<P::Acct>> = Vec::new();
    let mut absorbed: HashMap<(AddrId, AssetId), Absorbed> = HashMap::new();
    let mut slot_of = |addr: AddrId, asset: AssetId, slots: &mut Vec<Slot<P::Acct>>| -> usize {
        *index.entry((addr, asset)).or_insert_with(|| {
            slots.push(Slot {
                st: P::Acct::default(),
                hops: if roles.seed.contains(&addr) {
                    0
                } else {
                    NO_HOPS
                },
            });
            slots.len() - 1
        })
    };

    for m in &ledger.movements {
        let asset = m.asset;
        let seed_tx = roles.seed_tx.contains(&m.tx);
        // Debit.
        let (mut parcel, from_hops) = if m.from.is_none() || roles.stop.contains(&m.from) {
            // Newly created money, or a custodial service: nothing tainted leaves.
            (P::clean(m.amount), NO_HOPS)
        } else {
            let is_seed = roles.seed.contains(&m.from);
            let s = slot_of(m.from, asset, &mut slots);
            let (p, shortfall) = P::debit(&mut slots[s].st, m.amount, is_seed);
            if is_seed && shortfall > 0 {
                books.at(asset).seeded += shortfall;
            }
            (p, slots[s].hops)
        };
        let mut hops = from_hops.saturating_add(1);
        if seed_tx {
            let t = P::parcel_taint(&parcel);
            books.at(asset).seeded += m.amount - t;
            parcel = P::tainted(m.amount);
            hops = hops.min(1);
        }
        // Credit.
        let taint = P::parcel_taint(&parcel);
        if m.to.is_none() {
            books.at(asset).fees += taint;
            continue;
        }
        if roles.seed.contains(&m.to) {
            books.at(asset).seeded += m.amount - taint;
            let s = slot_of(m.to, asset, &mut slots);
            P::credit(&mut slots[s].st, P::tainted(m.amount));
            continue;
        }
        if taint > 0 && taint < plan.min_taint {
            books.at(asset).below_threshold += taint;
            parcel = P::clean(m.amount);
        }
        let taint = P::parcel_taint(&parcel);
        if roles.stop.contains(&m.to) {
            if taint > 0 {
                books.at(asset).absorbed += taint;
                let a = absorbed.entry((m.to, asset)).or_insert(Absorbed {
                    taint: 0,
                    hops: NO_HOPS,
                });
                a.taint += taint;
                a.hops = a.hops.min(hops);
            }
            continue;
        }
        let s = slot_of(m.to, asset, &mut slots);
        if taint > 0 {
            slots[s].hops = slots[s].hops.min(hops);
        }
        P::credit(&mut slots[s].st, parcel);
    }

    let mut out = Vec::new();
    for ((addr, asset), s) in index {
        let t = P::taint(&slots[s].st);
        if t > 0 {
            books.at(asset).held += t;
            out.push(Endpoint {
                addr,
                asset,
                tainted: t,
                kind: EndpointKind::Holding,
                hops: slots[s].hops,
            });
        }
    }
    for ((addr, asset), a) in absorbed {
        out.push(Endpoint {
            addr,
            asset,
            tainted: a.taint,
            kind: EndpointKind::Service,
            hops: a.hops,
        });
    }
    out
}
