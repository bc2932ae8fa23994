//! The forward cone of the seeds in the account model: the accounts taint
//! can reach, and from which movement on, respecting time (a movement can
//! carry taint only if it comes after taint could arrive at its sender).
//!
//! Computed frontier by frontier in parallel over the ledger's CSR by
//! source: each reached account's later outgoing movements reach their
//! receivers, with an atomic minimum of the arrival position. Stop services
//! are reached but never expanded. The search reads each movement it
//! follows at random; once it has followed a thirty-second of the ledger's
//! movements the cone is a large part of the ledger, and one pass over all
//! movements in canonical order (a sweep, reading them in order) finds the
//! same accounts in a fraction of the time the search would still take.
//! The replay then visits only movements that touch a cone account:
//! earlier movements of a cone account still count for its balance
//! (haircut, FIFO and LIFO need it).

use super::{prefetch, Bits, Roles};
use crate::ledger::Ledger;
use crate::model::AcctId;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Not reached.
pub const UNREACHED: u32 = u32::MAX;

pub struct Cone {
    /// Cone accounts, ascending.
    pub accounts: Vec<u32>,
    /// Movements touching a cone account, in canonical order; `None` when the
    /// cone is a large part of the ledger and every movement is replayed
    /// (cheaper than gathering and sorting nearly all of them).
    pub moves: Option<Vec<u32>>,
}

/// How many outgoing movements ahead the search asks for.
const AHEAD: usize = 8;
/// Frontier accounts expanded together, in stages.
const SLICE: usize = 256;

/// Past this share of the accounts, replay everything.
const DENSE: usize = 8;

/// Past this share of the movements followed, sweep instead of searching:
/// a movement followed is a read at random, a sweep reads every movement
/// in order, and a read at random costs many reads in order.
const SWEEP: usize = 32;

pub fn account_cone(ledger: &Ledger, roles: &Roles) -> Cone {
    search(ledger, roles, ledger.movements.len() / SWEEP)
}

/// The search, which sweeps instead once it has followed more than
/// `budget` movements.
fn search(ledger: &Ledger, roles: &Roles, budget: usize) -> Cone {
    let n = ledger.accounts.len();
    let reach: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(UNREACHED)).collect();
    let stop = |a: AcctId| !roles.stop.is_empty() && roles.stop.contains(&ledger.account_addr(a));
    let mut frontier: Vec<u32> = Vec::new();
    for s in &roles.seed {
        for a in ledger.accounts_of(*s) {
            reach[a.index()].store(0, Ordering::Relaxed);
            frontier.push(a.0);
        }
    }
    // Every movement of a seed transaction is replayed (its fee too, which
    // reaches no account), and taints where it lands.
    let seed_moves: Vec<u32> = if roles.seed_tx.is_empty() {
        Vec::new()
    } else {
        ledger
            .movements
            .par_iter()
            .enumerate()
            .filter(|(_, m)| roles.seed_tx.contains(&m.tx))
            .map(|(i, _)| i as u32)
            .collect()
    };
    for i in &seed_moves {
        let to = ledger.movements[*i as usize].to;
        let at = i + 1;
        if !to.is_none() && reach[to.index()].fetch_min(at, Ordering::Relaxed) > at {
            frontier.push(to.0);
        }
    }
    frontier.retain(|a| !stop(AcctId(*a)));
    frontier.sort_unstable();
    frontier.dedup();
    let followed = AtomicUsize::new(0);
    while !frontier.is_empty() {
        if followed.load(Ordering::Relaxed) > budget {
            return finish(ledger, sweep(ledger, roles), seed_moves);
        }
        // In slices of the (ascending) frontier, in stages, so that the
        // misses of one stage overlap instead of waiting on each other:
        // the slice's later outgoing movements (a sweep: the CSR is in
        // account order), their receivers (movements asked for a few
        // ahead, and the receivers' arrival times with them), then the
        // updates. A stop service is reached, never expanded.
        let mut next: Vec<u32> = frontier
            .par_chunks(SLICE)
            .flat_map_iter(|accts| {
                let mut moves: Vec<u32> = Vec::new();
                for a in accts {
                    let from = reach[*a as usize].load(Ordering::Relaxed);
                    let out = ledger.by_source.of(AcctId(*a));
                    moves.extend_from_slice(&out[out.partition_point(|i| *i < from)..]);
                }
                followed.fetch_add(moves.len(), Ordering::Relaxed);
                let mut offers: Vec<(u32, u32)> = Vec::with_capacity(moves.len());
                for (k, i) in moves.iter().enumerate() {
                    if let Some(j) = moves.get(k + AHEAD) {
                        prefetch(&ledger.movements[*j as usize]);
                    }
                    let to = ledger.movements[*i as usize].to;
                    if !to.is_none() {
                        prefetch(&reach[to.index()]);
                        offers.push((to.0, i + 1));
                    }
                }
                let reach = &reach;
                offers.into_iter().filter_map(move |(to, at)| {
                    let r = &reach[to as usize];
                    (r.load(Ordering::Relaxed) > at
                        && r.fetch_min(at, Ordering::Relaxed) > at
                        && !stop(AcctId(to)))
                    .then_some(to)
                })
            })
            .collect();
        next.par_sort_unstable();
        next.dedup();
        frontier = next;
    }
    let accounts: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .filter(|a| reach[*a as usize].load(Ordering::Relaxed) != UNREACHED)
        .collect();
    finish(ledger, accounts, seed_moves)
}

