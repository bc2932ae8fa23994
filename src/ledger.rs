//! The `Ledger`: the compact, canonical-order transaction graph every command
//! works on. Built by `ingest`, saved and opened by `store`, read by `trace`.
//!
//! Invariants: `addresses` is sorted and unique (so `AddrId`s do not depend on
//! input order); `movements` and `utxo_txs` are in canonical order
//! (SPEC.md §1); every `TxInput::spent` that is not `NO_OUTPUT` points to an
//! output of an earlier transaction.

use crate::model::{
    canonical_address, AddrId, AssetId, AssetInfo, ChainModel, Movement, TxId, TxInput, TxOutput,
    UtxoTx,
};

/// Counts gathered while building a ledger, kept in the store for `stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerInfo {
    /// Records read (before de-duplication), per source format name.
    pub records: Vec<(String, u64)>,
    /// Duplicate records dropped.
    pub duplicates: u64,
    /// Records rejected under `--on-error skip`.
    pub rejected: u64,
    /// Account-model transactions without receipt fields: fee unknown, taken as 0.
    pub unknown_fee_txs: u64,
    /// UTXO inputs whose spent output is not in the sample and whose value the
    /// export did not give (split per SPEC.md §3).
    pub unknown_value_inputs: u64,
    /// Source files, with the format detected for each.
    pub files: Vec<SourceFile>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub format: String,
    pub records: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Canonical address text, sorted; `AddrId(i)` is `addresses[i]`.
    pub addresses: Vec<String>,
    pub assets: Vec<AssetInfo>,
    /// Transaction hashes (lower-case hex as exported); `TxId(i)` is `txids[i]`.
    pub txids: Vec<String>,
    /// Account-model movements, canonical order.
    pub movements: Vec<Movement>,
    /// UTXO-model transactions, canonical order.
    pub utxo_txs: Vec<UtxoTx>,
    pub inputs: Vec<TxInput>,
    pub outputs: Vec<TxOutput>,
    pub info: LedgerInfo,
}

impl Ledger {
    /// Look an address up by any spelling (EVM case-insensitive).
    pub fn addr_id(&self, raw: &str) -> Option<AddrId> {
        let c = canonical_address(raw);
        self.addresses
            .binary_search(&c)
            .ok()
            .map(|i| AddrId(i as u32))
    }

    pub fn address(&self, id: AddrId) -> &str {
        if id.is_none() {
            ""
        } else {
            &self.addresses[id.index()]
        }
    }

    pub fn asset_id(&self, name: &str) -> Option<AssetId> {
        let n = name.trim();
        self.assets
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(n) || a.symbol.as_deref() == Some(n))
            .map(|i| AssetId(i as u32))
    }

    pub fn asset(&self, id: AssetId) -> &AssetInfo {
        &self.assets[id.index()]
    }

    pub fn txid(&self, id: TxId) -> &str {
        if id == TxId::NONE {
            ""
        } else {
            &self.txids[id.index()]
        }
    }

    /// Look a transaction hash up (hex case-insensitive, `0x` optional for UTXO).
    pub fn tx_id(&self, raw: &str) -> Option<TxId> {
        let h = raw.trim().to_ascii_lowercase();
        self.txids
            .iter()
            .position(|t| *t == h)
            .map(|i| TxId(i as u32))
    }

    pub fn model_of(&self, asset: AssetId) -> ChainModel {
        self.asset(asset).model
    }

    pub fn tx_inputs(&self, tx: &UtxoTx) -> &[TxInput] {
        &self.inputs[tx.inputs.0 as usize..tx.inputs.1 as usize]
    }

    pub fn tx_outputs(&self, tx: &UtxoTx) -> &[TxOutput] {
        &self.outputs[tx.outputs.0 as usize..tx.outputs.1 as usize]
    }

    /// Number of value movements: account movements plus UTXO inputs and outputs.
    pub fn movement_count(&self) -> usize {
        self.movements.len() + self.inputs.len() + self.outputs.len()
    }
}
