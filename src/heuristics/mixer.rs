//! Mixer pools: deposits, withdrawals and the links between them.
