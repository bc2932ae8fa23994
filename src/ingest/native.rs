//! fundtrail's own record format, for ledger data from anywhere else.
//!
//! A file holds JSON lines (one object per line) or one JSON array of
//! objects. Each object has a `kind`: `transfer`, `fee`, `mint`, `utxo` or
//! `asset`. Unknown fields are ignored.
//!
//! ```text
//! {"kind":"transfer","block":12,"time":1683029999,"tx":"0xab12","tx_index":3,"seq":0,"from":"0x1111111111111111111111111111111111111111","to":"0x2222222222222222222222222222222222222222","asset":"ETH","amount":"1000"}
//! {"kind":"fee","block":12,"tx":"0xab12","tx_index":3,"seq":1,"from":"0x1111111111111111111111111111111111111111","asset":"ETH","amount":"21000"}
//! {"kind":"mint","block":12,"tx_index":4,"to":"0x3333333333333333333333333333333333333333","asset":"ETH","amount":"2000000000000000000"}
//! {"kind":"utxo","txid":"tx-b","block":7,"index":1,"time":0,"asset":"BTC","coinbase":false,"inputs":[{"txid":"tx-a","vout":0,"address":"1Alice","value":"5000"}],"outputs":[{"address":"1Bob","value":"4000"}]}
//! {"kind":"asset","asset":"0xdac17f958d2ee523a2206206994597c13d831ec7","symbol":"USDT","decimals":6}
//! ```
//!
//! **Amounts** are whole numbers in the asset's base units (wei, satoshi,
//! token base units), as a decimal string (`"1000"`) or a JSON integer
//! (`1000`); never a fraction. They may exceed 2^64 (up to 2^128-1).
//!
//! **Addresses** are any non-empty text without whitespace or commas. One
//! that starts with `0x` must be an EVM address (`0x` and 40 hex digits) and
//! is stored lower-case; bech32 Bitcoin addresses (`bc1…`) are stored
//! lower-case; anything else is kept exactly as given (base58 is
//! case-sensitive).
//!
//! **Assets** are `ETH`, `BTC` or any name without whitespace or commas (kept
//! as given, so `eth` is not `ETH`); a token is named by its contract
//! address (`0x…`, stored lower-case).
//!
//! **Hashes** (`tx`, `txid`) are any text without whitespace or commas;
//! hex hashes (with or without `0x`) are stored lower-case.
//!
//! - `transfer`: `from` sends `amount` of `asset` to `to`. Required: `block`,
//!   `from`, `to`, `asset`, `amount`. Optional: `tx` (transaction hash),
//!   `time` (Unix seconds), `tx_index` (position of the transaction in the
//!   block) and `seq` (position inside the transaction), each 0 when absent.
//!   Movements are replayed in `(block, tx_index, seq)` order. An `asset`
//!   that is a contract address makes it a token transfer, otherwise it moves
//!   the chain's native coin.
//! - `fee`: `from` pays `amount` of `asset` as a transaction fee; it reaches
//!   nobody, so there is no `to`. Fields as for `transfer`.
//! - `mint`: `amount` of `asset` is created for `to` (a block reward or
//!   other new money: clean); there is no `from`. Fields as for `transfer`.
//! - `utxo`: a transaction of a UTXO chain. Required: `txid`, `block`,
//!   `outputs`. Optional: `index` (position in the block), `time` (0),
//!   `asset` (`BTC`), `coinbase` (`false`), `inputs` (none). Each input names
//!   the output it spends, `txid` and `vout`, and may give that output's
//!   `address` (or `addresses`) and `value`. Each output has a `value` and an
//!   `address`, or `addresses: [..]` for a multi-signature output; an output
//!   with neither belongs to nobody (`nonstandard:<txid>:<n>`). Outputs are
//!   numbered by their position in the list, from 0.
//! - `asset`: metadata for an asset: `asset` (required), `symbol`, `decimals`
//!   (0 to 255), used to show amounts in whole units.

use super::fields::{
    amount, bech32_like, decode, evm_address, lift, lower_hex, lowered, scan, short, RawJson, Scan,
    Text, ALNUM, BAD, HEX, NONASCII, UPPER,
};
use super::plain::{self, once};
use super::raw::{
    self, BlockRef, FieldError, MoveRef, Raw, RawAsset, RawInput, RawOutput, RawRef, RawUtxoTx, Str,
};
use crate::model::{canonical_address, is_evm_address, MoveKind};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

#[cfg(test)]
use super::raw::RawMove;

