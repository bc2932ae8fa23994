//! Evidence paths: for an endpoint, the heaviest way taint reached it from
//! the seeds through the recorded flows.
//!
//! "Heaviest" is the widest path: the one whose smallest step carried the
//! most taint, among paths that move forward in canonical order (each step
//! no earlier than the one before). Flows are visited once in canonical
//! order; each keeps the width of the best path that ends with it and the
//! flow before it, so the answer is exact and the work linear in the flows.

use super::Flow;
use crate::model::{AddrId, Amount, AssetId};
use std::collections::{HashMap, HashSet};

/// One step of a path: the flow's index in `TraceResult::flows`.
pub type Step = usize;

/// The best path into every (address, asset) the flows reach.
pub struct Paths {
    /// per flow: (width of the best path ending with it, previous flow)
    best_via: Vec<(Amount, Option<usize>)>,
    /// per (address, asset): (width, last flow) of its best path so far
    best_at: HashMap<(AddrId, AssetId), (Amount, usize)>,
}

impl Paths {
    /// `seeds`: where paths start (their own holdings are unlimited).
    pub fn new(flows: &[Flow], seeds: &HashSet<AddrId>) -> Paths {
        let mut best_at: HashMap<(AddrId, AssetId), (Amount, usize)> = HashMap::new();
        let mut best_via = Vec::with_capacity(flows.len());
        for (i, f) in flows.iter().enumerate() {
            let (width, prev) = if seeds.contains(&f.from) {
                (f.taint, None)
            } else {
                match best_at.get(&(f.from, f.asset)) {
                    Some(&(w, j)) => (w.min(f.taint), Some(j)),
                    // taint of unknown origin (a seed transaction, or
                    // missing history): the path starts here
                    None => (f.taint, None),
                }
            };
            best_via.push((width, prev));
            let e = best_at.entry((f.to, f.asset)).or_insert((0, i));
            if width > e.0 {
                *e = (width, i);
            }
        }
        Paths { best_via, best_at }
    }

    /// The heaviest path into (address, asset), first step first, and its
    /// width (the taint its smallest step carried).
    pub fn to(&self, addr: AddrId, asset: AssetId) -> Option<(Vec<Step>, Amount)> {
        let &(width, last) = self.best_at.get(&(addr, asset))?;
        let mut steps = vec![last];
        let mut cur = last;
        let mut guard = 0;
        while let Some(prev) = self.best_via[cur].1 {
            steps.push(prev);
            cur = prev;
            guard += 1;
            if guard > self.best_via.len() {
                break; // cannot happen: `prev` always precedes `cur`
            }
        }
        steps.reverse();
        Some((steps, width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TxId;

    fn f(from: u32, to: u32, block: u32, taint: Amount) -> Flow {
        Flow {
            from: AddrId(from),
            to: AddrId(to),
            asset: AssetId(0),
            tx: TxId(block),
            block,
            taint,
        }
    }

    #[test]
    fn the_widest_time_respecting_path_wins() {
        // seed 0 -> 1 (10) -> 3 (2); seed 0 -> 2 (5) -> 3 (4); and 1 -> 3
        // (9) happens before 0 -> 1, so it cannot carry the seed's taint
        let flows = vec![
            f(1, 3, 1, 9),
            f(0, 1, 2, 10),
            f(0, 2, 3, 5),
            f(1, 3, 4, 2),
            f(2, 3, 5, 4),
        ];
        let seeds: HashSet<AddrId> = [AddrId(0)].into_iter().collect();
        let p = Paths::new(&flows, &seeds);
        let (steps, width) = p.to(AddrId(3), AssetId(0)).unwrap();
        // flow 0 (1 -> 3 at block 1) has unknown origin, width 9: but it
        // does not come from a seed; the widest path overall is it alone
        assert_eq!((steps.clone(), width), (vec![0], 9));
        // without it, 0 -> 2 -> 3 (width 4) beats 0 -> 1 -> 3 (width 2)
        let p = Paths::new(&flows[1..], &seeds);
        let (steps, width) = p.to(AddrId(3), AssetId(0)).unwrap();
        assert_eq!((steps, width), (vec![1, 3], 4));
        assert!(p.to(AddrId(9), AssetId(0)).is_none());
    }
}
