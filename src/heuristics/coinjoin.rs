//! CoinJoin detection (UTXO model).