/// Every kind's fields; which are required depends on `kind`.
#[derive(Deserialize)]
// (a boxed `Vec` is one word: see the utxo fields)
#[allow(clippy::box_collection)]
struct Record<'a> {
    #[serde(borrow)]
    kind: Text<'a>,
    block: Option<u64>,
    time: Option<u64>,
    #[serde(borrow)]
    tx: Option<Text<'a>>,
    tx_index: Option<u32>,
    seq: Option<u32>,
    #[serde(borrow)]
    from: Option<Text<'a>>,
    #[serde(borrow)]
    to: Option<Text<'a>>,
    #[serde(borrow)]
    asset: Option<Text<'a>>,
    #[serde(borrow)]
    amount: Option<RawJson<'a>>,
    // utxo (the fields only a utxo or an asset record has are boxed: every
    // record is moved a few times while it is parsed and lowered, and the
    // movements, most records, are smaller so)
    #[serde(borrow)]
    txid: Option<Box<Text<'a>>>,
    index: Option<u32>,
    coinbase: Option<bool>,
    #[serde(borrow)]
    inputs: Option<Box<Vec<Input<'a>>>>,
    #[serde(borrow)]
    outputs: Option<Box<Vec<Output<'a>>>>,
    // asset
    #[serde(borrow)]
    symbol: Option<Box<Text<'a>>>,
    decimals: Option<u8>,
}

#[derive(Deserialize)]
struct Input<'a> {
    #[serde(borrow)]
    txid: Text<'a>,
    vout: u32,
    #[serde(borrow)]
    address: Option<Text<'a>>,
    #[serde(borrow)]
    addresses: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    value: Option<RawJson<'a>>,
}

#[derive(Deserialize)]
struct Output<'a> {
    #[serde(borrow)]
    address: Option<Text<'a>>,
    #[serde(borrow)]
    addresses: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    value: RawJson<'a>,
}

const KINDS: &str = "transfer, fee, mint, utxo, asset";

/// Parse one native record.
pub fn parse(text: &str, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    super::raw::parse_owned(text, out, parse_ref)
}

/// A movement record whose strings are plain (no escapes): [`Record`]'s
/// fields as `&str`, which serde reads faster than [`Text`], and the fields
/// only UTXO and asset records have, kept only as present or not.
#[derive(Deserialize)]
struct PlainMove<'a> {
    kind: &'a str,
    block: Option<u64>,
    time: Option<u64>,
    tx: Option<&'a str>,
    tx_index: Option<u32>,
    seq: Option<u32>,
    from: Option<&'a str>,
    to: Option<&'a str>,
    asset: Option<&'a str>,
    #[serde(borrow)]
    amount: Option<RawJson<'a>>,
    txid: Option<IgnoredAny>,
    index: Option<IgnoredAny>,
    coinbase: Option<IgnoredAny>,
    inputs: Option<IgnoredAny>,
    outputs: Option<IgnoredAny>,
    symbol: Option<IgnoredAny>,
    decimals: Option<IgnoredAny>,
}

impl<'a> PlainMove<'a> {
    /// The movement's kind and fields, when it is a movement with none of
    /// the other kinds' fields (those are checked by [`Record`]).
    fn movement(self) -> Option<(MoveKind, Move<'a>)> {
        let kind = move_kind(self.kind)?;
        let others = self.txid.is_some()
            || self.index.is_some()
            || self.coinbase.is_some()
            || self.inputs.is_some()
            || self.outputs.is_some()
            || self.symbol.is_some()
            || self.decimals.is_some();
        if others {
            return None;
        }
        let text = |s: &'a str| Text(Cow::Borrowed(s));
        Some((
            kind,
            Move {
                block: self.block,
                time: self.time,
                tx: self.tx.map(text),
                tx_index: self.tx_index,
                seq: self.seq,
                from: self.from.map(text),
                to: self.to.map(text),
                asset: self.asset.map(text),
                amount: self.amount,
            },
        ))
    }
}

/// The kind of a movement record, by its `kind`.
fn move_kind(kind: &str) -> Option<MoveKind> {
    match kind {
        "transfer" => Some(MoveKind::Native),
        "fee" => Some(MoveKind::Fee),
        "mint" => Some(MoveKind::Mint),
        _ => None,
    }
}

/// The fields of a movement record (transfer, fee or mint), however read.
#[derive(Debug, Default, PartialEq)]
struct Move<'a> {
    block: Option<u64>,
    time: Option<u64>,
    tx: Option<Text<'a>>,
    tx_index: Option<u32>,
    seq: Option<u32>,
    from: Option<Text<'a>>,
    to: Option<Text<'a>>,
    asset: Option<Text<'a>>,
    amount: Option<RawJson<'a>>,
}

impl<'a> Record<'a> {
    fn into_move(self) -> Move<'a> {
        Move {
            block: self.block,
            time: self.time,
            tx: self.tx,
            tx_index: self.tx_index,
            seq: self.seq,
            from: self.from,
            to: self.to,
            asset: self.asset,
            amount: self.amount,
        }
    }
}

