//! The `Ledger`: the compact, canonical-order transaction graph every command
//! works on. Built by `ingest`, saved and opened (memory-mapped) by `store`,
//! read by `trace`.
//!
//! Invariants: `addresses` is sorted and unique (so `AddrId`s do not depend on
//! input order), `accounts` sorted by (address, asset); `movements` and
//! `utxo_txs` are in canonical order (SPEC.md §1); `out_*`/`in_*` are the
//! movements of each account, by source and by destination, in canonical
//! order (CSR); every `TxInput::spent` that is not `NO_OUTPUT` points to an
//! output of an earlier transaction.

use crate::column::{Column, StringTable};
use crate::model::{
    canonical_address, Account, AcctId, AddrId, Amount, Amt, AssetId, AssetInfo, BlockTime,
    ChainModel, Movement, TxId, TxInput, TxOutput, UtxoTx,
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

/// Movements of each account: `moves[offsets[a]..offsets[a+1]]` are the
/// indices (into `Ledger::movements`) of account `a`'s movements, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csr {
    pub offsets: Column<u32>,
    pub moves: Column<u32>,
}

impl Csr {
    /// Build from one endpoint per movement (`AcctId::NONE` skipped).
    pub fn build(n_accounts: usize, ends: impl Iterator<Item = AcctId> + Clone) -> Csr {
        let mut offsets = vec![0u32; n_accounts + 1];
        for a in ends.clone() {
            if !a.is_none() {
                offsets[a.index() + 1] += 1;
            }
        }
        for i in 0..n_accounts {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut moves = vec![0u32; offsets[n_accounts] as usize];
        for (i, a) in ends.enumerate() {
            if !a.is_none() {
                moves[fill[a.index()] as usize] = i as u32;
                fill[a.index()] += 1;
            }
        }
        Csr {
            offsets: offsets.into(),
            moves: moves.into(),
        }
    }

    /// The movements of account `a`, ascending.
    pub fn of(&self, a: AcctId) -> &[u32] {
        let (Some(s), Some(e)) = (self.offsets.get(a.index()), self.offsets.get(a.index() + 1))
        else {
            return &[];
        };
        self.moves.get(*s as usize..*e as usize).unwrap_or(&[])
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Canonical address text, sorted; `AddrId(i)` is `addresses[i]`.
    pub addresses: StringTable,
    pub assets: Vec<AssetInfo>,
    /// Transaction hashes (lower-case hex as exported), sorted; `TxId(i)`.
    pub txids: StringTable,
    /// Account-model accounts, sorted by (address, asset); `AcctId(i)`.
    pub accounts: Column<Account>,
    /// Account-model movements, canonical order.
    pub movements: Column<Movement>,
    /// Each account's movements as sender and as receiver.
    pub by_source: Csr,
    pub by_dest: Csr,
    /// Block times of the account model, sorted by block.
    pub block_times: Column<BlockTime>,
    /// UTXO-model transactions, canonical order.
    pub utxo_txs: Column<UtxoTx>,
    pub inputs: Column<TxInput>,
    pub outputs: Column<TxOutput>,
    /// The gas price each transaction's sender set (wei; indexed by `TxId`,
    /// 0 when unknown), or empty when no export gave any.
    pub gas_prices: Column<Amt>,
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
            self.addresses.get(id.index())
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
            self.txids.get(id.index())
        }
    }

    /// Look a transaction hash up (hex case-insensitive).
    pub fn tx_id(&self, raw: &str) -> Option<TxId> {
        let h = raw.trim().to_ascii_lowercase();
        self.txids.binary_search(&h).ok().map(|i| TxId(i as u32))
    }

    /// The account, or `None` for `AcctId::NONE`.
    pub fn account(&self, id: AcctId) -> Option<Account> {
        self.accounts.get(id.index()).copied()
    }

    /// The address of an account (`AddrId::NONE` for `AcctId::NONE`).
    pub fn account_addr(&self, id: AcctId) -> AddrId {
        self.account(id).map(|a| a.addr).unwrap_or(AddrId::NONE)
    }

    /// The account of (address, asset), if it has any movement.
    pub fn acct_id(&self, addr: AddrId, asset: AssetId) -> Option<AcctId> {
        self.accounts
            .binary_search(&Account { addr, asset })
            .ok()
            .map(|i| AcctId(i as u32))
    }

    /// The accounts of an address (one per asset it moved).
    pub fn accounts_of(&self, addr: AddrId) -> impl Iterator<Item = AcctId> + '_ {
        let start = self.accounts.partition_point(|a| a.addr < addr);
        self.accounts[start..]
            .iter()
            .take_while(move |a| a.addr == addr)
            .enumerate()
            .map(move |(k, _)| AcctId((start + k) as u32))
    }

    /// Unix time of an account-model block (0 when unknown).
    pub fn time_of(&self, block: u32) -> u64 {
        let b = block as u64;
        match self.block_times.binary_search_by(|t| t.block.cmp(&b)) {
            Ok(i) => self.block_times[i].time,
            Err(_) => 0,
        }
    }

    pub fn model_of(&self, asset: AssetId) -> ChainModel {
        self.asset(asset).model
    }

    pub fn tx_inputs(&self, tx: &UtxoTx) -> &[TxInput] {
        &self.inputs[tx.inputs[0] as usize..tx.inputs[1] as usize]
    }

    pub fn tx_outputs(&self, tx: &UtxoTx) -> &[TxOutput] {
        &self.outputs[tx.outputs[0] as usize..tx.outputs[1] as usize]
    }

    /// Number of value movements: account movements plus UTXO inputs and outputs.
    /// The gas price of a transaction, when the export gave one.
    pub fn gas_price(&self, tx: TxId) -> Option<Amount> {
        if tx == TxId::NONE {
            return None;
        }
        self.gas_prices
            .get(tx.0 as usize)
            .map(|a| a.get())
            .filter(|p| *p > 0)
    }

    pub fn movement_count(&self) -> usize {
        self.movements.len() + self.inputs.len() + self.outputs.len()
    }
}
