//! ethereum-etl records (`transaction`, `token_transfer`, `trace`, `token`),
//! one JSON record at a time, into normalised [`Raw`] records (SPEC.md §1).
//!
//! Owns what ethereum-etl's fields mean; the field rules (exact amounts, EVM
//! addresses, field errors) are in `fields`, shared with the Etherscan
//! parser. It keeps no state between records and does no IO: ordering,
//! de-duplication and joining traces to their transactions belong to `build`.

use super::fields::{
    amount, decode_object, evm_address, fee, given, hash_field_cow, keep_null, lenient_decimals,
    lenient_symbol, lift, need, need_evm_address, need_text, opt_evm_address_cow, opt_text,
    parse_index_list, short, timestamp, trimmed, uint, RawJson, Text,
};
use super::plain;
use super::raw::{
    AccountTxRef, FieldError, InternalRef, Raw, RawAsset, RawRef, TokenTransferRef, TraceSource,
};
#[cfg(test)]
use super::raw::{RawAccountTx, RawInternal, RawTokenTransfer};
use std::borrow::Cow;

/// [`Record`] and [`PlainRecord`], declared from one list of fields (each
/// with its serde attributes and its kind: `text`, `raw`, or either
/// `_or_null`), so that the two cannot differ, and the conversion of a
/// [`PlainRecord`] into the [`Record`] it reads the same as.
macro_rules! records {
    ($( $(#[$attr:meta])* $field:ident $(= $key:literal)?: $kind:ident, )*) => {
        /// One ethereum-etl record of any kind: the union of the fields
        /// fundtrail reads, so a record is deserialised in one typed pass
        /// whatever its kind. Numbers are kept as raw JSON text
        /// (`RawValue`) because exports write them as integers or strings
        /// and values exceed 2^64.
        #[derive(Default, serde::Deserialize)]
        #[serde(default, expecting = "an ethereum-etl record (a JSON object)")]
        struct Record<'a> {
            $( $(#[$attr])* $field: records!(@type $kind, Text<'a>, 'a), )*
        }

        /// [`Record`] with its strings as `&str`, which serde reads faster
        /// than [`Text`] and which is far smaller to move: a record whose
        /// strings hold no escapes reads the same either way (one that
        /// does fails here, and is read as a [`Record`]).
        #[derive(Default, Debug, PartialEq, serde::Deserialize)]
        #[serde(default)]
        struct PlainRecord<'a> {
            $( $(#[$attr])* $field: records!(@type $kind, &'a str, 'a), )*
        }

        /// A [`PlainRecord`] read by the plain reader, when the record is
        /// in its shape (`None`, to be read by serde, otherwise): each
        /// field as serde reads it, null included; other keys passed over.
        fn plain_record(text: &str) -> Option<PlainRecord<'_>> {
            #[derive(Default)]
            struct Seen {
                $( $field: bool, )*
            }
            let mut r = PlainRecord::default();
            let mut seen = Seen::default();
            plain::object(text, |key, v| {
                match key {
                    $( records!(@key $field $($key)?) => {
                        // (serde refuses a repeated field)
                        if std::mem::replace(&mut seen.$field, true) {
                            return None;
                        }
                        r.$field = records!(@plain $kind, v);
                    } )*
                    _ => v.skip(0)?,
                }
                Some(())
            })?;
            Some(r)
        }

        impl<'a> PlainRecord<'a> {
            fn into_record(self) -> Record<'a> {
                let text = |s: &'a str| Text(Cow::Borrowed(s));
                Record {
                    $( $field: records!(@into $kind, self.$field, text), )*
                }
            }
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident $key:literal) => { $key };
    (@plain text, $v:ident) => { $v.or_null(|v| v.string())? };
    (@plain text_or_null, $v:ident) => { Some($v.or_null(|v| v.string())?) };
    (@plain raw, $v:ident) => { $v.or_null(|v| v.raw().map(RawJson))? };
    (@plain raw_or_null, $v:ident) => { Some($v.or_null(|v| v.raw().map(RawJson))?) };
    (@type text, $s:ty, $a:lifetime) => { Option<$s> };
    (@type text_or_null, $s:ty, $a:lifetime) => { Option<Option<$s>> };
    (@type raw, $s:ty, $a:lifetime) => { Option<RawJson<$a>> };
    (@type raw_or_null, $s:ty, $a:lifetime) => { Option<Option<RawJson<$a>>> };
    (@into text, $v:expr, $t:ident) => { $v.map($t) };
    (@into text_or_null, $v:expr, $t:ident) => { $v.map(|v| v.map($t)) };
    (@into raw, $v:expr, $t:ident) => { $v };
    (@into raw_or_null, $v:expr, $t:ident) => { $v };
}

records! {
    #[serde(rename = "type", borrow)]
    kind = "type": text,
    #[serde(borrow)]
    hash: text,
    #[serde(borrow)]
    transaction_hash: text,
    #[serde(borrow)]
    block_number: raw,
    #[serde(borrow)]
    block_timestamp: raw,
    #[serde(borrow)]
    transaction_index: raw,
    #[serde(borrow)]
    from_address: text,
    #[serde(borrow)]
    to_address: text,
    #[serde(borrow)]
    value: raw,
    #[serde(borrow)]
    gas_price: raw,
    #[serde(borrow)]
    receipt_gas_used: raw,
    #[serde(borrow)]
    receipt_effective_gas_price: raw,
    #[serde(borrow)]
    receipt_status: raw,
    #[serde(borrow)]
    receipt_contract_address: text,
    // Fields whose mere presence (even as null) tells the kind of a record
    // without `type` keep null apart from absent: `Some(None)` is null.
    #[serde(borrow, deserialize_with = "keep_null")]
    token_address: text_or_null,
    #[serde(borrow, deserialize_with = "keep_null")]
    log_index: raw_or_null,
    #[serde(borrow, deserialize_with = "keep_null")]
    trace_type: text_or_null,
    #[serde(borrow, deserialize_with = "keep_null")]
    trace_address: raw_or_null,
    #[serde(borrow)]
    call_type: text,
    #[serde(borrow)]
    reward_type: text,
    #[serde(borrow)]
    trace_id: text,
    #[serde(borrow)]
    trace_index: raw,
    #[serde(borrow)]
    status: raw,
    #[serde(borrow)]
    error: raw,
    #[serde(borrow, deserialize_with = "keep_null")]
    address: text_or_null,
    // Token metadata is never a reason to refuse a record: raw, read leniently.
    #[serde(borrow, deserialize_with = "keep_null")]
    symbol: raw_or_null,
    #[serde(borrow, deserialize_with = "keep_null")]
    decimals: raw_or_null,
}

enum Kind {
    Transaction,
    TokenTransfer,
    Trace,
    Token,
    /// Blocks, logs, contracts, receipts: read, nothing to ingest.
    NoValue,
}

/// Parse one ethereum-etl record's JSON text into normalised records.
pub fn parse(text: &str, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    super::raw::parse_owned(text, out, parse_ref)
}

/// [`parse`], with the strings of transactions and token transfers borrowed
/// from `text` where they are already canonical.
pub fn parse_ref<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    // plain strings first (the plain reader, then serde for what it steps
    // aside from); an escape or any error reads it again as a `Record`,
    // which says what is wrong (and refuses a JSON array)
    let plain = text
        .starts_with('{')
        .then(|| plain_record(text).or_else(|| serde_json::from_str::<PlainRecord<'a>>(text).ok()))
        .flatten();
    match plain {
        Some(p) => lower_record(&p.into_record(), out),
        None => parse_record(text, out),
    }
}

/// [`parse_ref`] the general way: the record read as a [`Record`].
fn parse_record<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    lower_record(&decode_object(text, "an ethereum-etl record")?, out)
}

/// The records a decoded record stands for.
fn lower_record<'a>(r: &Record<'a>, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    match kind(r)? {
        Kind::Transaction => out.push(RawRef::AccountTx(transaction(r)?)),
        Kind::TokenTransfer => out.push(RawRef::Token(token_transfer(r)?)),
        Kind::Trace => out.push(RawRef::Internal(trace(r)?)),
        Kind::Token => out.push(RawRef::Owned(token(r)?)),
        Kind::NoValue => {}
    }
    Ok(())
}

fn kind(r: &Record) -> Result<Kind, FieldError> {
    if let Some(t) = &r.kind {
        return match t.as_str() {
            "transaction" => Ok(Kind::Transaction),
            "token_transfer" => Ok(Kind::TokenTransfer),
            "trace" => Ok(Kind::Trace),
            "token" => Ok(Kind::Token),
            "block" | "log" | "contract" | "receipt" => Ok(Kind::NoValue),
            other => Err(FieldError::new(
                "type",
                format!(
                    "unknown ethereum-etl record type {:?}: fundtrail reads transaction, \
                     token_transfer, trace and token records (block, log, contract and \
                     receipt records carry no value and are skipped)",
                    short(other)
                ),
            )),
        };
    }
    // Exports without `type` (CSV conversions, BigQuery tables): the key shape
    // says which table a record came from.
    Ok(if r.trace_address.is_some() || r.trace_type.is_some() {
        Kind::Trace
    } else if r.token_address.is_some() && r.log_index.is_some() {
        Kind::TokenTransfer
    } else if r.symbol.is_some() && r.decimals.is_some() && r.address.is_some() {
        Kind::Token
    } else {
        Kind::Transaction
    })
}

fn transaction<'a>(r: &Record<'a>) -> Result<AccountTxRef<'a>, FieldError> {
    let hash = hash_field_cow("hash", r.hash.as_ref())?;
    let block = uint("block_number", need("block_number", r.block_number)?)?;
    let time = match given(r.block_timestamp) {
        Some(t) => timestamp("block_timestamp", t)?,
        None => 0,
    };
    let tx_index = uint(
        "transaction_index",
        need("transaction_index", r.transaction_index)?,
    )?;
    let from = need_evm_address("from_address", r.from_address.as_ref())?;
    let to = match opt_evm_address_cow("to_address", r.to_address.as_ref())? {
        Some(a) => Some(a),
        None => opt_evm_address_cow(
            "receipt_contract_address",
            r.receipt_contract_address.as_ref(),
        )?,
    };
    let value = amount(need("value", r.value)?, "wei", || "value".into())?;
    // Pre-Byzantium receipts have no status (null): not known to have failed.
    let failed = match given(r.receipt_status) {
        Some(s) => uint::<u64>("receipt_status", s)? == 0,
        None => false,
    };
    let fee = match given(r.receipt_gas_used) {
        None => None,
        Some(gas) => {
            let price = match given(r.receipt_effective_gas_price) {
                Some(p) => Some(("receipt_effective_gas_price", p)),
                None => given(r.gas_price).map(|p| ("gas_price", p)),
            };
            match price {
                Some((price_field, p)) => Some(fee(
                    "receipt_gas_used",
                    amount(gas, "gas units", || "receipt_gas_used".into())?,
                    amount(p, "wei", || price_field.into())?,
                )?),
                None => None,
            }
        }
    };
    if to.is_none() && value > 0 && !failed {
        return Err(FieldError::new(
            "to_address",
            format!(
                "value moves to no address: neither to_address nor receipt_contract_address \
                 is set, but the transaction moves {value} wei"
            ),
        ));
    }
    let gas_price = match (given(r.gas_price), given(r.receipt_effective_gas_price)) {
        (Some(p), _) => Some(amount(p, "wei", || "gas_price".into())?),
        (None, Some(p)) => Some(amount(p, "wei", || "receipt_effective_gas_price".into())?),
        (None, None) => None,
    };
    Ok(AccountTxRef {
        hash,
        block,
        time,
        tx_index,
        from,
        to,
        value,
        fee,
        failed,
        gas_price,
    })
}