/// A movement record in the plain shape ([`plain`]): its kind and fields,
/// or `None` for anything else (another kind or key, an escape, `null`...).
fn plain_move(text: &str) -> Option<(MoveKind, Move<'_>)> {
    let mut kind = None;
    let mut m = Move::default();
    let text_of = |s| Text(Cow::Borrowed(s));
    plain::object(text, |key, v| match key {
        "kind" => once(&mut kind, move_kind(v.string()?)?),
        "block" => once(&mut m.block, v.uint()?),
        "time" => once(&mut m.time, v.uint()?),
        "tx" => once(&mut m.tx, text_of(v.string()?)),
        "tx_index" => once(&mut m.tx_index, v.uint32()?),
        "seq" => once(&mut m.seq, v.uint32()?),
        "from" => once(&mut m.from, text_of(v.string()?)),
        "to" => once(&mut m.to, text_of(v.string()?)),
        "asset" => once(&mut m.asset, text_of(v.string()?)),
        "amount" => once(&mut m.amount, RawJson(v.raw()?)),
        _ => None,
    })?;
    Some((kind?, m))
}

/// [`parse`], with the strings of movements borrowed from `text` where they
/// are already canonical.
pub fn parse_ref<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    // Most records are movements with plain strings: read as such first,
    // by the plain reader, then by serde for what it steps aside from.
    // Anything else (another kind, an escape, an error) is read again as a
    // `Record`, which says what is wrong, so the result is the same every
    // way. UTXO and asset records written kind first skip the first tries.
    let other = text.starts_with(r#"{"kind":"utxo""#) || text.starts_with(r#"{"kind":"asset""#);
    if !other {
        if let Some((kind, m)) = plain_move(text).or_else(|| {
            serde_json::from_str::<PlainMove<'a>>(text)
                .ok()
                .and_then(PlainMove::movement)
        }) {
            return movement(&m, kind, out);
        }
    }
    parse_record(text, out)
}

/// [`parse_ref`] the general way: the record read as a [`Record`].
fn parse_record<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    let r: Record<'a> = decode(text)?;
    if let Some(kind) = move_kind(&r.kind) {
        return movement(&r.into_move(), kind, out);
    }
    match &*r.kind {
        "utxo" => utxo(&r, out),
        "asset" => {
            let asset = asset_name(need(&r.asset, "asset")?, "asset")?;
            let symbol = match &r.symbol {
                Some(s) if s.trim().is_empty() => {
                    return Err(FieldError::new(
                        "symbol",
                        "empty symbol (leave the field out instead)",
                    ))
                }
                Some(s) => Some(s.trim().to_string()),
                None => None,
            };
            out.push(RawRef::Owned(Raw::Asset(RawAsset {
                asset,
                symbol,
                decimals: r.decimals,
            })));
            Ok(())
        }
        other => Err(FieldError::new(
            "kind",
            format!("unknown kind {:?}: the kinds are {KINDS}", short(other)),
        )),
    }
}

fn need<'r, T>(v: &'r Option<T>, field: &str) -> Result<&'r T, FieldError> {
    v.as_ref()
        .ok_or_else(|| FieldError::new(field, "required field is missing"))
}

/// A transfer, fee or mint. `kind` is `Native` for a transfer until the asset
/// says it is a token.
fn movement<'a>(r: &Move<'a>, kind: MoveKind, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    let block = *need(&r.block, "block")?;
    let asset = asset_name_cow(need(&r.asset, "asset")?, "asset")?;
    let amount = amount(*need(&r.amount, "amount")?, "base units", || {
        "amount".into()
    })?;
    let (from, to) = match kind {
        MoveKind::Fee => {
            if r.to.is_some() {
                return Err(FieldError::new(
                    "to",
                    "a fee reaches nobody: leave `to` out (use a transfer for a payment)",
                ));
            }
            (
                Some(address_cow(need(&r.from, "from")?, || "from".into())?),
                None,
            )
        }
        MoveKind::Mint => {
            if r.from.is_some() {
                return Err(FieldError::new(
                    "from",
                    "a mint creates new money and has no sender: leave `from` out (use a transfer)",
                ));
            }
            (None, Some(address_cow(need(&r.to, "to")?, || "to".into())?))
        }
        _ => (
            Some(address_cow(need(&r.from, "from")?, || "from".into())?),
            Some(address_cow(need(&r.to, "to")?, || "to".into())?),
        ),
    };
    let kind = match kind {
        MoveKind::Native if is_evm_address(&asset) => MoveKind::Token,
        k => k,
    };
    let tx_hash = match &r.tx {
        Some(t) => Some(hash_cow(t, || "tx".into())?),
        None => None,
    };
    out.push(RawRef::Move(MoveRef {
        tx_hash,
        block,
        time: r.time.unwrap_or(0),
        tx_index: r.tx_index.unwrap_or(0),
        seq: r.seq.unwrap_or(0),
        from,
        to,
        asset,
        amount,
        kind,
    }));
    Ok(())
}

