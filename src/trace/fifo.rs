//! FIFO and LIFO: an account is a queue of (amount, tainted) chunks in order
//! of arrival, missing history at the very front. FIFO debits take from the
//! front (oldest first), LIFO from the back (newest first); either way the
//! pieces land at the receiver in the order they sat at the source, oldest
//! first. In the UTXO model the inputs' chunks are concatenated in input
//! order; outputs in order take from the front (FIFO) or the back (LIFO) of
//! that pool, and the fee takes what is left.
//!
//! An account or parcel with no taint keeps no chunks at all (it is one clean
//! chunk), so the common clean case allocates nothing.

use super::{Parcel, TaintPolicy};
use crate::model::Amount;
use std::collections::VecDeque;

/// Which end a debit takes from.
trait End {
    const FRONT: bool;
}

/// An amount with its chunks, oldest first. `chunks` is empty exactly when
/// nothing is tainted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pieces {
    pub amount: Amount,
    pub taint: Amount,
    pub chunks: Vec<(Amount, bool)>,
}

#[derive(Clone, Default)]
pub struct QueueAcct {
    balance: Amount,
    taint: Amount,
    /// Empty when `taint == 0` (then the whole balance is one clean chunk).
    q: VecDeque<(Amount, bool)>,
}

fn push_back(q: &mut VecDeque<(Amount, bool)>, c: (Amount, bool)) {
    if c.0 == 0 {
        return;
    }
    match q.back_mut() {
        Some(last) if last.1 == c.1 => last.0 += c.0,
        _ => q.push_back(c),
    }
}

fn push_vec(v: &mut Vec<(Amount, bool)>, c: (Amount, bool)) {
    if c.0 == 0 {
        return;
    }
    match v.last_mut() {
        Some(last) if last.1 == c.1 => last.0 += c.0,
        _ => v.push(c),
    }
}

/// Take `x` from the front or back of `q`, as a parcel whose chunks are
/// oldest first (its amount and taint summed on the way).
fn take(q: &mut VecDeque<(Amount, bool)>, mut x: Amount, front: bool) -> Pieces {
    let mut got = Vec::new();
    let (mut amount, mut taint) = (0, 0);
    while x > 0 {
        let c = if front { q.front_mut() } else { q.back_mut() };
        let Some(c) = c else { break };
        let n = c.0.min(x);
        let piece = (n, c.1);
        c.0 -= n;
        x -= n;
        if c.0 == 0 {
            if front {
                q.pop_front();
            } else {
                q.pop_back();
            }
        }
        amount += n;
        if piece.1 {
            taint += n;
        }
        push_vec(&mut got, piece);
    }
    if taint == 0 {
        return Pieces::clean(amount);
    }
    if !front {
        got.reverse();
    }
    Pieces {
        amount,
        taint,
        chunks: got,
    }
}

fn pieces_of(chunks: Vec<(Amount, bool)>) -> Pieces {
    let amount = chunks.iter().map(|c| c.0).sum();
    let taint: Amount = chunks.iter().filter(|c| c.1).map(|c| c.0).sum();
    Pieces {
        amount,
        taint,
        chunks: if taint == 0 { Vec::new() } else { chunks },
    }
}

fn debit<E: End>(a: &mut QueueAcct, x: Amount, missing_tainted: bool) -> (Pieces, Amount) {
    let shortfall = x.saturating_sub(a.balance);
    if shortfall > 0 && (missing_tainted || a.taint > 0) {
        if a.taint == 0 && a.balance > 0 {
            a.q.push_back((a.balance, false));
        }
        // missing history is older than anything in the sample
        match a.q.front_mut() {
            Some(f) if f.1 == missing_tainted => f.0 += shortfall,
            _ => a.q.push_front((shortfall, missing_tainted)),
        }
        if missing_tainted {
            a.taint += shortfall;
        }
    }
    a.balance += shortfall;
    a.balance -= x;
    if a.taint == 0 {
        return (
            Pieces {
                amount: x,
                taint: 0,
                chunks: Vec::new(),
            },
            shortfall,
        );
    }
    let p = take(&mut a.q, x, E::FRONT);
    a.taint -= p.taint;
    if a.taint == 0 {
        a.q.clear();
    }
    (p, shortfall)
}

