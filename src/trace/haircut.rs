//! Haircut: every payment carries the account's tainted share,
//! `floor(x * T / B)` with `B` the balance before the debit (a 256-bit
//! intermediate); the rounding remainder stays behind. In the UTXO model
//! output `o` gets `floor(v(o) * T / V)` and the fee bucket the remainder,
//! rounding dust included.

use super::{Lot, TaintPolicy};
use crate::amount::mul_div_floor;
use crate::model::Amount;

pub struct Haircut;

#[derive(Clone, Default)]
pub struct ShareAcct {
    pub(super) balance: Amount,
    pub(super) taint: Amount,
}

impl ShareAcct {
    /// Top the balance up by the missing history a debit of `x` reveals.
    pub(super) fn reveal(&mut self, x: Amount, missing_tainted: bool) -> Amount {
        let shortfall = x.saturating_sub(self.balance);
        self.balance += shortfall;
        if missing_tainted {
            self.taint += shortfall;
        }
        shortfall
    }

    pub(super) fn credit(&mut self, p: Lot) {
        self.balance += p.amount;
        self.taint += p.taint;
    }
}

impl TaintPolicy for Haircut {
    type Acct = ShareAcct;
    type Parcel = Lot;

    fn balance(a: &ShareAcct) -> Amount {
        a.balance
    }
    fn taint(a: &ShareAcct) -> Amount {
        a.taint
    }
    fn debit(a: &mut ShareAcct, x: Amount, missing_tainted: bool) -> (Lot, Amount) {
        let shortfall = a.reveal(x, missing_tainted);
        let carried = if a.taint == 0 || x == 0 {
            0
        } else if a.taint == a.balance {
            x
        } else {
            // taint <= balance, so the quotient fits and never exceeds x
            mul_div_floor(x, a.taint, a.balance).unwrap_or(0)
        };
        a.balance -= x;
        a.taint -= carried;
        (
            Lot {
                amount: x,
                taint: carried,
            },
            shortfall,
        )
    }
    fn credit(a: &mut ShareAcct, p: Lot) {
        a.credit(p)
    }
    fn split(inputs: Vec<Lot>, outputs: &[Amount]) -> (Vec<Lot>, Lot) {
        let total: Amount = inputs.iter().map(|l| l.amount).sum();
        let taint: Amount = inputs.iter().map(|l| l.taint).sum();
        let mut given = 0;
        let outs: Vec<Lot> = outputs
            .iter()
            .map(|v| {
                let t = if taint == 0 {
                    0
                } else {
                    mul_div_floor(*v, taint, total).unwrap_or(0)
                };
                given += t;
                Lot {
                    amount: *v,
                    taint: t,
                }
            })
            .collect();
        let fee = Lot {
            amount: total - outputs.iter().sum::<Amount>(),
            taint: taint - given,
        };
        (outs, fee)
    }
}
