//! Evidence paths: for an endpoint, the heaviest ways taint reached it from
//! the seeds through the recorded flows.
//!
//! "Heaviest" is the widest path: the one whose smallest step carried the
//! most taint, among paths that move forward in canonical order (each step
//! no earlier than the one before). Flows are visited once in canonical
//! order; each keeps the `k` widest paths that end with it (as a width and a
//! link to a path ending at the flow before), and each (address, asset) the
//! `k` widest paths into it so far. So the `k` answers are exact, distinct
//! as sequences of flows, and found in time linear in the flows times `k`.
//! Ties go to the path found first (the earlier flow).

use super::Flow;
use crate::model::{AddrId, Amount, AssetId};
use rustc_hash::FxHashMap;
use std::collections::HashSet;

/// One step of a path: the flow's index in `TraceResult::flows`.
pub type Step = usize;

/// A path ending at a flow: its width, and the (flow, rank) of the path it
/// extends (none when it starts at a seed or where taint of unknown origin
/// appeared).
#[derive(Clone, Copy, Debug)]
struct Via {
    width: Amount,
    prev: Option<(u32, u8)>,
}

/// Per (address, asset): up to `k` (width, flow, rank), widest first.
type PathsInto = FxHashMap<(AddrId, AssetId), Vec<(Amount, u32, u8)>>;

/// The `k` heaviest paths into every (address, asset) the flows reach.
pub struct Paths {
    k: usize,
    /// per flow: its up to `k` paths, widest first, flow after flow
    via: Vec<Via>,
    /// where each flow's paths start in `via` (one more than the flows)
    via_at: Vec<usize>,
    at: PathsInto,
}

impl Paths {
    /// `seeds`: where paths start (their own holdings are unlimited); `k`:
    /// how many paths to keep per address (1 to 255).
    pub fn new(flows: &[Flow], seeds: &HashSet<AddrId>, k: usize) -> Paths {
        let k = k.clamp(1, 255);
        let mut at = PathsInto::default();
        let mut via: Vec<Via> = Vec::with_capacity(flows.len());
        let mut via_at: Vec<usize> = Vec::with_capacity(flows.len() + 1);
        via_at.push(0);
        for (i, f) in flows.iter().enumerate() {
            let start = via.len();
            match at.get(&(f.from, f.asset)) {
                Some(into) if !seeds.contains(&f.from) => {
                    via.extend(into.iter().map(|&(w, j, r)| Via {
                        width: w.min(f.taint),
                        prev: Some((j, r)),
                    }))
                }
                // a seed, or taint of unknown origin (a seed transaction,
                // or missing history): the path starts here
                _ => via.push(Via {
                    width: f.taint,
                    prev: None,
                }),
            };
            // already widest first: min() with one taint keeps the order
            let into = at.entry((f.to, f.asset)).or_default();
            for (r, v) in via[start..].iter().enumerate() {
                let pos = into.partition_point(|e| e.0 >= v.width);
                if pos < k {
                    into.insert(pos, (v.width, i as u32, r as u8));
                    into.truncate(k);
                }
            }
            via_at.push(via.len());
        }
        Paths { k, via, via_at, at }
    }

    /// The heaviest paths into (address, asset), widest first: each its
    /// steps (first step first) and its width (the taint its smallest step
    /// carried). At most `k`; empty when no flow reached it.
    pub fn to(&self, addr: AddrId, asset: AssetId) -> Vec<(Vec<Step>, Amount)> {
        let Some(into) = self.at.get(&(addr, asset)) else {
            return Vec::new();
        };
        into.iter()
            .take(self.k)
            .map(|&(width, last, rank)| {
                let mut steps = vec![last as usize];
                let mut cur = (last, rank);
                while let Some(prev) = self.via[self.via_at[cur.0 as usize] + cur.1 as usize].prev {
                    // `prev` always names an earlier flow, so this ends
                    steps.push(prev.0 as usize);
                    cur = prev;
                }
                steps.reverse();
                (steps, width)
            })
            .collect()
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
        let p = Paths::new(&flows, &seeds, 1);
        // flow 0 (1 -> 3 at block 1) has unknown origin, width 9: but it
        // does not come from a seed; the widest path overall is it alone
        assert_eq!(p.to(AddrId(3), AssetId(0)), vec![(vec![0], 9)]);
        // without it, 0 -> 2 -> 3 (width 4) beats 0 -> 1 -> 3 (width 2)
        let p = Paths::new(&flows[1..], &seeds, 1);
        assert_eq!(p.to(AddrId(3), AssetId(0)), vec![(vec![1, 3], 4)]);
        assert!(p.to(AddrId(9), AssetId(0)).is_empty());
        // asked for three, there are two, widest first
        let p = Paths::new(&flows[1..], &seeds, 3);
        assert_eq!(
            p.to(AddrId(3), AssetId(0)),
            vec![(vec![1, 3], 4), (vec![0, 2], 2)]
        );
    }

    #[test]
    fn k_paths_are_the_k_widest_and_distinct() {
        // a diamond twice over: 0 -> {1, 2} -> 3 -> {4, 5} -> 6 gives four
        // paths into 6 with widths min over their steps
        let flows = vec![
            f(0, 1, 1, 8),
            f(0, 2, 1, 5),
            f(1, 3, 2, 8),
            f(2, 3, 2, 5),
            f(3, 4, 3, 7),
            f(3, 5, 3, 6),
            f(4, 6, 4, 7),
            f(5, 6, 4, 6),
        ];
        let seeds: HashSet<AddrId> = [AddrId(0)].into_iter().collect();
        let p = Paths::new(&flows, &seeds, 4);
        let got = p.to(AddrId(6), AssetId(0));
        assert_eq!(
            got,
            vec![
                (vec![0, 2, 4, 6], 7),
                (vec![0, 2, 5, 7], 6),
                (vec![1, 3, 4, 6], 5),
                (vec![1, 3, 5, 7], 5),
            ]
        );
        // k = 2 keeps the two widest
        assert_eq!(
            Paths::new(&flows, &seeds, 2).to(AddrId(6), AssetId(0)),
            got[..2]
        );
    }
}
