//! TIHO (taint in, highest out): tainted funds leave first. A debit of `x`
//! carries `min(x, T)`. In the UTXO model taint goes to the highest-value
//! outputs first (ties: lower index first) and the fee takes what is left.

use super::haircut::ShareAcct;
use super::{Lot, TaintPolicy};
use crate::model::Amount;

pub struct Tiho;

impl TaintPolicy for Tiho {
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
        let carried = x.min(a.taint);
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
        let mut left: Amount = inputs.iter().map(|l| l.taint).sum();
        let mut order: Vec<usize> = (0..outputs.len()).collect();
        order.sort_by(|a, b| outputs[*b].cmp(&outputs[*a]).then(a.cmp(b)));
        let mut outs: Vec<Lot> = outputs
            .iter()
            .map(|v| Lot {
                amount: *v,
                taint: 0,
            })
            .collect();
        for k in order {
            let t = outputs[k].min(left);
            outs[k].taint = t;
            left -= t;
        }
        let fee = Lot {
            amount: total - outputs.iter().sum::<Amount>(),
            taint: left,
        };
        (outs, fee)
    }
}
