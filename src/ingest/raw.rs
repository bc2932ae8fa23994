//! Normalised records, as every source parser emits them, before interning and
//! sorting. Strings are already in canonical form (addresses via
//! `model::canonical_address`, hashes lower-case), amounts exact.

use crate::model::{Amount, MoveKind};
use std::borrow::Cow;

/// One parsed record (a source record may yield several).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Raw {
    AccountTx(RawAccountTx),
    Token(RawTokenTransfer),
    Internal(RawInternal),
    Utxo(RawUtxoTx),
    Move(RawMove),
    Asset(RawAsset),
    BlockSeen(BlockSeen),
}

/// A block's height and its confirmation count when it was exported
/// (`getblock`): tells the chain tip, which places `getrawtransaction`
/// results (that name only a block hash and a confirmation count).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockSeen {
    pub height: u64,
    pub confirmations: u64,
}

/// A top-level account-model transaction (ethereum-etl `transaction`,
/// Etherscan `txlist`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawAccountTx {
    pub hash: String,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub from: String,
    /// `to_address`, or the created contract for a creation; `None` when neither
    /// is known (the value then cannot be credited: the record is rejected by
    /// the parser if value > 0).
    pub to: Option<String>,
    pub value: Amount,
    /// `None`: the export had no receipt fields, fee unknown (counted, taken as 0).
    pub fee: Option<Amount>,
    /// `receipt_status == 0` / `isError == "1"`: no value moves, the fee is paid.
    pub failed: bool,
    /// The gas price the sender set (wei), when the export gives it.
    pub gas_price: Option<Amount>,
}

/// A token transfer (ethereum-etl `token_transfer`, Etherscan `tokentx`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawTokenTransfer {
    pub tx_hash: String,
    pub log_index: u64,
    pub block: u64,
    pub time: Option<u64>,
    /// The token contract address (lower-case): the asset's name.
    pub token: String,
    pub from: String,
    pub to: String,
    pub value: Amount,
}

/// Where an internal transfer came from, which decides how it combines with
/// its transaction's own value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TraceSource {
    /// ethereum-etl `trace`: the top-level trace repeats the transaction's own
    /// value, so a transaction with traces takes its native value from them only.
    EthereumEtl,
    /// Etherscan `txlistinternal`: internal calls only, in addition to the
    /// transaction's own value.
    Etherscan,
}

/// An internal native transfer or a block reward (ethereum-etl `trace`,
/// Etherscan `txlistinternal`). Parsers emit every trace record, including
/// ones that move no value (`moves == false`), because their presence marks
/// the transaction as traced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawInternal {
    pub source: TraceSource,
    /// Identity for de-duplication: `trace_id` where present, else a key built
    /// from the transaction hash and trace address.
    pub id: String,
    pub tx_hash: Option<String>,
    pub block: u64,
    pub time: Option<u64>,
    /// `None` for block rewards and where the export does not say.
    pub tx_index: Option<u32>,
    pub trace_address: Vec<u32>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub value: Amount,
    /// A block or uncle reward: clean new money, credited after the block's
    /// last transaction.
    pub reward: bool,
    /// True when this record moves value under SPEC.md §1 (value > 0,
    /// successful, a value-moving trace type).
    pub moves: bool,
}

/// A UTXO-model transaction (bitcoin-etl, Bitcoin Core RPC, native format).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawUtxoTx {
    pub txid: String,
    pub block: BlockRef,
    /// Position in the block; `None` when the source does not say
    /// (`getrawtransaction`).
    pub index: Option<u32>,
    pub time: u64,
    pub coinbase: bool,
    /// Asset name, `BTC` unless the source says otherwise.
    pub asset: String,
    pub inputs: Vec<RawInput>,
    /// In output-index order.
    pub outputs: Vec<RawOutput>,
}

/// How a UTXO transaction names its block.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BlockRef {
    Height(u64),
    /// `getrawtransaction` gives only the block hash and a confirmation count.
    Hash {
        hash: String,
        confirmations: Option<u64>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawInput {
    pub prev_txid: String,
    pub vout: u32,
    /// Owner (addresses joined with `,`) when the export is enriched.
    pub owner: Option<String>,
    /// Value when the export is enriched.
    pub value: Option<Amount>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawOutput {
    /// Canonical addresses joined with `,`; for an output with no address,
    /// `nonstandard:<txid>:<n>` (so it is nobody else's).
    pub owner: String,
    pub value: Amount,
}

/// A movement in fundtrail's native transfer format.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawMove {
    pub tx_hash: Option<String>,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub seq: u32,
    pub from: Option<String>,
    pub to: Option<String>,
    pub asset: String,
    pub amount: Amount,
    pub kind: MoveKind,
}

/// Asset metadata (ethereum-etl `token`, Etherscan `tokentx`, native `asset`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawAsset {
    pub asset: String,
    pub symbol: Option<String>,
    pub decimals: Option<u8>,
}

