//! Structure detectors over a `Ledger`: mixer pools and the links between
//! their deposits and withdrawals (`mixer`), CoinJoin transactions
//! (`coinjoin`) and peel chains (`peel`). Each is a pure function of the
//! ledger (and, for mixers, the labelled pool addresses); the trace uses
//! their results, the reports explain with them. No IO.

pub mod coinjoin;
pub mod mixer;
pub mod peel;