fn token_transfer<'a>(r: &Record<'a>) -> Result<TokenTransferRef<'a>, FieldError> {
    let token_address = r.token_address.as_ref().and_then(|t| t.as_ref());
    Ok(TokenTransferRef {
        tx_hash: hash_field_cow("transaction_hash", r.transaction_hash.as_ref())?,
        log_index: uint("log_index", need("log_index", r.log_index.flatten())?)?,
        block: uint("block_number", need("block_number", r.block_number)?)?,
        time: given(r.block_timestamp)
            .map(|t| timestamp("block_timestamp", t))
            .transpose()?,
        token: need_evm_address("token_address", token_address)?,
        from: need_evm_address("from_address", r.from_address.as_ref())?,
        to: need_evm_address("to_address", r.to_address.as_ref())?,
        value: amount(need("value", r.value)?, "base units", || "value".into())?,
    })
}

fn trace<'a>(r: &Record<'a>) -> Result<InternalRef<'a>, FieldError> {
    let trace_type = need_text("trace_type", r.trace_type.as_ref().and_then(|t| t.as_ref()))?;
    let is = |name: &str| trace_type.eq_ignore_ascii_case(name);
    let reward = is("reward") || is("genesis");
    let block: u64 = uint("block_number", need("block_number", r.block_number)?)?;
    let time = given(r.block_timestamp)
        .map(|t| timestamp("block_timestamp", t))
        .transpose()?;
    // Rewards belong to the block, not to a transaction.
    let (tx_hash, tx_index) = if reward {
        (None, None)
    } else {
        (
            // (absent, null or empty: none)
            hash_field_cow("transaction_hash", r.transaction_hash.as_ref()).ok(),
            given(r.transaction_index)
                .map(|i| uint::<u32>("transaction_index", i))
                .transpose()?,
        )
    };
    let trace_address = trace_address("trace_address", r.trace_address.flatten())?;
    let from = if reward {
        None
    } else {
        opt_evm_address_cow("from_address", r.from_address.as_ref())?
    };
    let to = opt_evm_address_cow("to_address", r.to_address.as_ref())?;
    // Geth-derived traces leave `value` null on calls that cannot carry value.
    let value = match given(r.value) {
        Some(v) => amount(v, "wei", || "value".into())?,
        None => 0,
    };
    let ok = match given(r.status) {
        Some(s) => uint::<u64>("status", s)? == 1,
        None => no_error(r.error),
    };
    let call_type = r.call_type.as_ref().map(|c| c.as_str().trim());
    // delegatecall, callcode and staticcall run code with someone else's value
    // or none: they move no value of their own.
    let plain_call =
        is("call") && call_type.map_or(true, |c| c.is_empty() || c.eq_ignore_ascii_case("call"));
    let moves = ok && value > 0 && (reward || is("create") || is("suicide") || plain_call);
    if moves && to.is_none() {
        return Err(FieldError::new(
            "to_address",
            format!("value moves to no address: this {trace_type} trace moves {value} wei"),
        ));
    }
    if moves && !reward && from.is_none() {
        return Err(FieldError::new(
            "from_address",
            format!("value comes from no address: this {trace_type} trace moves {value} wei"),
        ));
    }
    let given_id = r.trace_id.as_ref().and_then(|t| {
        lift(t, |s| match trimmed(s) {
            "" => Err(()),
            id => Ok(Cow::Borrowed(id)),
        })
        .ok()
    });
    let id = match given_id {
        Some(id) => id,
        // The same id ethereum-etl computes, so a re-export without
        // `trace_id` de-duplicates against one with it.
        None => match &tx_hash {
            Some(h) => Cow::Owned(format!("{trace_type}_{h}_{}", join_address(&trace_address))),
            // Block-scoped (rewards): ethereum-etl numbers them within the
            // block, which one record cannot know; this key is as unique as
            // the record's own content allows.
            None => {
                let mut id = format!(
                    "{trace_type}:{block}:{}:{}:{}:{value}",
                    opt_text(r.reward_type.as_ref()).unwrap_or("-"),
                    from.as_deref().unwrap_or("-"),
                    to.as_deref().unwrap_or("-"),
                );
                if let Some(i) = given(r.trace_index) {
                    id.push(':');
                    id.push_str(&uint::<u64>("trace_index", i)?.to_string());
                }
                Cow::Owned(id)
            }
        },
    };
    Ok(InternalRef {
        source: TraceSource::EthereumEtl,
        id,
        tx_hash,
        block,
        time,
        tx_index,
        trace_address,
        from,
        to,
        value,
        reward,
        moves,
    })
}