/// A string of a parsed record on the way to lowering: borrowed from the
/// record's text when that text is already canonical (the common case), so
/// the hot path allocates nothing; owned when canonicalising changed it or
/// the JSON string held escapes.
pub type Str<'a> = Cow<'a, str>;

/// A parsed record as the fast parsers (native, ethereum-etl, bitcoin-etl)
/// hand it to lowering: the frequent kinds with borrowed strings, the rest
/// as [`Raw`].
/// [`RawRef::into_owned`] gives the [`Raw`] the record stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawRef<'a> {
    AccountTx(AccountTxRef<'a>),
    Token(TokenTransferRef<'a>),
    Internal(InternalRef<'a>),
    Move(MoveRef<'a>),
    Utxo(UtxoRef<'a>),
    Owned(Raw),
}

/// [`RawAccountTx`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountTxRef<'a> {
    pub hash: Str<'a>,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub from: Str<'a>,
    pub to: Option<Str<'a>>,
    pub value: Amount,
    pub fee: Option<Amount>,
    pub failed: bool,
    pub gas_price: Option<Amount>,
}

/// [`RawTokenTransfer`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenTransferRef<'a> {
    pub tx_hash: Str<'a>,
    pub log_index: u64,
    pub block: u64,
    pub time: Option<u64>,
    pub token: Str<'a>,
    pub from: Str<'a>,
    pub to: Str<'a>,
    pub value: Amount,
}

/// [`RawInternal`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternalRef<'a> {
    pub source: TraceSource,
    pub id: Str<'a>,
    pub tx_hash: Option<Str<'a>>,
    pub block: u64,
    pub time: Option<u64>,
    pub tx_index: Option<u32>,
    pub trace_address: Vec<u32>,
    pub from: Option<Str<'a>>,
    pub to: Option<Str<'a>>,
    pub value: Amount,
    pub reward: bool,
    pub moves: bool,
}

/// [`RawMove`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveRef<'a> {
    pub tx_hash: Option<Str<'a>>,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub seq: u32,
    pub from: Option<Str<'a>>,
    pub to: Option<Str<'a>>,
    pub asset: Str<'a>,
    pub amount: Amount,
    pub kind: MoveKind,
}

/// [`RawUtxoTx`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtxoRef<'a> {
    pub txid: Str<'a>,
    pub block: BlockRef,
    pub index: Option<u32>,
    pub time: u64,
    pub coinbase: bool,
    pub asset: Str<'a>,
    pub inputs: Vec<InputRef<'a>>,
    /// In output-index order.
    pub outputs: Vec<OutputRef<'a>>,
}

/// [`RawInput`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRef<'a> {
    pub prev_txid: Str<'a>,
    pub vout: u32,
    pub owner: Option<Str<'a>>,
    pub value: Option<Amount>,
}

/// [`RawOutput`] with borrowed strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputRef<'a> {
    pub owner: Str<'a>,
    pub value: Amount,
}

impl RawRef<'_> {
    pub fn into_owned(self) -> Raw {
        let own = |s: Str| s.into_owned();
        match self {
            RawRef::AccountTx(t) => Raw::AccountTx(RawAccountTx {
                hash: own(t.hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                from: own(t.from),
                to: t.to.map(own),
                value: t.value,
                fee: t.fee,
                failed: t.failed,
                gas_price: t.gas_price,
            }),
            RawRef::Token(t) => Raw::Token(RawTokenTransfer {
                tx_hash: own(t.tx_hash),
                log_index: t.log_index,
                block: t.block,
                time: t.time,
                token: own(t.token),
                from: own(t.from),
                to: own(t.to),
                value: t.value,
            }),
            RawRef::Internal(t) => Raw::Internal(RawInternal {
                source: t.source,
                id: own(t.id),
                tx_hash: t.tx_hash.map(own),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                trace_address: t.trace_address,
                from: t.from.map(own),
                to: t.to.map(own),
                value: t.value,
                reward: t.reward,
                moves: t.moves,
            }),
            RawRef::Move(m) => Raw::Move(RawMove {
                tx_hash: m.tx_hash.map(own),
                block: m.block,
                time: m.time,
                tx_index: m.tx_index,
                seq: m.seq,
                from: m.from.map(own),
                to: m.to.map(own),
                asset: own(m.asset),
                amount: m.amount,
                kind: m.kind,
            }),
            RawRef::Utxo(u) => Raw::Utxo(RawUtxoTx {
                txid: own(u.txid),
                block: u.block,
                index: u.index,
                time: u.time,
                coinbase: u.coinbase,
                asset: own(u.asset),
                inputs: u
                    .inputs
                    .into_iter()
                    .map(|x| RawInput {
                        prev_txid: own(x.prev_txid),
                        vout: x.vout,
                        owner: x.owner.map(own),
                        value: x.value,
                    })
                    .collect(),
                outputs: u
                    .outputs
                    .into_iter()
                    .map(|o| RawOutput {
                        owner: own(o.owner),
                        value: o.value,
                    })
                    .collect(),
            }),
            RawRef::Owned(r) => r,
        }
    }
}

