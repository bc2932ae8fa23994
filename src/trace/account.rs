//! The account-model replay: the movements of the seeds' forward cone in
//! canonical order, each a debit of the sender (revealing missing history)
//! and a credit of the receiver, under one `TaintPolicy`. State is kept for
//! cone accounts only, in dense arrays; an account outside the cone never
//! holds taint, so its debits are clean and its credits need no state.

use super::cone::account_cone;
use super::{Books, Endpoint, EndpointKind, Roles, TaintPolicy, TracePlan, NO_HOPS};
use crate::ledger::Ledger;
use crate::model::Amount;
use rustc_hash::FxHashMap;

const SEED: u8 = 1;
const STOP: u8 = 2;
const OUT: u32 = u32::MAX;

pub(crate) fn replay<P: TaintPolicy>(
    ledger: &Ledger,
    plan: &TracePlan,
    roles: &Roles,
    books: &mut Books,
) -> Vec<Endpoint> {
    let cone = account_cone(ledger, roles);
    // account -> its slot in the cone's arrays (OUT: not in the cone)
    let mut local = vec![OUT; ledger.accounts.len()];
    for (k, a) in cone.accounts.iter().enumerate() {
        local[*a as usize] = k as u32;
    }
    let role: Vec<u8> = cone
        .accounts
        .iter()
        .map(|a| {
            let addr = ledger.accounts[*a as usize].addr;
            if roles.seed.contains(&addr) {
                SEED
            } else if roles.stop.contains(&addr) {
                STOP
            } else {
                0
            }
        })
        .collect();
    let mut st: Vec<P::Acct> = vec![P::Acct::default(); cone.accounts.len()];
    let mut hops: Vec<u32> = role
        .iter()
        .map(|r| if *r == SEED { 0 } else { NO_HOPS })
        .collect();
    // stop service slot -> (absorbed taint, fewest hops)
    let mut absorbed: FxHashMap<u32, (Amount, u32)> = FxHashMap::default();

    for &i in &cone.moves {
        let m = &ledger.movements[i as usize];
        let asset = m.asset;
        let amount = m.amount();
        // Debit.
        let from = if m.from.is_none() {
            OUT
        } else {
            local[m.from.index()]
        } as usize;
        let (mut parcel, from_hops) = if from == OUT as usize || role[from] == STOP {
            // New money, an account taint never reaches, or a custodial
            // service: nothing tainted leaves.
            (P::clean(amount), NO_HOPS)
        } else {
            let is_seed = role[from] == SEED;
            let (p, shortfall) = P::debit(&mut st[from], amount, is_seed);
            if is_seed && shortfall > 0 {
                books.at(asset).seeded += shortfall;
            }
            (p, hops[from])
        };
        let mut next_hops = from_hops.saturating_add(1);
        if !roles.seed_tx.is_empty() && roles.seed_tx.contains(&m.tx) {
            let t = P::parcel_taint(&parcel);
            books.at(asset).seeded += amount - t;
            parcel = P::tainted(amount);
            next_hops = next_hops.min(1);
        }
        // Credit.
        let taint = P::parcel_taint(&parcel);
        if m.to.is_none() {
            if taint > 0 {
                books.at(asset).fees += taint;
            }
            continue;
        }
        let to = local[m.to.index()] as usize;
        if to == OUT as usize {
            continue; // outside the cone: it never receives taint
        }
        if role[to] == SEED {
            books.at(asset).seeded += amount - taint;
            P::credit(&mut st[to], P::tainted(amount));
            continue;
        }
        if taint > 0 && taint < plan.min_taint {
            books.at(asset).below_threshold += taint;
            parcel = P::clean(amount);
        }
        let taint = P::parcel_taint(&parcel);
        if role[to] == STOP {
            if taint > 0 {
                books.at(asset).absorbed += taint;
                let a = absorbed.entry(to as u32).or_insert((0, NO_HOPS));
                a.0 += taint;
                a.1 = a.1.min(next_hops);
            }
            continue;
        }
        if taint > 0 {
            hops[to] = hops[to].min(next_hops);
        }
        P::credit(&mut st[to], parcel);
    }

    let mut out = Vec::new();
    for (k, s) in st.iter().enumerate() {
        let t = P::taint(s);
        if t > 0 {
            let a = ledger.accounts[cone.accounts[k] as usize];
            books.at(a.asset).held += t;
            out.push(Endpoint {
                addr: a.addr,
                asset: a.asset,
                tainted: t,
                kind: EndpointKind::Holding,
                hops: hops[k],
            });
        }
    }
    for (k, (t, h)) in absorbed {
        let a = ledger.accounts[cone.accounts[k as usize] as usize];
        out.push(Endpoint {
            addr: a.addr,
            asset: a.asset,
            tainted: t,
            kind: EndpointKind::Service,
            hops: h,
        });
    }
    out
}