fn token(r: &Record) -> Result<Raw, FieldError> {
    let asset = evm_address(
        "address",
        need_text("address", r.address.as_ref().and_then(|a| a.as_ref()))?,
    )?;
    Ok(Raw::Asset(RawAsset {
        asset,
        symbol: lenient_symbol(r.symbol.flatten()),
        decimals: lenient_decimals(r.decimals.flatten()),
    }))
}

fn join_address(a: &[u32]) -> String {
    a.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("_")
}

/// A trace's error field says it failed unless it is absent, null or empty.
fn no_error(error: Option<RawJson>) -> bool {
    error.map_or(true, |e| e.get().trim() == "\"\"")
}

/// A trace address: a JSON list of numbers, `null` (top level), or a string
/// of numbers separated by `,` or `_` (CSV conversions, Etherscan `traceId`).
fn trace_address(field: &str, v: Option<RawJson>) -> Result<Vec<u32>, FieldError> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let raw = v.get().trim();
    let bad = || {
        FieldError::new(
            field,
            format!(
                "not a trace address (a list of whole numbers like [0,1] or \"0,1\"): {}",
                short(raw)
            ),
        )
    };
    if raw.starts_with('[') {
        let items: Vec<RawJson> = serde_json::from_str(raw).map_err(|_| bad())?;
        return items
            .iter()
            .map(|i| {
                crate::amount::parse_integer(i.get())
                    .ok()
                    .and_then(|n| u32::try_from(n).ok())
            })
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(bad);
    }
    let Ok(Text(s)) = serde_json::from_str::<Text>(raw) else {
        return Err(bad());
    };
    parse_index_list(&s).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::super::fields::tests::same_either_way;
    use super::super::fields::utc_seconds;
    use super::*;

    const TRANSACTIONS: &str =
        include_str!("../../fixtures/ethereum-etl/blocks_17173049_17173050_transactions.json");
    const TOKEN_TRANSFERS: &str =
        include_str!("../../fixtures/ethereum-etl/blocks_17173049_17173050_token_transfers.json");
    const TRACES_508110: &str =
        include_str!("../../fixtures/ethereum-etl/blocks_508110_traces.json");
    const TRACES_2112234: &str =
        include_str!("../../fixtures/ethereum-etl/blocks_2112234_traces.json");
    const TOKENS_2112234: &str =
        include_str!("../../fixtures/ethereum-etl/blocks_2112234_tokens.json");

    fn one(text: &str) -> Raw {
        let mut out = Vec::new();
        parse(text, &mut out).unwrap_or_else(|e| panic!("{e:?} in {text}"));
        assert_eq!(out.len(), 1, "{text}");
        out.remove(0)
    }

    fn err(text: &str) -> FieldError {
        let mut out = Vec::new();
        match parse(text, &mut out) {
            Err(e) => e,
            Ok(()) => panic!("accepted {text}: {out:?}"),
        }
    }

    /// [`parse_ref`]'s first try, with plain strings, gives what reading
    /// the record as a [`Record`] gives.
    fn same_as_record(text: &str) {
        same_either_way(text, parse_ref, parse_record);
        // and the plain reader reads what serde reads, when it reads at all
        if let Some(p) = plain_record(text) {
            let serde = serde_json::from_str::<PlainRecord>(text).ok();
            assert_eq!(Some(p), serde, "{text}");
        }
    }

    /// Every line of the real ethereum-etl exports is read by the plain
    /// reader, not by serde.
    #[test]
    fn real_exports_take_the_plain_path() {
        for file in [
            TRANSACTIONS,
            TOKEN_TRANSFERS,
            TRACES_508110,
            TRACES_2112234,
            TOKENS_2112234,
        ] {
            for line in lines(file) {
                assert!(plain_record(line).is_some(), "{line}");
            }
        }
    }

    #[test]
    fn records_read_either_way_agree() {
        let files = [
            TRANSACTIONS,
            TOKEN_TRANSFERS,
            TRACES_508110,
            TRACES_2112234,
            TOKENS_2112234,
        ];
        for file in files {
            for (k, line) in lines(file).enumerate() {
                same_as_record(line);
                if k >= 40 {
                    continue;
                }
                // each string value escaped, emptied, nulled or made a
                // number; the record as an array; without its type
                let v: serde_json::Value = serde_json::from_str(line).expect("fixture JSON");
                let obj = v.as_object().expect("an object");
                for (key, val) in obj {
                    let Some(text) = val.as_str() else { continue };
                    // the same text with its first character escaped
                    // (Value would write it back plain)
                    if let Some(c) = text.bytes().next().filter(u8::is_ascii_alphanumeric) {
                        let escaped = format!("\"\\u00{c:02x}{}\"", &text[1..]);
                        same_as_record(&line.replacen(&format!("\"{text}\""), &escaped, 1));
                    }
                    for new in [
                        format!("\"{text}\\\\\""),
                        format!("\"{}\"", text.to_ascii_uppercase()),
                        format!("\" {text} \""),
                        "\"\"".into(),
                        "null".into(),
                        "7".into(),
                    ] {
                        let mut o = obj.clone();
                        o.insert(key.clone(), serde_json::from_str(&new).expect("JSON"));
                        same_as_record(&serde_json::Value::Object(o).to_string());
                    }
                }
                let mut o = obj.clone();
                o.remove("type");
                same_as_record(&serde_json::Value::Object(o).to_string());
                same_as_record(&format!("[{line}]"));
            }
        }
    }

    fn lines(file: &str) -> impl Iterator<Item = &str> {
        file.lines().filter(|l| !l.trim().is_empty())
    }

    fn line_with<'a>(file: &'a str, needle: &str) -> &'a str {
        lines(file)
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in fixture"))
    }

    fn all(file: &str) -> Vec<Raw> {
        let mut out = Vec::new();
        for (n, l) in lines(file).enumerate() {
            parse(l, &mut out).unwrap_or_else(|e| panic!("line {}: {e:?}", n + 1));
        }
        out
    }

    fn account_tx(r: Raw) -> RawAccountTx {
        match r {
            Raw::AccountTx(t) => t,
            other => panic!("not a transaction: {other:?}"),
        }
    }

    fn internals(file: &str) -> Vec<RawInternal> {
        all(file)
            .into_iter()
            .map(|r| match r {
                Raw::Internal(i) => i,
                other => panic!("not a trace: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn first_transaction_of_block_17173049_pays_gas_used_times_effective_price() {
        let first = lines(TRANSACTIONS).next().unwrap();
        assert_eq!(
            account_tx(one(first)),
            RawAccountTx {
                hash: "0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0".into(),
                block: 17_173_049,
                time: 1_683_029_999,
                tx_index: 0,
                from: "0xae2fc483527b8ef99eb5d9b44875f005ba1fae13".into(),
                to: Some("0x6b75d8af000000e20b7a7ddf000ba900b4009a80".into()),
                value: 1_642_894_143,
                fee: Some(85_143 * 80_869_370_967),
                failed: false,
                gas_price: Some(80_869_370_967),
            }
        );
    }

    #[test]
    fn a_reverted_transaction_is_failed_and_still_pays_its_fee() {
        let tx = account_tx(one(line_with(
            TRANSACTIONS,
            "0x7831885ee487449f4766db92e66fa47ab8a27af0beaca3103146e68fb7b4c19a",
        )));
        assert!(tx.failed);
        assert_eq!(tx.value, 44_371_473_389_270_320);
        assert_eq!(tx.fee, Some(322_696 * 91_922_338_812));
        assert_eq!(tx.tx_index, 25);
    }

    #[test]
    fn a_contract_creation_sends_its_value_to_the_new_contract() {
        let tx = account_tx(one(line_with(
            TRANSACTIONS,
            "0xf9e4ca8a940bd7f192dd12e75b32938f187e8098a41817a8e611448e22cca9cc",
        )));
        assert_eq!(
            tx.to.as_deref(),
            Some("0x303abf64fe75964565d2b44b9e4518e6126f1f0e")
        );
        assert_eq!((tx.block, tx.tx_index), (17_173_050, 115));
    }

    #[test]
    fn the_two_block_sample_has_298_transactions_9_failed_and_exact_totals() {
        let txs: Vec<RawAccountTx> = all(TRANSACTIONS).into_iter().map(account_tx).collect();
        assert_eq!(txs.len(), 298);
        assert_eq!(txs.iter().filter(|t| t.failed).count(), 9);
        let fees: u128 = txs.iter().map(|t| t.fee.unwrap()).sum();
        assert_eq!(fees, 2_362_878_739_684_767_282);
        let value: u128 = txs.iter().map(|t| t.value).sum();
        assert_eq!(value, 82_692_008_376_751_083_333);
    }

    #[test]
    fn a_token_value_above_2_pow_64_is_exact() {
        let r = one(line_with(
            TOKEN_TRANSFERS,
            "7786596450288373164569331648084",
        ));
        assert_eq!(
            r,
            Raw::Token(RawTokenTransfer {
                tx_hash: "0xcaa1eefe9f8e7ed33dbb8b3f9ed8d338d7d58f564e3dde8b72eda39ae6fe2f19"
                    .into(),
                log_index: 81,
                block: 17_173_049,
                time: Some(1_683_029_999),
                token: "0xcd2b042e904a935b2f1f9f3a2a5e73070f24aecc".into(),
                from: "0x14749d61502be607718448f1d6ee74068d7c9fb2".into(),
                to: "0x5f30483631a4233dece123886d3bc4075724fcfd".into(),
                value: 7_786_596_450_288_373_164_569_331_648_084,
            })
        );
    }

    #[test]
    fn all_291_token_transfers_parse_75_of_them_above_2_pow_64() {
        let values: Vec<u128> = all(TOKEN_TRANSFERS)
            .into_iter()
            .map(|r| match r {
                Raw::Token(t) => t.value,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(values.len(), 291);
        assert_eq!(values.iter().filter(|v| **v > u64::MAX as u128).count(), 75);
    }

    #[test]
    fn block_508110_has_four_traces_three_of_them_move_value() {
        let t = internals(TRACES_508110);
        assert_eq!(t.len(), 4);
        assert_eq!(t.iter().filter(|i| i.moves).count(), 3);
        // The contract creation moved no ether: kept, marked as not moving.
        assert_eq!(
            (t[0].id.as_str(), t[0].moves, t[0].value),
            (
                "create_0xcdfc8283894591201a62fcec43553d446a1ec46aaaacd98f69692d5a3ade317c_",
                false,
                0
            )
        );
        assert_eq!(t[1].value, 4_949_989_500_000_000_000);
        assert_eq!(
            t[1].from.as_deref(),
            Some("0xfecab546498f74591d4f6d448a4a63552850f122")
        );
        assert_eq!(t[1].tx_index, Some(1));
        let reward = &t[2];
        assert!(reward.reward && reward.moves);
        assert_eq!(
            (
                reward.from.as_ref(),
                reward.tx_hash.as_ref(),
                reward.tx_index
            ),
            (None, None, None)
        );
        assert_eq!(
            reward.to.as_deref(),
            Some("0x2a65aca4d5fc5b5c859090a6c34d164135398226")
        );
        assert_eq!(
            (reward.value, reward.id.as_str()),
            (5_156_250_000_000_000_000, "reward_508110_0")
        );
        assert_eq!(reward.time, Some(1_446_973_196));
        let minted: u128 = t.iter().filter(|i| i.reward).map(|i| i.value).sum();
        assert_eq!(
            minted,
            5_156_250_000_000_000_000 + 3_750_000_000_000_000_000
        );
    }

    #[test]
    fn block_2112234_has_two_traces_only_the_block_reward_moves_value() {
        let t = internals(TRACES_2112234);
        assert_eq!(t.len(), 2);
        let moving: Vec<_> = t.iter().filter(|i| i.moves).collect();
        assert_eq!(moving.len(), 1);
        assert!(moving[0].reward);
        assert_eq!(moving[0].value, 5_000_000_000_000_000_000);
    }

    #[test]
    fn a_token_without_a_symbol_has_decimals_zero() {
        assert_eq!(
            all(TOKENS_2112234),
            vec![Raw::Asset(RawAsset {
                asset: "0xdbdacfc9eb9d42559ac1efbdb40460c728139e6a".into(),
                symbol: None,
                decimals: Some(0),
            })]
        );
    }

    #[test]
    fn token_metadata_is_trimmed_and_odd_decimals_read_as_unknown() {
        let t = r#"{"type":"token","address":"0xA0b86991c6218b36c1d19d4a2e9eb0ce3606eB48","symbol":" USDC ","decimals":"6"}"#;
        assert_eq!(
            one(t),
            Raw::Asset(RawAsset {
                asset: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48".into(),
                symbol: Some("USDC".into()),
                decimals: Some(6),
            })
        );
        for odd in [r#""18.5""#, "300", r#""many""#, "null", "{}"] {
            let t = format!(
                r#"{{"type":"token","address":"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48","symbol":"\u00e9T","decimals":{odd}}}"#
            );
            match one(&t) {
                Raw::Asset(a) => {
                    assert_eq!(a.decimals, None, "{odd}");
                    assert_eq!(a.symbol.as_deref(), Some("éT"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn unknown_receipt_means_unknown_fee_and_gas_price_stands_in_for_the_effective_price() {
        let base = r#""type":"transaction","hash":"0xAB","block_number":"5","transaction_index":2,"from_address":"0x1111111111111111111111111111111111111111","to_address":"0x2222222222222222222222222222222222222222","value":"7""#;
        let tx = account_tx(one(&format!(r#"{{{base},"receipt_gas_used":null}}"#)));
        assert_eq!(
            (tx.fee, tx.time, tx.hash.as_str(), tx.block),
            (None, 0, "0xab", 5)
        );
        let tx = account_tx(one(&format!(
            r#"{{{base},"receipt_gas_used":21000,"gas_price":"3","receipt_effective_gas_price":null}}"#
        )));
        assert_eq!(tx.fee, Some(63_000));
    }

    #[test]
    fn value_sent_to_no_address_is_refused_unless_the_transaction_failed() {
        let t = r#"{"type":"transaction","hash":"0x1","block_number":1,"transaction_index":0,"from_address":"0x1111111111111111111111111111111111111111","to_address":null,"receipt_contract_address":null,"value":5,"receipt_status":1}"#;
        let e = err(t);
        assert_eq!(e.field, "to_address");
        assert!(e
            .message
            .contains("neither to_address nor receipt_contract_address"));
        let failed = t.replace(r#""receipt_status":1"#, r#""receipt_status":0"#);
        assert!(account_tx(one(&failed)).failed);
    }

    #[test]
    fn a_malformed_address_is_refused_naming_the_field() {
        let first = lines(TRANSACTIONS).next().unwrap();
        let bad = first.replace(
            "0xae2fc483527b8ef99eb5d9b44875f005ba1fae13",
            "0xae2fc483527b8ef99eb5d9b44875f005ba1fae1",
        );
        let e = err(&bad);
        assert_eq!(e.field, "from_address");
        assert!(
            e.message
                .contains("0xae2fc483527b8ef99eb5d9b44875f005ba1fae1"),
            "{}",
            e.message
        );
        let e = err(&first.replace(
            r#""to_address": "0x6b75d8af000000e20b7a7ddf000ba900b4009a80""#,
            r#""to_address": "bob""#,
        ));
        assert_eq!(e.field, "to_address");
    }

    #[test]
    fn an_amount_above_2_pow_128_is_refused_naming_the_field() {
        let t = line_with(TOKEN_TRANSFERS, "7786596450288373164569331648084");
        let e = err(&t.replace(
            "7786596450288373164569331648084",
            "340282366920938463463374607431768211456",
        ));
        assert_eq!(e.field, "value");
        assert!(e
            .message
            .contains("340282366920938463463374607431768211456"));
        assert!(e.message.contains("2^128-1"));
    }

    #[test]
    fn a_fee_overflowing_128_bits_is_refused() {
        let first = lines(TRANSACTIONS).next().unwrap();
        let e = err(&first.replace(
            r#""receipt_effective_gas_price": 80869370967"#,
            r#""receipt_effective_gas_price": 340282366920938463463374607431768211455"#,
        ));
        assert_eq!(e.field, "receipt_gas_used");
        assert!(e.message.contains("fee"), "{}", e.message);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_by_its_path() {
        let e = err(r#"{"type":"transaction","hash":17,"block_number":1}"#);
        assert_eq!(e.field, "hash");
        assert!(
            e.message.starts_with("wrong type: integer `17`"),
            "{}",
            e.message
        );
        let e = err(r#"{"type":"transaction","hash":"0x1","#);
        assert_eq!(e.field, "");
        let e = err("[1,2]");
        assert!(e.message.contains("ethereum-etl record"), "{}", e.message);
        let e = err(r#"{"type":"transaction","hash":"0x1","block_number":"twelve"}"#);
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("block_number", r#"not a whole number: "twelve""#)
        );
    }

    #[test]
    fn records_without_type_are_told_apart_by_their_keys() {
        // A trace from a CSV conversion: trace_address as text, status absent.
        let trace = r#"{"transaction_hash":"0xABC","block_number":"9","transaction_index":"3","from_address":"0x1111111111111111111111111111111111111111","to_address":"0x2222222222222222222222222222222222222222","value":"10","trace_type":"call","call_type":"call","trace_address":"0,1","error":""}"#;
        match one(trace) {
            Raw::Internal(i) => {
                assert_eq!(i.id, "call_0xabc_0_1");
                assert_eq!(i.trace_address, vec![0, 1]);
                assert_eq!((i.tx_index, i.moves, i.reward), (Some(3), true, false));
            }
            other => panic!("{other:?}"),
        }
        let transfer = r#"{"token_address":"0x3333333333333333333333333333333333333333","from_address":"0x1111111111111111111111111111111111111111","to_address":"0x2222222222222222222222222222222222222222","value":"1000000000000000000000000","transaction_hash":"0xabc","log_index":4,"block_number":9}"#;
        assert!(matches!(one(transfer), Raw::Token(t) if t.log_index == 4 && t.time.is_none()));
        let token = r#"{"address":"0x3333333333333333333333333333333333333333","symbol":"T","decimals":18}"#;
        assert!(matches!(one(token), Raw::Asset(a) if a.decimals == Some(18)));
        let tx = r#"{"hash":"0xabc","block_number":9,"transaction_index":0,"from_address":"0x1111111111111111111111111111111111111111","to_address":"0x2222222222222222222222222222222222222222","value":0}"#;
        assert!(matches!(one(tx), Raw::AccountTx(_)));
    }

    #[test]
    fn blocks_logs_contracts_and_receipts_carry_no_value() {
        for kind in ["block", "log", "contract", "receipt"] {
            let mut out = Vec::new();
            parse(&format!(r#"{{"type":"{kind}","number":1}}"#), &mut out).unwrap();
            assert!(out.is_empty());
        }
        assert_eq!(err(r#"{"type":"geth_trace"}"#).field, "type");
    }

    #[test]
    fn only_successful_plain_calls_creates_suicides_and_rewards_move_value() {
        let trace = |extra: &str| {
            format!(
                r#"{{"type":"trace","transaction_hash":"0xab","block_number":1,"transaction_index":0,"from_address":"0x1111111111111111111111111111111111111111","to_address":"0x2222222222222222222222222222222222222222","value":5,"trace_address":[2,0],{extra}}}"#
            )
        };
        let moves = |extra: &str| match one(&trace(extra)) {
            Raw::Internal(i) => i.moves,
            other => panic!("{other:?}"),
        };
        assert!(moves(
            r#""trace_type":"call","call_type":"call","status":1"#
        ));
        assert!(moves(r#""trace_type":"call","status":1"#));
        assert!(moves(r#""trace_type":"suicide","status":1"#));
        assert!(moves(r#""trace_type":"create","error":null"#));
        assert!(!moves(
            r#""trace_type":"call","call_type":"delegatecall","status":1"#
        ));
        assert!(!moves(
            r#""trace_type":"call","call_type":"staticcall","status":1"#
        ));
        assert!(!moves(
            r#""trace_type":"call","call_type":"callcode","status":1"#
        ));
        assert!(!moves(
            r#""trace_type":"call","call_type":"call","status":0"#
        ));
        assert!(!moves(r#""trace_type":"call","error":"Reverted""#));
        match one(&trace(r#""trace_type":"call","status":"1""#)) {
            Raw::Internal(i) => assert_eq!(
                (i.id.as_str(), i.trace_address),
                ("call_0xab_2_0", vec![2, 0])
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bigquery_date_times_read_as_unix_seconds() {
        // The fixture's own item_timestamp for block_timestamp 1683029999.
        for t in [
            "2023-05-02T12:19:59Z",
            "2023-05-02 12:19:59 UTC",
            "2023-05-02 12:19:59.000000 UTC",
        ] {
            let raw = serde_json::to_string(t).unwrap();
            let v: RawJson = serde_json::from_str(&raw).unwrap();
            assert_eq!(timestamp("block_timestamp", v), Ok(1_683_029_999), "{t}");
        }
        assert_eq!(utc_seconds("1970-01-01"), Some(0));
        assert_eq!(utc_seconds("2016-02-29 00:00:00"), Some(1_456_704_000));
        assert_eq!(utc_seconds("2015-02-29 00:00:00"), None);
        assert_eq!(utc_seconds("2023-05-02T12:19:59+02:00"), None);
    }

    #[test]
    fn every_record_of_every_fixture_parses() {
        assert_eq!(all(TRANSACTIONS).len(), 298);
        assert_eq!(all(TOKEN_TRANSFERS).len(), 291);
        assert_eq!(all(TRACES_508110).len(), 4);
        assert_eq!(all(TRACES_2112234).len(), 2);
        assert_eq!(all(TOKENS_2112234).len(), 1);
    }

    #[test]
    fn no_input_panics_cut_records_included() {
        let mut out = Vec::new();
        for file in [TRANSACTIONS, TOKEN_TRANSFERS, TRACES_508110] {
            let rec = lines(file).nth(1).unwrap();
            for (i, _) in rec.char_indices().step_by(7) {
                let _ = parse(&rec[..i], &mut out);
            }
        }
        for junk in [
            "",
            "null",
            "1e999",
            "\"x\"",
            "{}",
            "{\"type\":null}",
            "[[[[",
            "{\"trace_address\":{}}",
        ] {
            let _ = parse(junk, &mut out);
        }
    }
}
