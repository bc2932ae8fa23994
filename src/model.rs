//! Core identifiers and plain value types shared by every layer.
//!
//! This module owns no IO and no serde: it is the vocabulary of the ledger.

use bytemuck::{Pod, Zeroable};

/// An exact amount in an asset's base units (wei, satoshi, token base units).
pub type Amount = u128;

/// An interned address. Ids are assigned in sorted order of the canonical
/// address text, so they are the same whatever order the input arrived in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
#[repr(transparent)]
pub struct AddrId(pub u32);

/// An interned asset (`ETH`, `BTC`, or a token contract address).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
#[repr(transparent)]
pub struct AssetId(pub u32);

/// An interned transaction hash.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
#[repr(transparent)]
pub struct TxId(pub u32);

/// An account-model account: one address's holding of one asset. Ids follow
/// the sorted (address, asset) order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
#[repr(transparent)]
pub struct AcctId(pub u32);

impl AddrId {
    /// No address: the credit side of a fee, the debit side of a mint.
    pub const NONE: AddrId = AddrId(u32::MAX);
    pub fn is_none(self) -> bool {
        self == Self::NONE
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl AcctId {
    /// No account: the credit side of a fee, the debit side of a mint.
    pub const NONE: AcctId = AcctId(u32::MAX);
    pub fn is_none(self) -> bool {
        self == Self::NONE
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl AssetId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl TxId {
    pub const NONE: TxId = TxId(u32::MAX);
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Which ledger model an asset follows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChainModel {
    /// Balances per (address, asset): Ethereum and EVM chains.
    Account,
    /// Unspent outputs: Bitcoin and its forks.
    Utxo,
}

/// What an account-model movement is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum MoveKind {
    /// Native value of a transaction (or of one of its traces).
    Native = 0,
    /// A transaction fee: a debit with no credit (`to` is `AcctId::NONE`).
    Fee = 1,
    /// A token transfer.
    Token = 2,
    /// Newly created money (block or uncle reward): `from` is `AcctId::NONE`.
    Mint = 3,
}

impl MoveKind {
    pub fn from_u8(v: u8) -> Option<MoveKind> {
        Some(match v {
            0 => MoveKind::Native,
            1 => MoveKind::Fee,
            2 => MoveKind::Token,
            3 => MoveKind::Mint,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            MoveKind::Native => "native",
            MoveKind::Fee => "fee",
            MoveKind::Token => "token",
            MoveKind::Mint => "mint",
        }
    }
}

/// Transaction-index lane for account movements whose transaction position is
/// unknown (an internal transfer or token transfer without its transaction in
/// the sample): after the block's known transactions, before its rewards.
pub const LANE_UNKNOWN_TX: u32 = u32::MAX - 1;
/// Transaction-index lane for block rewards: after the block's last transaction.
pub const LANE_REWARD: u32 = u32::MAX;

/// An amount stored as two little-endian words, so that columns of it have
/// 8-byte alignment and no padding (a `u128` field would force 16).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Pod, Zeroable)]
#[repr(C)]
pub struct Amt([u64; 2]);

impl Amt {
    pub fn new(v: Amount) -> Amt {
        Amt([v as u64, (v >> 64) as u64])
    }
    pub fn get(self) -> Amount {
        self.0[0] as u128 | ((self.0[1] as u128) << 64)
    }
}

/// One account-model value movement, in canonical order inside a `Ledger`.
/// 40 bytes; its time is its block's (`Ledger::time_of`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Movement {
    pub amount: Amt,
    pub block: u32,
    pub tx: TxId,
    pub from: AcctId,
    pub to: AcctId,
    pub asset: AssetId,
    /// A `MoveKind` as `u32` (see `kind()`).
    pub kind: u32,
}

impl Movement {
    pub fn amount(&self) -> Amount {
        self.amount.get()
    }
    pub fn kind(&self) -> MoveKind {
        MoveKind::from_u8(self.kind as u8).unwrap_or(MoveKind::Native)
    }
}

/// An account: whose holding of which asset.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
#[repr(C)]
pub struct Account {
    pub addr: AddrId,
    pub asset: AssetId,
}

/// A block's time (Unix seconds), for the account model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Pod, Zeroable)]
#[repr(C)]
pub struct BlockTime {
    pub block: u64,
    pub time: u64,
}

/// One UTXO-model transaction, in canonical order inside a `Ledger`.
/// `inputs` and `outputs` are ranges into the ledger's input and output arrays.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct UtxoTx {
    pub time: u64,
    pub block: u32,
    /// Position in the block (`u32::MAX` when the source did not say).
    pub index: u32,
    pub txid: TxId,
    pub asset: AssetId,
    /// 1 for a coinbase (see `is_coinbase`).
    pub coinbase: u32,
    /// `[start, end)` in the ledger's inputs.
    pub inputs: [u32; 2],
    /// `[start, end)` in the ledger's outputs.
    pub outputs: [u32; 2],
    pub _pad: u32,
}

impl UtxoTx {
    pub fn is_coinbase(&self) -> bool {
        self.coinbase != 0
    }
}

/// Index of an output in the ledger's global output array.
pub const NO_OUTPUT: u32 = u32::MAX;

/// A UTXO input. `spent` links to the output it spends when that output is in
/// the sample; otherwise `owner` and `value` are what the export said (if
/// anything).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct TxInput {
    pub value: Amt,
    pub spent: u32,
    pub owner: AddrId,
    /// 1 when `value` is known (see `value()`).
    pub has_value: u32,
    pub _pad: u32,
}

impl TxInput {
    pub fn new(spent: u32, owner: AddrId, value: Option<Amount>) -> TxInput {
        TxInput {
            value: Amt::new(value.unwrap_or(0)),
            spent,
            owner,
            has_value: value.is_some() as u32,
            _pad: 0,
        }
    }
    pub fn value(&self) -> Option<Amount> {
        (self.has_value != 0).then(|| self.value.get())
    }
}

/// A UTXO output: its owner (the address list joined with `,`) and value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct TxOutput {
    pub value: Amt,
    pub owner: AddrId,
    pub _pad: u32,
}

impl TxOutput {
    pub fn new(owner: AddrId, value: Amount) -> TxOutput {
        TxOutput {
            value: Amt::new(value),
            owner,
            _pad: 0,
        }
    }
    pub fn value(&self) -> Amount {
        self.value.get()
    }
}

/// An asset's table entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetInfo {
    /// `ETH`, `BTC`, or a token's lower-case contract address.
    pub name: String,
    pub model: ChainModel,
    /// Ticker symbol where known (`ETH`, `BTC`, `USDT`).
    pub symbol: Option<String>,
    /// Decimal places of one whole unit, where known.
    pub decimals: Option<u8>,
}

/// Normalise an address to its canonical stored form: EVM (`0x` + 40 hex) and
/// bech32 addresses lower-case, everything else (base58) as given.
pub fn canonical_address(raw: &str) -> String {
    let s = raw.trim();
    if is_evm_address(s) || is_bech32_like(s) {
        return s.to_ascii_lowercase();
    }
    s.to_string()
}

/// `0x` followed by 40 hex digits (any case).
pub fn is_evm_address(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 42
        && (b[0] == b'0')
        && (b[1] == b'x' || b[1] == b'X')
        && b[2..].iter().all(|c| c.is_ascii_hexdigit())
}

/// A bech32 address of Bitcoin, its testnets or Litecoin, in either case.
fn is_bech32_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && ["bc1", "tb1", "ltc1", "bcrt1"]
            .iter()
            .any(|p| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
        && b.iter().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_addresses_are_lower_cased() {
        assert_eq!(
            canonical_address(" 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 "),
            "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
        );
    }

    #[test]
    fn base58_keeps_case_and_bech32_is_lowered() {
        assert_eq!(
            canonical_address("1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ"),
            "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ"
        );
        assert_eq!(
            canonical_address("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"),
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        );
    }
}
