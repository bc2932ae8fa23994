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

use super::Roles;
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

/// Past this share of the accounts, replay everything.
const DENSE: usize = 8;

pub fn account_cone(ledger: &Ledger, roles: &Roles) -> Cone {
    let n = ledger.accounts.len();
    let reach: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(UNREACHED)).collect();
    let stop = |a: AcctId| roles.stop.contains(&ledger.account_addr(a));
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
        let mut next: Vec<u32> = frontier
            .par_iter()
            .flat_map_iter(|a| {
                let from = reach[*a as usize].load(Ordering::Relaxed);
                let out = ledger.by_source.of(AcctId(*a));
                let start = out.partition_point(|i| *i < from);
                let reach = &reach;
                out[start..].iter().filter_map(move |i| {
                    let to = ledger.movements[*i as usize].to;
                    if to.is_none() {
                        return None;
                    }
                    let at = i + 1;
                    (reach[to.index()].fetch_min(at, Ordering::Relaxed) > at).then_some(to.0)
                })
            })
            .collect();
        next.retain(|a| !stop(AcctId(*a)));
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