fn utxo(r: &Record, out: &mut Vec<RawRef>) -> Result<(), FieldError> {
    let txid = hash(need(&r.txid, "txid")?, || "txid".into())?;
    let block = *need(&r.block, "block")?;
    let asset = match &r.asset {
        Some(a) => asset_name(a, "asset")?,
        None => "BTC".to_string(),
    };
    let listed = need(&r.outputs, "outputs")?;

    let mut inputs = Vec::new();
    for (i, input) in r.inputs.iter().flat_map(|v| v.iter()).enumerate() {
        let prev_txid = hash(&input.txid, || format!("inputs[{i}].txid"))?;
        let addrs = address_list(input.address.as_ref(), input.addresses.as_deref(), || {
            format!("inputs[{i}]")
        })?;
        let owner = (!addrs.is_empty()).then(|| {
            let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
            raw::owner_of(&refs, &prev_txid, input.vout)
        });
        let value = match input.value {
            Some(v) => Some(amount(v, "base units", || format!("inputs[{i}].value"))?),
            None => None,
        };
        inputs.push(RawInput {
            prev_txid,
            vout: input.vout,
            owner,
            value,
        });
    }

    let mut outputs = Vec::with_capacity(listed.len());
    for (j, o) in listed.iter().enumerate() {
        let n = u32::try_from(j)
            .map_err(|_| FieldError::new("outputs", "more outputs than a transaction can hold"))?;
        let addrs = address_list(o.address.as_ref(), o.addresses.as_deref(), || {
            format!("outputs[{j}]")
        })?;
        let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
        outputs.push(RawOutput {
            owner: raw::owner_of(&refs, &txid, n),
            value: amount(o.value, "base units", || format!("outputs[{j}].value"))?,
        });
    }

    out.push(RawRef::Owned(Raw::Utxo(RawUtxoTx {
        txid,
        block: BlockRef::Height(block),
        index: r.index,
        time: r.time.unwrap_or(0),
        coinbase: r.coinbase.unwrap_or(false),
        asset,
        inputs,
        outputs,
    })));
    Ok(())
}

/// `address` or `addresses` (not both) of the input or output at `at`.
fn address_list(
    one: Option<&Text>,
    many: Option<&[Text]>,
    at: impl Fn() -> String,
) -> Result<Vec<String>, FieldError> {
    match (one, many) {
        (Some(_), Some(_)) => Err(FieldError::new(
            format!("{}.addresses", at()),
            "give either `address` or `addresses`, not both",
        )),
        (Some(a), None) => Ok(vec![address(a, || format!("{}.address", at()))?]),
        (None, Some(list)) => list
            .iter()
            .enumerate()
            .map(|(k, a)| address(a, || format!("{}.addresses[{k}]", at())))
            .collect(),
        (None, None) => Ok(Vec::new()),
    }
}

/// Text usable as a name: non-empty, no whitespace, commas or control
/// characters.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && if s.is_ascii() {
            !s.bytes()
                .any(|c| c.is_ascii_whitespace() || c == b',' || c.is_ascii_control())
        } else {
            !s.chars()
                .any(|c| c.is_whitespace() || c == ',' || c.is_control())
        }
}

/// An address of any chain, canonicalised.
fn address(raw: &str, field: impl FnOnce() -> String) -> Result<String, FieldError> {
    if !plain_name(raw) {
        return Err(FieldError::new(
            field(),
            format!(
                "not a valid address: {:?} (an address is non-empty text without spaces or commas)",
                short(raw)
            ),
        ));
    }
    if raw.starts_with("0x") || raw.starts_with("0X") {
        // name the field only when there is an error to report
        return evm_address("", raw).map_err(|e| FieldError::new(field(), e.message));
    }
    Ok(canonical_address(raw))
}

/// What one pass over a name's bytes says, when it is a plain ASCII name
/// (non-empty, no whitespace, commas or control characters); `None` for
/// anything else, which the general checks then handle.
#[inline]
fn plain_ascii(raw: &str) -> Option<Plain> {
    let b = raw.as_bytes();
    // the common case, lower-case hex digits after `0x` or alone (a
    // canonical address or hash), in one quick check
    let (prefixed, rest) = match b.strip_prefix(b"0x") {
        Some(rest) => (true, rest),
        None => (false, b),
    };
    if lower_hex(rest) {
        // (every byte of such a name is a hex digit, a letter or digit)
        let k = Scan {
            all: HEX | ALNUM,
            any: HEX | ALNUM,
        };
        return Some(Plain {
            prefixed,
            hex_digits: true,
            upper: false,
            evm: prefixed && rest.len() == 40,
            bech32: !prefixed && bech32_like(b, k),
        });
    }
    let (head, digits) = match b {
        [b'0', b'x' | b'X', rest @ ..] => (&b[..2], rest),
        _ => (&b[..0], b),
    };
    let (h, d) = (scan(head), scan(digits));
    if b.is_empty() || (h.any | d.any) & (BAD | NONASCII) != 0 {
        return None;
    }
    let hex_digits = !digits.is_empty() && d.all & HEX != 0;
    Some(Plain {
        prefixed: !head.is_empty(),
        hex_digits,
        upper: (h.any | d.any) & UPPER != 0,
        evm: !head.is_empty() && hex_digits && digits.len() == 40,
        bech32: head.is_empty() && bech32_like(b, d),
    })
}

