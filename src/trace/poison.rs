//! Poison: once an account (an address's holding of one asset) has received
//! any taint, everything it holds and sends in that asset is tainted. In the
//! UTXO model any tainted input taints every output and the fee in full.
//! Poison does not conserve value: it over-approximates every other policy.

use super::{Lot, TaintPolicy};
use crate::model::Amount;

pub struct Poison;

#[derive(Clone, Default)]
pub struct PoisonAcct {
    balance: Amount,
    poisoned: bool,
}

impl TaintPolicy for Poison {
    type Acct = PoisonAcct;
    type Parcel = Lot;

    fn balance(a: &PoisonAcct) -> Amount {
        a.balance
    }
    fn taint(a: &PoisonAcct) -> Amount {
        if a.poisoned {
            a.balance
        } else {
            0
        }
    }
    fn debit(a: &mut PoisonAcct, x: Amount, missing_tainted: bool) -> (Lot, Amount) {
        let shortfall = x.saturating_sub(a.balance);
        if shortfall > 0 && missing_tainted {
            a.poisoned = true;
        }
        a.balance = a.balance + shortfall - x;
        let taint = if a.poisoned { x } else { 0 };
        (Lot { amount: x, taint }, shortfall)
    }
    fn credit(a: &mut PoisonAcct, p: Lot) {
        a.balance += p.amount;
        if p.taint > 0 {
            a.poisoned = true;
        }
    }
    fn split(inputs: Vec<Lot>, outputs: &[Amount]) -> (Vec<Lot>, Lot) {
        let total: Amount = inputs.iter().map(|l| l.amount).sum();
        let any = inputs.iter().any(|l| l.taint > 0);
        let fee = total - outputs.iter().sum::<Amount>();
        let lot = |v: Amount| Lot {
            amount: v,
            taint: if any { v } else { 0 },
        };
        (outputs.iter().map(|v| lot(*v)).collect(), lot(fee))
    }
}