fn credit(a: &mut QueueAcct, p: Pieces) {
    if p.taint == 0 {
        if a.taint > 0 {
            push_back(&mut a.q, (p.amount, false));
        }
        a.balance += p.amount;
        return;
    }
    if a.taint == 0 && a.balance > 0 {
        a.q.push_back((a.balance, false));
    }
    for c in p.chunks {
        push_back(&mut a.q, c);
    }
    a.balance += p.amount;
    a.taint += p.taint;
}

fn split<E: End>(inputs: Vec<Pieces>, outputs: &[Amount]) -> (Vec<Pieces>, Pieces) {
    let total: Amount = inputs.iter().map(|p| p.amount).sum();
    let out_total: Amount = outputs.iter().sum();
    let taint: Amount = inputs.iter().map(|p| p.taint).sum();
    if taint == 0 {
        let outs = outputs.iter().map(|v| Pieces::clean(*v)).collect();
        return (outs, Pieces::clean(total - out_total));
    }
    let room = inputs.iter().map(|p| p.chunks.len().max(1)).sum();
    let mut pool: VecDeque<(Amount, bool)> = VecDeque::with_capacity(room);
    for p in inputs {
        if p.taint == 0 {
            push_back(&mut pool, (p.amount, false));
        } else {
            for c in p.chunks {
                push_back(&mut pool, c);
            }
        }
    }
    let outs = outputs
        .iter()
        .map(|v| take(&mut pool, *v, E::FRONT))
        .collect();
    let fee = pieces_of(pool.into_iter().collect());
    (outs, fee)
}

impl Parcel for Pieces {
    fn amount(&self) -> Amount {
        self.amount
    }
    fn taint(&self) -> Amount {
        self.taint
    }
    fn clean(x: Amount) -> Pieces {
        Pieces {
            amount: x,
            taint: 0,
            chunks: Vec::new(),
        }
    }
    fn tainted(x: Amount) -> Pieces {
        let chunks = if x > 0 { vec![(x, true)] } else { Vec::new() };
        Pieces {
            amount: x,
            taint: x,
            chunks,
        }
    }
    fn without_taint(mut self, t: Amount) -> Pieces {
        let t = t.min(self.taint);
        if t == 0 {
            return self;
        }
        // the oldest tainted units go
        let mut left = t;
        let mut chunks = Vec::with_capacity(self.chunks.len());
        for (n, tainted) in self.chunks {
            let gone = if tainted { n.min(left) } else { 0 };
            left -= gone;
            push_vec(&mut chunks, (n - gone, tainted));
        }
        self.amount -= t;
        self.taint -= t;
        self.chunks = if self.taint == 0 { Vec::new() } else { chunks };
        self
    }
    fn join(self, later: Pieces) -> Pieces {
        if self.taint == 0 && later.taint == 0 {
            return Pieces::clean(self.amount + later.amount);
        }
        let mut chunks = Vec::with_capacity(self.chunks.len() + later.chunks.len() + 2);
        for p in [self, later] {
            if p.taint == 0 {
                push_vec(&mut chunks, (p.amount, false));
            } else {
                for c in p.chunks {
                    push_vec(&mut chunks, c);
                }
            }
        }
        pieces_of(chunks)
    }
}

pub struct Fifo;
pub struct Lifo;

impl End for Fifo {
    const FRONT: bool = true;
}
impl End for Lifo {
    const FRONT: bool = false;
}

macro_rules! queue_policy {
    ($t:ty) => {
        impl TaintPolicy for $t {
            type Acct = QueueAcct;
            type Parcel = Pieces;
            fn balance(a: &QueueAcct) -> Amount {
                a.balance
            }
            fn taint(a: &QueueAcct) -> Amount {
                a.taint
            }
            fn debit(a: &mut QueueAcct, x: Amount, missing_tainted: bool) -> (Pieces, Amount) {
                debit::<$t>(a, x, missing_tainted)
            }
            fn credit(a: &mut QueueAcct, p: Pieces) {
                credit(a, p)
            }
            fn split(inputs: Vec<Pieces>, outputs: &[Amount]) -> (Vec<Pieces>, Pieces) {
                split::<$t>(inputs, outputs)
            }
        }
    };
}

queue_policy!(Fifo);
queue_policy!(Lifo);