impl Raw {
    /// The record as a [`RawRef`] that owns its strings (moved, not
    /// copied), so that one lowering serves both.
    pub fn into_ref(self) -> RawRef<'static> {
        let cow = |s: String| -> Str<'static> { Cow::Owned(s) };
        match self {
            Raw::AccountTx(t) => RawRef::AccountTx(AccountTxRef {
                hash: cow(t.hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                from: cow(t.from),
                to: t.to.map(cow),
                value: t.value,
                fee: t.fee,
                failed: t.failed,
                gas_price: t.gas_price,
            }),
            Raw::Token(t) => RawRef::Token(TokenTransferRef {
                tx_hash: cow(t.tx_hash),
                log_index: t.log_index,
                block: t.block,
                time: t.time,
                token: cow(t.token),
                from: cow(t.from),
                to: cow(t.to),
                value: t.value,
            }),
            Raw::Internal(t) => RawRef::Internal(InternalRef {
                source: t.source,
                id: cow(t.id),
                tx_hash: t.tx_hash.map(cow),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                trace_address: t.trace_address,
                from: t.from.map(cow),
                to: t.to.map(cow),
                value: t.value,
                reward: t.reward,
                moves: t.moves,
            }),
            Raw::Move(m) => RawRef::Move(MoveRef {
                tx_hash: m.tx_hash.map(cow),
                block: m.block,
                time: m.time,
                tx_index: m.tx_index,
                seq: m.seq,
                from: m.from.map(cow),
                to: m.to.map(cow),
                asset: cow(m.asset),
                amount: m.amount,
                kind: m.kind,
            }),
            Raw::Utxo(u) => RawRef::Utxo(UtxoRef {
                txid: cow(u.txid),
                block: u.block,
                index: u.index,
                time: u.time,
                coinbase: u.coinbase,
                asset: cow(u.asset),
                inputs: u
                    .inputs
                    .into_iter()
                    .map(|x| InputRef {
                        prev_txid: cow(x.prev_txid),
                        vout: x.vout,
                        owner: x.owner.map(cow),
                        value: x.value,
                    })
                    .collect(),
                outputs: u
                    .outputs
                    .into_iter()
                    .map(|o| OutputRef {
                        owner: cow(o.owner),
                        value: o.value,
                    })
                    .collect(),
            }),
            r => RawRef::Owned(r),
        }
    }
}

/// Why a record was refused: the JSON path of the field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// [`owner_of`] of addresses already canonical (and not empty): the one
/// address itself, borrowed as it is, when there is one.
pub fn owner_of_canonical<'a>(mut addresses: Vec<Str<'a>>, txid: &str, n: u32) -> Str<'a> {
    match addresses.len() {
        0 => Cow::Owned(format!("nonstandard:{txid}:{n}")),
        1 => addresses.pop().expect("one address"),
        _ => Cow::Owned(addresses.join(",")),
    }
}

/// Owner string for an output: canonical addresses joined with `,`, or a
/// per-output placeholder when the script has no address.
pub fn owner_of(addresses: &[&str], txid: &str, n: u32) -> String {
    let parts: Vec<Str> = addresses
        .iter()
        .map(|a| crate::model::canonical_address(a))
        .filter(|a| !a.is_empty())
        .map(Cow::Owned)
        .collect();
    owner_of_canonical(parts, txid, n).into_owned()
}

/// The owned-records `parse` of a format that has a borrowing `parse_ref`.
pub fn parse_owned<'a>(
    text: &'a str,
    out: &mut Vec<Raw>,
    parse_ref: fn(&'a str, &mut Vec<RawRef<'a>>) -> Result<(), FieldError>,
) -> Result<(), FieldError> {
    let mut refs = Vec::new();
    parse_ref(text, &mut refs)?;
    out.extend(refs.into_iter().map(RawRef::into_owned));
    Ok(())
}
