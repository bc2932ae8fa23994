//! Parallel searches over large slices, a run of elements per task.
//!
//! Rayon's short-circuiting searches (`all`, `find_map_first`, ...) test
//! whether to stop after every element, which over millions of small
//! records costs more than the tests themselves; these stop only between
//! runs, with the same answers (the first match in order for
//! [`find_first`]).

use rayon::prelude::*;

/// Elements per task.
pub const RUN: usize = 1 << 14;

/// The first `Some` of `f(index, element)` in order, if any.
pub fn find_first<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(usize, &T) -> Option<R> + Sync,
) -> Option<R> {
    items
        .par_chunks(RUN)
        .enumerate()
        .find_map_first(|(c, run)| {
            let base = c * RUN;
            run.iter().enumerate().find_map(|(k, x)| f(base + k, x))
        })
}

/// Whether `ok` holds for every element.
pub fn all<T: Sync>(items: &[T], ok: impl Fn(&T) -> bool + Sync) -> bool {
    items.par_chunks(RUN).all(|run| run.iter().all(&ok))
}

/// Whether `ok` holds for every pair of neighbours.
pub fn neighbours_all<T: Sync>(items: &[T], ok: impl Fn(&T, &T) -> bool + Sync) -> bool {
    items.par_chunks(RUN).enumerate().all(|(c, run)| {
        // this run's pairs, and the one into the next run
        let end = (c * RUN + run.len() + 1).min(items.len());
        items[c * RUN..end].windows(2).all(|w| ok(&w[0], &w[1]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_answer_like_plain_searches_across_run_boundaries() {
        let n = 3 * RUN + 5;
        let v: Vec<u32> = (0..n as u32).collect();
        for at in [0, RUN - 1, RUN, 2 * RUN + 1, n - 1] {
            // the first match in order, though later runs match too
            let got = find_first(&v, |i, x| {
                (i >= at && x % 2 == (at as u32) % 2).then_some(i)
            });
            assert_eq!(got, Some(at));
            assert!(!all(&v, |x| *x as usize != at));
            // a pair out of order right at `at` (across a run's end too)
            let mut w = v.clone();
            if at > 0 {
                w.swap(at - 1, at);
                assert!(!neighbours_all(&w, |a, b| a <= b), "{at}");
            }
        }
        assert_eq!(
            find_first(&v, |_, x| (*x as usize == n).then_some(())),
            None
        );
        assert!(all(&v, |x| (*x as usize) < n));
        assert!(neighbours_all(&v, |a, b| a < b));
        assert!(neighbours_all::<u32>(&[], |_, _| false));
    }
}
