//! The account-model replay: the movements of the seeds' forward cone in
//! canonical order, each a debit of the sender (revealing missing history)
//! and a credit of the receiver, under one `TaintPolicy`. State is kept for
//! cone accounts only, in one dense array of slots; an account outside the
//! cone never holds taint, so its debits are clean and its credits need no
//! state.

use super::cone::{account_cone, Cone};
use super::{
    prefetch, prefetch_whole, Books, Endpoint, EndpointKind, Parcel, Passage, Roles, TaintPolicy,
    TracePlan, NO_HOPS,
};
use crate::amount::mul_div_floor;
use crate::heuristics::mixer::{Demix, PPM};
use crate::ledger::Ledger;
use crate::model::{AddrId, Amount, Movement};
use rustc_hash::FxHashMap;

const SEED: u8 = 1;
const STOP: u8 = 2;
/// A mixer pool (neither seed nor stop).
const POOL: u8 = 3;
/// `Via::ppm` of a passage under the policy (no demixing link).
const PASS: u32 = u32::MAX;
/// Not in the cone.
const OUT: u32 = u32::MAX;

/// How many movements ahead the replay prefetches account state, and above
/// how many bytes of it: about half a core's L2 cache (2 MiB on the machine
/// the benchmarks run on). Past that an account is a miss to the shared
/// cache or memory, which the prefetch hides; below it, prefetching only
/// costs.
const AHEAD: usize = 12;
const PREFETCH_ABOVE: usize = 1 << 20;

/// One cone account: its policy state, the fewest hops taint reached it by,
/// and its role. Kept together so a movement touches one slot per side (at
/// 48 bytes for haircut, every other slot spans two cache lines).
#[derive(Clone)]
struct Slot<A> {
    st: A,
    hops: u32,
    role: u8,
}

/// The mixer passage by which taint reached an account: the pool's address
/// (`AddrId::NONE`: none), the link's confidence (`PASS`: none), and how
/// much of the taint (carried, or held) came that way.
#[derive(Copy, Clone, PartialEq, Eq)]
struct Via {
    pool: AddrId,
    ppm: u32,
    amt: Amount,
}

impl Via {
    const NONE: Via = Via {
        pool: AddrId::NONE,
        ppm: PASS,
        amt: 0,
    };

    /// A linked passage outranks a pass, a surer link a less sure one.
    fn rank(self) -> i64 {
        if self.pool == AddrId::NONE {
            -2
        } else if self.ppm == PASS {
            -1
        } else {
            self.ppm as i64
        }
    }

    /// The better passage of the two, with both amounts.
    fn merge(&mut self, other: Via) {
        let amt = self.amt.saturating_add(other.amt);
        if other.rank() > self.rank() {
            *self = other;
        }
        self.amt = amt;
    }

    /// A passage of `amt` out of this one (none when nothing crossed).
    fn of(self, amt: Amount) -> Via {
        if amt == 0 || self.pool == AddrId::NONE {
            Via::NONE
        } else {
            Via { amt, ..self }
        }
    }

    /// The endpoint's passage, of at most `held` taint.
    fn passage(self, held: Amount) -> Option<Passage> {
        (self.pool != AddrId::NONE && self.amt > 0).then_some(Passage {
            pool: self.pool,
            link_ppm: (self.ppm != PASS).then_some(self.ppm),
            taint: self.amt.min(held),
        })
    }
}

struct Replay<'a, P: TaintPolicy> {
    plan: &'a TracePlan,
    roles: &'a Roles,
    books: &'a mut Books,
    /// account -> slot (OUT outside the cone)
    local: Vec<u32>,
    slots: Vec<Slot<P::Acct>>,
    /// stop service slot -> (absorbed taint, fewest hops, passage)
    absorbed: FxHashMap<u32, (Amount, u32, Via)>,
    ledger: &'a Ledger,
    demix: Option<&'a Demix>,
    /// withdrawal movement -> (taint its links claim, best link confidence)
    claims: FxHashMap<u32, (Amount, u32)>,
    /// pool slot -> taint reserved for its links and not yet claimed
    reserve: FxHashMap<u32, Amount>,
    /// slot -> the mixer passage its taint arrived by (few accounts have
    /// one: kept apart so slots stay small)
    via: FxHashMap<u32, Via>,
}

