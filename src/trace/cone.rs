//! The forward cone of the seeds in the account model: the accounts taint
//! can reach, and from which movement on, respecting time (a movement can
//! carry taint only if it comes after taint could arrive at its sender).
//!
//! Computed frontier by frontier in parallel over the ledger's CSR by
//! source: each reached account's later outgoing movements reach their
//! receivers, with an atomic minimum of the arrival position. Stop services
//! are reached but never expanded. The replay then visits only movements
//! that touch a cone account: earlier movements of a cone account still
//! count for its balance (haircut, FIFO and LIFO need it).

use super::{prefetch, Roles};
use crate::ledger::Ledger;
use crate::model::AcctId;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

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

pub fn account_cone(ledger: &Ledger, roles: &Roles) -> Cone {
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
    while !frontier.is_empty() {
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
