//! The account-model replay: the movements of the seeds' forward cone in
//! canonical order, each a debit of the sender (revealing missing history)
//! and a credit of the receiver, under one `TaintPolicy`. State is kept for
//! cone accounts only, in one dense array of slots; an account outside the
//! cone never holds taint, so its debits are clean and its credits need no
//! state.

use super::cone::{account_cone, Cone};
use super::{Books, Endpoint, EndpointKind, Roles, TaintPolicy, TracePlan, NO_HOPS};
use crate::ledger::Ledger;
use crate::model::{Amount, Movement};
use rustc_hash::FxHashMap;

const SEED: u8 = 1;
const STOP: u8 = 2;
/// Not in the cone.
const OUT: u32 = u32::MAX;

/// One cone account: its policy state, the fewest hops taint reached it by,
/// and its role. Kept together so a movement touches one cache line per side.
#[derive(Clone)]
struct Slot<A> {
    st: A,
    hops: u32,
    role: u8,
}

struct Replay<'a, P: TaintPolicy> {
    plan: &'a TracePlan,
    roles: &'a Roles,
    books: &'a mut Books,
    /// account -> slot (OUT outside the cone)
    local: Vec<u32>,
    slots: Vec<Slot<P::Acct>>,
    /// stop service slot -> (absorbed taint, fewest hops)
    absorbed: FxHashMap<u32, (Amount, u32)>,
}

impl<P: TaintPolicy> Replay<'_, P> {
    #[inline]
    fn apply(&mut self, m: &Movement) {
        let asset = m.asset;
        let amount = m.amount();
        // Debit.
        let from = if m.from.is_none() {
            OUT
        } else {
            self.local[m.from.index()]
        } as usize;
        let (mut parcel, from_hops) = if from == OUT as usize || self.slots[from].role == STOP {
            // New money, an account taint never reaches, or a custodial
            // service: nothing tainted leaves.
            (P::clean(amount), NO_HOPS)
        } else {
            let s = &mut self.slots[from];
            let is_seed = s.role == SEED;
            let (p, shortfall) = P::debit(&mut s.st, amount, is_seed);
            let h = s.hops;
            if is_seed && shortfall > 0 {
                self.books.at(asset).seeded += shortfall;
            }
            (p, h)
        };
        let mut next_hops = from_hops.saturating_add(1);
        if !self.roles.seed_tx.is_empty() && self.roles.seed_tx.contains(&m.tx) {
            let t = P::parcel_taint(&parcel);
            self.books.at(asset).seeded += amount - t;
            parcel = P::tainted(amount);
            next_hops = next_hops.min(1);
        }
        // Credit.
        let taint = P::parcel_taint(&parcel);
        if m.to.is_none() {
            if taint > 0 {
                self.books.at(asset).fees += taint;
            }
            return;
        }
        let to = self.local[m.to.index()] as usize;
        if to == OUT as usize {
            return; // outside the cone: it never receives taint
        }
        if self.slots[to].role == SEED {
            self.books.at(asset).seeded += amount - taint;
            P::credit(&mut self.slots[to].st, P::tainted(amount));
            return;
        }
        if taint > 0 && taint < self.plan.min_taint {
            self.books.at(asset).below_threshold += taint;
            parcel = P::clean(amount);
        }
        let taint = P::parcel_taint(&parcel);
        let s = &mut self.slots[to];
        if s.role == STOP {
            if taint > 0 {
                self.books.at(asset).absorbed += taint;
                let a = self.absorbed.entry(to as u32).or_insert((0, NO_HOPS));
                a.0 += taint;
                a.1 = a.1.min(next_hops);
            }
            return;
        }
        if taint > 0 {
            s.hops = s.hops.min(next_hops);
        }
        P::credit(&mut s.st, parcel);
    }
}

pub(crate) fn replay<P: TaintPolicy>(
    ledger: &Ledger,
    plan: &TracePlan,
    roles: &Roles,
    books: &mut Books,
) -> Vec<Endpoint> {
    let cone = if plan.full_replay {
        Cone {
            accounts: (0..ledger.accounts.len() as u32).collect(),
            moves: None,
        }
    } else {
        account_cone(ledger, roles)
    };
    let mut local = vec![OUT; ledger.accounts.len()];
    for (k, a) in cone.accounts.iter().enumerate() {
        local[*a as usize] = k as u32;
    }
    let slots: Vec<Slot<P::Acct>> = cone
        .accounts
        .iter()
        .map(|a| {
            let addr = ledger.accounts[*a as usize].addr;
            let role = if roles.seed.contains(&addr) {
                SEED
            } else if roles.stop.contains(&addr) {
                STOP
            } else {
                0
            };
            Slot {
                st: P::Acct::default(),
                hops: if role == SEED { 0 } else { NO_HOPS },
                role,
            }
        })
        .collect();
    let mut r: Replay<P> = Replay {
        plan,
        roles,
        books,
        local,
        slots,
        absorbed: FxHashMap::default(),
    };
    let all = ledger.movements.as_slice();
    match &cone.moves {
        Some(picked) => {
            for i in picked {
                r.apply(&all[*i as usize]);
            }
        }
        None => {
            for m in all {
                r.apply(m);
            }
        }
    }

    let mut out = Vec::new();
    for (k, s) in r.slots.iter().enumerate() {
        let t = P::taint(&s.st);
        if t > 0 {
            let a = ledger.accounts[cone.accounts[k] as usize];
            r.books.at(a.asset).held += t;
            out.push(Endpoint {
                addr: a.addr,
                asset: a.asset,
                tainted: t,
                kind: EndpointKind::Holding,
                hops: s.hops,
            });
        }
    }
    for (k, (t, h)) in r.absorbed {
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