impl<P: TaintPolicy> Replay<'_, P> {
    /// Reserve the shares of a deposit's taint that its links carry to
    /// their withdrawals; returns the total reserved.
    fn reserve_links(&mut self, demix: &Demix, idx: u32, taint: Amount) -> Amount {
        let Some(links) = demix.by_deposit_movement.get(&idx) else {
            return 0;
        };
        let all = self.ledger.movements.as_slice();
        let mut reserved = 0;
        for &k in links {
            let l = &demix.links[k as usize];
            let share = mul_div_floor(taint, l.ppm as Amount, PPM as Amount).unwrap_or(0);
            if share == 0 {
                continue;
            }
            reserved += share;
            // over the withdrawal's payments by amount; the remainder to the
            // recipient's (the largest)
            let w = &demix.withdrawals[l.withdrawal as usize];
            let total: Amount = w.movements.iter().map(|i| all[*i as usize].amount()).sum();
            let mut given = 0;
            let mut main = (0, w.movements[0]);
            for &i in &w.movements {
                let a = all[i as usize].amount();
                if a > main.0 {
                    main = (a, i);
                }
                let part = mul_div_floor(share, a, total).unwrap_or(0);
                given += part;
                let c = self.claims.entry(i).or_insert((0, 0));
                c.0 += part;
                c.1 = c.1.max(l.ppm);
            }
            if let Some(c) = self.claims.get_mut(&main.1) {
                c.0 += share - given;
            }
        }
        reserved
    }

    /// A debit of a mixer pool: what the withdrawal's links claim (all
    /// tainted), then the rest under the pool's policy.
    #[cold]
    #[inline(never)]
    fn pool_debit(&mut self, idx: u32, m: &Movement, from: usize) -> (P::Parcel, u32, Via) {
        let amount = m.amount();
        let (claim, ppm) = self.claims.remove(&idx).unwrap_or((0, 0));
        let claim = claim.min(amount);
        let s = &mut self.slots[from];
        let (p, _) = P::debit(&mut s.st, amount - claim, false);
        let pool = self.ledger.account_addr(m.from);
        let via = if claim > 0 {
            if let Some(r) = self.reserve.get_mut(&(from as u32)) {
                *r -= claim;
            }
            Via { pool, ppm, amt: 0 }
        } else {
            Via {
                pool,
                ppm: PASS,
                amt: 0,
            }
        };
        // all the taint leaving a pool crossed it
        let parcel = P::tainted(claim).join(p);
        let carried = P::parcel_taint(&parcel);
        (parcel, s.hops, via.of(carried))
    }

    /// A credit of a mixer pool: under demixing, the deposit's links
    /// reserve their shares and the rest goes to the pool.
    #[cold]
    #[inline(never)]
    fn pool_credit(&mut self, idx: u32, to: usize, taint: Amount, parcel: P::Parcel) -> P::Parcel {
        let Some(demix) = self.demix else {
            return parcel;
        };
        let reserved = self.reserve_links(demix, idx, taint);
        if reserved == 0 {
            return parcel;
        }
        *self.reserve.entry(to as u32).or_insert(0) += reserved;
        parcel.without_taint(reserved)
    }

    #[cold]
    #[inline(never)]
    fn record(&mut self, m: &Movement, taint: Amount) {
        if taint == 0 {
            return;
        }
        self.books.flows.push(super::Flow {
            from: self.ledger.account_addr(m.from),
            to: self.ledger.account_addr(m.to),
            asset: m.asset,
            tx: m.tx,
            block: m.block,
            taint,
        });
    }

    /// Start loading where `m`'s accounts' slots are.
    #[inline]
    fn prefetch_local(&self, m: &Movement) {
        for a in [m.from, m.to] {
            if !a.is_none() {
                prefetch(&self.local[a.index()]);
            }
        }
    }

    /// Start loading the state of `m`'s accounts.
    #[inline]
    fn prefetch(&self, m: &Movement) {
        for a in [m.from, m.to] {
            if !a.is_none() {
                let l = self.local[a.index()];
                if l != OUT {
                    // a slot may straddle two cache lines: ask for both
                    prefetch_whole(&self.slots[l as usize]);
                }
            }
        }
    }

    #[inline]
    fn apply(&mut self, idx: u32, m: &Movement) {
        let asset = m.asset;
        let amount = m.amount();
        // Debit.
        let from = if m.from.is_none() {
            OUT
        } else {
            self.local[m.from.index()]
        } as usize;
        let (mut parcel, from_hops, mut via) =
            if from == OUT as usize || self.slots[from].role == STOP {
                // New money, an account taint never reaches, or a custodial
                // service: nothing tainted leaves.
                (P::clean(amount), NO_HOPS, Via::NONE)
            } else if self.slots[from].role == POOL {
                self.pool_debit(idx, m, from)
            } else {
                let s = &mut self.slots[from];
                let is_seed = s.role == SEED;
                let before = if self.via.is_empty() {
                    0
                } else {
                    P::taint(&s.st)
                };
                let (p, shortfall) = P::debit(&mut s.st, amount, is_seed);
                let h = s.hops;
                if is_seed && shortfall > 0 {
                    self.books.at(asset).seeded += shortfall;
                }
                let via = if self.via.is_empty() {
                    Via::NONE
                } else {
                    self.via_out(from, before, P::parcel_taint(&p))
                };
                (p, h, via)
            };
        let mut next_hops = from_hops.saturating_add(1);
        if !self.roles.seed_tx.is_empty() && self.roles.seed_tx.contains(&m.tx) {
            let t = P::parcel_taint(&parcel);
            self.books.at(asset).seeded += amount - t;
            parcel = P::tainted(amount);
            next_hops = next_hops.min(1);
            via = Via::NONE;
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
        if self.plan.record_flows {
            // what arrives, threshold applied (a seed receives it all)
            let t = if self.slots[to].role == SEED || taint >= self.plan.min_taint {
                taint
            } else {
                0
            };
            self.record(m, t);
        }
        if self.slots[to].role == SEED {
            self.books.at(asset).seeded += amount - taint;
            P::credit(&mut self.slots[to].st, P::tainted(amount));
            return;
        }
        if taint > 0 && taint < self.plan.min_taint {
            self.books.at(asset).below_threshold += taint;
            parcel = P::clean(amount);
            via = Via::NONE;
        }
        let taint = P::parcel_taint(&parcel);
        let s = &mut self.slots[to];
        if s.role == STOP {
            if taint > 0 {
                self.books.at(asset).absorbed += taint;
                let a = self
                    .absorbed
                    .entry(to as u32)
                    .or_insert((0, NO_HOPS, Via::NONE));
                a.0 += taint;
                a.1 = a.1.min(next_hops);
                a.2.merge(via);
            }
            return;
        }
        if taint > 0 {
            s.hops = s.hops.min(next_hops);
            if via != Via::NONE {
                mark_via(&mut self.via, to, via);
            }
        }
        if s.role == POOL {
            parcel = self.pool_credit(idx, to, taint, parcel);
        }
        P::credit(&mut self.slots[to].st, parcel);
    }
}