/// The cone of these accounts (ascending): every movement when they are a
/// large part of the ledger, else the movements touching them and
/// `seed_moves`.
fn finish(ledger: &Ledger, accounts: Vec<u32>, seed_moves: Vec<u32>) -> Cone {
    let n = ledger.accounts.len();
    if accounts.len() * DENSE > n {
        return Cone {
            accounts,
            moves: None,
        };
    }
    let mut moves: Vec<u32> = accounts
        .par_iter()
        .flat_map_iter(|a| {
            let a = AcctId(*a);
            ledger
                .by_source
                .of(a)
                .iter()
                .chain(ledger.by_dest.of(a))
                .copied()
        })
        .chain(seed_moves.into_par_iter())
        .collect();
    moves.par_sort_unstable();
    moves.dedup();
    Cone {
        accounts,
        moves: Some(moves),
    }
}

/// The cone's accounts (ascending) by one pass over the movements in
/// canonical order: a movement whose sender was reached before it (and is
/// no stop service) reaches its receiver, and so does every movement of a
/// seed transaction. What reaches an account at movement `i` can leave it
/// from movement `i + 1` on, which is every movement the pass reads later,
/// so one bit per account says all the search's arrival positions say.
fn sweep(ledger: &Ledger, roles: &Roles) -> Vec<u32> {
    let n = ledger.accounts.len();
    let mut reached = Bits::new(n);
    let mut stop = Bits::new(if roles.stop.is_empty() { 0 } else { n });
    for s in &roles.stop {
        for a in ledger.accounts_of(*s) {
            stop.set(a.index());
        }
    }
    for s in &roles.seed {
        for a in ledger.accounts_of(*s) {
            reached.set(a.index());
        }
    }
    let seed_tx = !roles.seed_tx.is_empty();
    for m in ledger.movements.as_slice() {
        if m.to.is_none() {
            continue;
        }
        let from = m.from.index();
        let expand = !m.from.is_none() && reached.has(from) && !stop.has(from);
        if expand || (seed_tx && roles.seed_tx.contains(&m.tx)) {
            reached.set(m.to.index());
        }
    }
    reached.ones().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{Raw, RawMove};
    use crate::model::MoveKind;
    use crate::trace::TracePlan;
    use proptest::prelude::*;

    /// The `seq`th movement of transaction `t{block}`, the only one of
    /// block `block`.
    fn mv(block: u64, seq: u32, from: Option<u8>, to: Option<u8>) -> Raw {
        Raw::Move(RawMove {
            tx_hash: Some(format!("t{block}")),
            block,
            time: block * 10,
            tx_index: 0,
            seq,
            from: from.map(|a| format!("a{a}")),
            to: to.map(|a| format!("a{a}")),
            asset: "ETH".into(),
            amount: 5,
            kind: if to.is_none() {
                MoveKind::Fee
            } else {
                MoveKind::Native
            },
        })
    }

    fn roles(l: &Ledger, seeds: &[u8], stops: &[u8], seed_txs: &[u64]) -> Roles {
        let addr = |a: &u8| l.addr_id(&format!("a{a}"));
        let plan = TracePlan {
            seeds: seeds.iter().filter_map(addr).collect(),
            stops: stops.iter().filter_map(addr).collect(),
            seed_txs: seed_txs
                .iter()
                .filter_map(|t| l.tx_id(&format!("t{t}")))
                .collect(),
            ..Default::default()
        };
        Roles::new(l, &plan)
    }

    fn names(l: &Ledger, accounts: &[u32]) -> Vec<String> {
        accounts
            .iter()
            .map(|a| l.address(l.accounts[*a as usize].addr).to_string())
            .collect()
    }

    /// Taint moves forward in time only: a0 pays a1 in block 2, a1 paid a2
    /// in block 1 (before it had anything of a0's) and pays a3 in block 3;
    /// a4, a stop service, is reached and passes nothing on to a5.
    #[test]
    fn search_and_sweep_follow_time_and_stop_at_services() {
        let l = crate::ingest::build::ledger_of(vec![
            mv(1, 0, Some(1), Some(2)),
            mv(2, 0, Some(0), Some(1)),
            mv(3, 0, Some(1), Some(3)),
            mv(4, 0, Some(3), Some(4)),
            mv(5, 0, Some(4), Some(5)),
        ]);
        let r = roles(&l, &[0], &[4], &[]);
        let want = ["a0", "a1", "a3", "a4"];
        assert_eq!(names(&l, &sweep(&l, &r)), want);
        assert_eq!(names(&l, &search(&l, &r, usize::MAX).accounts), want);
        // a seed transaction taints where it lands, whoever sends it
        let r = roles(&l, &[], &[], &[1]);
        assert_eq!(names(&l, &sweep(&l, &r)), ["a2"]);
        assert_eq!(names(&l, &search(&l, &r, usize::MAX).accounts), ["a2"]);
    }

    proptest! {
        /// The sweep finds the accounts the search finds, and switching
        /// from one to the other at any point gives the same cone.
        #[test]
        fn the_sweep_finds_what_the_search_finds(
            moves in prop::collection::vec(
                (0u64..4, prop::option::weighted(0.9, 0u8..10), prop::option::weighted(0.9, 0u8..10)),
                1..60,
            ),
            seeds in prop::collection::vec(0u8..10, 0..3),
            stops in prop::collection::vec(0u8..10, 0..3),
            seed_txs in prop::collection::vec(1u64..60, 0..2),
            budget in 0usize..8,
        ) {
            // a movement is the next of the transaction before it when
            // `same` is 0, so seed transactions move more than once
            let (mut block, mut seq) = (0, 0);
            let raws: Vec<Raw> = moves
                .iter()
                .map(|(same, from, to)| {
                    if *same != 0 || block == 0 {
                        (block, seq) = (block + 1, 0);
                    } else {
                        seq += 1;
                    }
                    mv(block, seq, *from, *to)
                })
                .collect();
            let l = crate::ingest::build::ledger_of(raws);
            let r = roles(&l, &seeds, &stops, &seed_txs);
            let searched = search(&l, &r, usize::MAX);
            prop_assert_eq!(&sweep(&l, &r), &searched.accounts);
            let switched = search(&l, &r, budget);
            prop_assert_eq!(&switched.accounts, &searched.accounts);
            prop_assert_eq!(&switched.moves, &searched.moves);
        }
    }
}