/// A plain ASCII name, looked at once.
struct Plain {
    /// Starts with `0x` or `0X`.
    prefixed: bool,
    /// After that prefix, one or more hex digits and nothing else.
    hex_digits: bool,
    /// Lower-casing changes it.
    upper: bool,
    /// An EVM address: `0x` (or `0X`) and 40 hex digits.
    evm: bool,
    /// Unprefixed, and bech32 by [`bech32_like`].
    bech32: bool,
}

/// [`address`], borrowed from the record when already canonical.
fn address_cow<'a>(t: &Text<'a>, field: impl FnOnce() -> String) -> Result<Str<'a>, FieldError> {
    lift(t, |raw| match plain_ascii(raw) {
        // an EVM address: 0x and 40 hex digits
        Some(p) if p.prefixed => match p.evm {
            true => Ok(lowered(raw, p.upper)),
            false => address(raw, field).map(Cow::Owned),
        },
        // as `canonical_address` (which trims nothing here): bech32 is
        // lower-cased, anything else kept
        Some(p) => Ok(match p.bech32 {
            true => lowered(raw, p.upper),
            false => Cow::Borrowed(raw),
        }),
        None => address(raw, field).map(Cow::Owned),
    })
}

/// [`asset_name`], borrowed from the record when already canonical.
fn asset_name_cow<'a>(t: &Text<'a>, field: &str) -> Result<Str<'a>, FieldError> {
    lift(t, |raw| match plain_ascii(raw) {
        Some(p) if p.prefixed => match p.evm {
            true => Ok(lowered(raw, p.upper)),
            false => asset_name(raw, field).map(Cow::Owned),
        },
        Some(_) => Ok(Cow::Borrowed(raw)),
        None => asset_name(raw, field).map(Cow::Owned),
    })
}

/// [`hash`], borrowed from the record when already canonical.
fn hash_cow<'a>(t: &Text<'a>, field: impl FnOnce() -> String) -> Result<Str<'a>, FieldError> {
    lift(t, |raw| match plain_ascii(raw) {
        Some(p) if p.hex_digits && p.upper => Ok(Cow::Owned(raw.to_ascii_lowercase())),
        Some(_) => Ok(Cow::Borrowed(raw)),
        None => hash(raw, field).map(Cow::Owned),
    })
}

/// An asset name: a contract address (lower-cased) or a plain name.
fn asset_name(raw: &str, field: &str) -> Result<String, FieldError> {
    if !plain_name(raw) {
        return Err(FieldError::new(
            field,
            format!(
                "not a valid asset: {:?} (use ETH, BTC, a token contract address, or another name without spaces or commas)",
                short(raw)
            ),
        ));
    }
    if raw.starts_with("0x") || raw.starts_with("0X") {
        if !is_evm_address(raw) {
            return Err(FieldError::new(
                field,
                format!(
                    "not a valid token contract address: {:?} (expected 0x and 40 hex digits)",
                    short(raw)
                ),
            ));
        }
        return Ok(raw.to_ascii_lowercase());
    }
    Ok(raw.to_string())
}