impl<P: TaintPolicy> Replay<'_, P> {
    /// The passage of what a debit of slot `from` carried: the share of the
    /// crossed taint it held (`before` the debit) that left with `carried`.
    #[cold]
    #[inline(never)]
    fn via_out(&mut self, from: usize, before: Amount, carried: Amount) -> Via {
        let Some(held) = self.via.get_mut(&(from as u32)) else {
            return Via::NONE;
        };
        if before == 0 || carried == 0 || held.amt == 0 {
            return Via::NONE;
        }
        let out = crate::amount::mul_div_floor(carried, held.amt, before)
            .unwrap_or(0)
            .min(held.amt)
            .min(carried);
        held.amt -= out;
        held.of(out)
    }
}

/// Record that taint reached slot `to` through a mixer passage.
#[cold]
#[inline(never)]
fn mark_via(via: &mut FxHashMap<u32, Via>, to: usize, v: Via) {
    via.entry(to as u32).or_insert(Via::NONE).merge(v);
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
            } else if (!plan.mixers.is_empty() && plan.mixers.contains(&addr))
                || plan
                    .demix
                    .as_ref()
                    .is_some_and(|d| d.is_pool(crate::model::AcctId(*a)))
            {
                POOL
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
        ledger,
        demix: plan.demix.as_deref(),
        claims: FxHashMap::default(),
        reserve: FxHashMap::default(),
        via: FxHashMap::default(),
    };
    let all = ledger.movements.as_slice();
    // With more account state than a core's cache holds, the replay is
    // bound by latency (each account is a miss): ask for the accounts of the
    // movements a little ahead.
    let far = r.slots.len() * std::mem::size_of::<Slot<P::Acct>>() > PREFETCH_ABOVE;
    match &cone.moves {
        Some(picked) => {
            for (k, i) in picked.iter().enumerate() {
                if far {
                    if let Some(j) = picked.get(k + AHEAD) {
                        r.prefetch(&all[*j as usize]);
                    }
                }
                r.apply(*i, &all[*i as usize]);
            }
        }
        None if far => {
            for (i, m) in all.iter().enumerate() {
                if let Some(n) = all.get(i + 6 * AHEAD) {
                    prefetch(n);
                }
                if let Some(n) = all.get(i + 2 * AHEAD) {
                    r.prefetch_local(n);
                }
                if let Some(n) = all.get(i + AHEAD) {
                    r.prefetch(n);
                }
                r.apply(i as u32, m);
            }
        }
        None => {
            for (i, m) in all.iter().enumerate() {
                r.apply(i as u32, m);
            }
        }
    }

    let mut out = Vec::new();
    for (k, s) in r.slots.iter().enumerate() {
        // a pool also holds what its links reserved and nobody claimed
        let t = P::taint(&s.st) + r.reserve.get(&(k as u32)).copied().unwrap_or(0);
        if t > 0 {
            let a = ledger.accounts[cone.accounts[k] as usize];
            r.books.at(a.asset).held += t;
            out.push(Endpoint {
                addr: a.addr,
                asset: a.asset,
                tainted: t,
                kind: EndpointKind::Holding,
                hops: s.hops,
                mixer: r.via.get(&(k as u32)).and_then(|v| v.passage(t)),
                coinjoin: None,
            });
        }
    }
    for (k, (t, h, via)) in r.absorbed {
        let a = ledger.accounts[cone.accounts[k as usize] as usize];
        out.push(Endpoint {
            addr: a.addr,
            asset: a.asset,
            tainted: t,
            kind: EndpointKind::Service,
            hops: h,
            mixer: via.passage(t),
            coinjoin: None,
        });
    }
    out
}