/// A transaction hash: hex hashes lower-cased, others kept as given.
fn hash(raw: &str, field: impl FnOnce() -> String) -> Result<String, FieldError> {
    if !plain_name(raw) {
        return Err(FieldError::new(
            field(),
            format!(
                "not a valid hash: {:?} (expected text without spaces or commas)",
                short(raw)
            ),
        ));
    }
    let digits = raw
        .strip_prefix("0x")
        .or_else(|| raw.strip_prefix("0X"))
        .unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Ok(raw.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::tests::{same_either_way, SAMPLES};
    use super::*;

    const EXAMPLES: &str = include_str!("../../fixtures/native/example.jsonl");

    fn one(text: &str) -> Result<Raw, FieldError> {
        let mut out = Vec::new();
        parse(text, &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.remove(0))
    }

    const A: &str = "0x1111111111111111111111111111111111111111";
    const B: &str = "0x2222222222222222222222222222222222222222";

    #[test]
    fn every_fixture_record_parses() {
        let mut out = Vec::new();
        for (n, line) in EXAMPLES
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            parse(line, &mut out).unwrap_or_else(|e| panic!("line {}: {e:?}", n + 1));
        }
        let kinds: Vec<&str> = out
            .iter()
            .map(|r| match r {
                Raw::Move(m) => m.kind.name(),
                Raw::Utxo(_) => "utxo",
                Raw::Asset(_) => "asset",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["native", "fee", "token", "mint", "asset", "utxo", "utxo"]
        );
    }

    #[test]
    fn module_doc_examples_parse() {
        let doc = include_str!("native.rs");
        let examples: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("//! {"))
            .collect();
        assert_eq!(examples.len(), 5);
        for e in examples {
            let text = format!("{{{e}");
            one(&text).unwrap_or_else(|err| panic!("{text}: {err:?}"));
        }
    }

    #[test]
    fn transfer_of_the_native_coin() {
        let r = one(&format!(
            r#"{{"kind":"transfer","block":12,"time":1683029999,"tx":"0xAB12","tx_index":3,"seq":2,"from":"{}","to":"{B}","asset":"ETH","amount":"1000"}}"#,
            A.to_uppercase().replace("0X", "0x")
        ))
        .unwrap();
        assert_eq!(
            r,
            Raw::Move(RawMove {
                tx_hash: Some("0xab12".into()),
                block: 12,
                time: 1683029999,
                tx_index: 3,
                seq: 2,
                from: Some(A.into()),
                to: Some(B.into()),
                asset: "ETH".into(),
                amount: 1000,
                kind: MoveKind::Native,
            })
        );
    }

    #[test]
    fn transfer_of_a_token_with_defaults_and_a_huge_integer() {
        let r = one(&format!(
            r#"{{"kind":"transfer","block":5,"from":"{A}","to":"{B}","asset":"0xDAC17F958D2EE523A2206206994597C13D831EC7","amount":7790000000000000000000000000000}}"#
        ))
        .unwrap();
        assert_eq!(
            r,
            Raw::Move(RawMove {
                tx_hash: None,
                block: 5,
                time: 0,
                tx_index: 0,
                seq: 0,
                from: Some(A.into()),
                to: Some(B.into()),
                asset: "0xdac17f958d2ee523a2206206994597c13d831ec7".into(),
                amount: 7_790_000_000_000_000_000_000_000_000_000,
                kind: MoveKind::Token,
            })
        );
    }

    #[test]
    fn fee_and_mint() {
        let Raw::Move(fee) = one(&format!(
            r#"{{"kind":"fee","block":12,"tx":"0xab","from":"{A}","asset":"ETH","amount":"21000"}}"#
        ))
        .unwrap() else {
            panic!("not a move")
        };
        assert_eq!(
            (fee.kind, fee.from.as_deref(), fee.to, fee.amount),
            (MoveKind::Fee, Some(A), None, 21000)
        );

        let Raw::Move(mint) = one(&format!(
            r#"{{"kind":"mint","block":12,"to":"{B}","asset":"ETH","amount":"2000000000000000000"}}"#
        ))
        .unwrap() else {
            panic!("not a move")
        };
        assert_eq!(
            (mint.kind, mint.from, mint.to.as_deref(), mint.amount),
            (MoveKind::Mint, None, Some(B), 2_000_000_000_000_000_000)
        );

        let e = one(&format!(
            r#"{{"kind":"fee","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":1}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field, "to");
        let e = one(&format!(
            r#"{{"kind":"mint","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":1}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field, "from");
    }

    #[test]
    fn utxo_transaction() {
        let tx1 = "AA".repeat(32);
        let tx0 = "bb".repeat(32);
        let r = one(&format!(
            r#"{{"kind":"utxo","txid":"{tx1}","block":7,"index":1,"time":0,"asset":"BTC","coinbase":false,
                "inputs":[{{"txid":"{tx0}","vout":0,"address":"1Alice","value":"5000"}},{{"txid":"{tx0}","vout":1}}],
                "outputs":[{{"address":"1Bob","value":"4000"}},{{"addresses":["1C","BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"],"value":500}},{{"value":0}}]}}"#
        ))
        .unwrap();
        let tx1 = tx1.to_lowercase();
        assert_eq!(
            r,
            Raw::Utxo(RawUtxoTx {
                txid: tx1.clone(),
                block: BlockRef::Height(7),
                index: Some(1),
                time: 0,
                coinbase: false,
                asset: "BTC".into(),
                inputs: vec![
                    RawInput {
                        prev_txid: tx0.clone(),
                        vout: 0,
                        owner: Some("1Alice".into()),
                        value: Some(5000)
                    },
                    RawInput {
                        prev_txid: tx0.clone(),
                        vout: 1,
                        owner: None,
                        value: None
                    },
                ],
                outputs: vec![
                    RawOutput {
                        owner: "1Bob".into(),
                        value: 4000
                    },
                    RawOutput {
                        owner: "1C,bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".into(),
                        value: 500
                    },
                    RawOutput {
                        owner: format!("nonstandard:{tx1}:2"),
                        value: 0
                    },
                ],
            })
        );
    }

    #[test]
    fn utxo_defaults() {
        let Raw::Utxo(u) =
            one(r#"{"kind":"utxo","txid":"t1","block":3,"outputs":[{"address":"X","value":1}]}"#)
                .unwrap()
        else {
            panic!("not utxo")
        };
        assert_eq!(
            (
                u.asset.as_str(),
                u.index,
                u.time,
                u.coinbase,
                u.inputs.len()
            ),
            ("BTC", None, 0, false, 0)
        );
    }

    #[test]
    fn asset_metadata() {
        assert_eq!(
            one(r#"{"kind":"asset","asset":"0xDAC17F958D2EE523A2206206994597C13D831EC7","symbol":"USDT","decimals":6}"#)
                .unwrap(),
            Raw::Asset(RawAsset {
                asset: "0xdac17f958d2ee523a2206206994597c13d831ec7".into(),
                symbol: Some("USDT".into()),
                decimals: Some(6)
            })
        );
        let e = one(r#"{"kind":"asset","asset":"X","decimals":300}"#).unwrap_err();
        assert_eq!(e.field, "decimals");
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(String, &str, &str)> = vec![
            (r#"{"kind":"swap","amount":1}"#.into(), "kind", "transfer, fee, mint, utxo, asset"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":"1.5"}}"#), "amount", "whole number"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":-1}}"#), "amount", "negative"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":"340282366920938463463374607431768211456"}}"#), "amount", "too large"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"ETH"}}"#), "amount", "missing"),
            (format!(r#"{{"kind":"transfer","from":"{A}","to":"{B}","asset":"ETH","amount":1}}"#), "block", "missing"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"0x12","to":"{B}","asset":"ETH","amount":1}}"#), "from", "EVM"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"a b","asset":"ETH","amount":1}}"#), "to", "\"a b\""),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"a,b","asset":"ETH","amount":1}}"#), "to", "commas"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"","asset":"ETH","amount":1}}"#), "to", "non-empty"),
            (format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"0xdac1","amount":1}}"#), "asset", "contract"),
            (format!(r#"{{"kind":"transfer","block":"1","from":"{A}","to":"{B}","asset":"ETH","amount":1}}"#), "block", "found string"),
            (r#"{"kind":"utxo","txid":"t","block":1,"outputs":[{"address":"A","value":1},{"address":"B","value":"x"}]}"#.into(), "outputs[1].value", "not an amount"),
            (r#"{"kind":"utxo","txid":"t","block":1,"outputs":[{"address":"A","addresses":["A"],"value":1}]}"#.into(), "outputs[0].addresses", "not both"),
            (r#"{"kind":"utxo","txid":"t","block":1,"outputs":[{"addresses":["A","B C"],"value":1}]}"#.into(), "outputs[0].addresses[1]", "not a valid address"),
            (r#"{"kind":"utxo","txid":"t","block":1,"inputs":[{"txid":"p"}],"outputs":[]}"#.into(), "inputs[0].vout", "missing"),
            (r#"{"kind":"utxo","txid":"t","block":1}"#.into(), "outputs", "missing"),
            (r#"{"block":1}"#.into(), "kind", "missing"),
        ];
        for (text, field, words) in cases {
            let e = one(&text).unwrap_err();
            assert_eq!(e.field, field, "{text}: {e:?}");
            assert!(e.message.contains(words), "{text}: {e:?}");
        }
    }

    /// Addresses, assets and hashes of every shape the checks tell apart
    /// (beside the address samples the field helpers are tested on).
    const NAMES: &[&str] = &[
        "0x098b716b8aaf21512996dc57eb0615e2383e2f966",
        "0x",
        "0xAB",
        "Bc1Qar0s",
        "ETH",
        "eth",
        "A,B",
        "a\tb",
        "0xAB12CD34EF56AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12CD34EF56ABCD",
        "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56abcd",
        "tx-7",
        "bc1ab12cd34ef",
        "BC1AB12CD34EF",
        "0x0",
        "0x0g",
    ];

    fn names() -> impl Iterator<Item = &'static str> {
        SAMPLES.iter().chain(NAMES).copied()
    }

    /// Each name borrowed from the record is what the owned checks make of
    /// it, and stays borrowed exactly when they change nothing (and it is
    /// ASCII).
    #[test]
    fn borrowed_names_are_the_owned_checks() {
        let field = || "f".to_string();
        for s in names() {
            let t = Text(Cow::Borrowed(s));
            let pairs = [
                (address_cow(&t, field), address(s, field)),
                (asset_name_cow(&t, "f"), asset_name(s, "f")),
                (hash_cow(&t, field), hash(s, field)),
            ];
            for (k, (cow, owned)) in pairs.into_iter().enumerate() {
                match (cow, owned) {
                    (Ok(c), Ok(o)) => {
                        assert_eq!(c, o, "{k} {s:?}");
                        // (non-ASCII text always takes the owned checks)
                        let borrowed = matches!(c, Cow::Borrowed(_));
                        assert_eq!(borrowed, c == *s && s.is_ascii(), "{k} {s:?}");
                    }
                    (Err(a), Err(b)) => assert_eq!(a.message, b.message, "{k} {s:?}"),
                    (c, o) => panic!("{k} {s:?}: {c:?} against {o:?}"),
                }
            }
        }
    }

    /// [`parse_ref`]'s first try, for movements with plain strings, gives
    /// what reading every record as a [`Record`] gives.
    fn same_as_record(text: &str) {
        same_either_way(text, parse_ref, parse_record);
        // and the plain reader reads what serde reads, when it reads at all
        if let Some(m) = plain_move(text) {
            let serde = serde_json::from_str::<PlainMove>(text)
                .ok()
                .and_then(PlainMove::movement);
            assert_eq!(Some(m), serde, "{text}");
        }
    }

    /// Every movement line of the bundled native ledgers (the shape
    /// fundtrail writes) is read by the plain reader, not by serde.
    #[test]
    fn written_movements_take_the_plain_path() {
        let ledger = include_str!("../../fixtures/synth/background/ledger.jsonl");
        let mut n = 0;
        for line in EXAMPLES.lines().chain(ledger.lines()) {
            let movement = ["transfer", "fee", "mint"]
                .iter()
                .any(|k| line.starts_with(&format!(r#"{{"kind":"{k}""#)));
            if movement {
                assert!(plain_move(line).is_some(), "{line}");
                same_as_record(line);
                n += 1;
            }
        }
        assert!(n > 1000, "{n}");
    }

    #[test]
    fn movements_read_either_way_agree() {
        let mut texts: Vec<String> = EXAMPLES.lines().map(str::to_string).collect();
        let base = format!(
            r#""block":7,"time":9,"tx":"0xAB12","tx_index":2,"seq":1,"from":"{A}","to":"{B}","asset":"ETH","amount":"5""#
        );
        for kind in ["transfer", "fee", "mint", "utxo", "asset", "swap"] {
            for extra in [
                "",
                r#","txid":"t""#,
                r#","txid":null"#,
                r#","index":3"#,
                r#","index":"x""#,
                r#","coinbase":true"#,
                r#","inputs":[]"#,
                r#","inputs":5"#,
                r#","outputs":[{"address":"A","value":1}]"#,
                r#","symbol":"S""#,
                r#","decimals":300"#,
                r#","tx":null"#,
                r#","time":null"#,
                r#","unknown":{"a":[1,2]}"#,
                r#","kind":"fee""#,
            ] {
                texts.push(format!(r#"{{"kind":"{kind}",{base}{extra}}}"#));
                texts.push(format!(r#"{{{base},"kind":"{kind}"{extra}}}"#));
            }
        }
        // escapes, wrong types, names of every shape, in each string field
        for field in ["from", "to", "asset", "tx"] {
            for v in names().map(|n| format!("{n:?}")).chain([
                r#""0x11\u0031""#.into(),
                r#""\u0045TH""#.into(),
                "5".into(),
                "null".into(),
            ]) {
                let fields: Vec<String> = [
                    ("block", "1".to_string()),
                    ("from", format!("{A:?}")),
                    ("to", format!("{B:?}")),
                    ("asset", r#""ETH""#.into()),
                    ("tx", r#""t""#.into()),
                    ("amount", r#""1""#.into()),
                ]
                .into_iter()
                .map(|(k, x)| format!("{k:?}:{}", if k == field { &v } else { &x }))
                .collect();
                texts.push(format!(r#"{{"kind":"transfer",{}}}"#, fields.join(",")));
            }
        }
        for amount in [
            r#""1""#,
            "1",
            r#""0x10""#,
            r#"" 7 ""#,
            r#""1e3""#,
            r#""-0""#,
            r#""1.5""#,
            r#""""#,
            "null",
            "[]",
        ] {
            texts.push(format!(r#"{{"kind":"transfer","block":1,"from":"{A}","to":"{B}","asset":"ETH","amount":{amount}}}"#));
        }
        for t in &texts {
            same_as_record(t);
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut out = Vec::new();
        for t in [
            "",
            "null",
            "[]",
            "{",
            "1",
            r#"{"kind":5}"#,
            r#"{"kind":"utxo","outputs":{}}"#,
        ] {
            assert!(parse(t, &mut out).is_err(), "{t}");
        }
        assert!(out.is_empty());
    }
}
