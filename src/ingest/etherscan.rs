//! Etherscan API results (`txlist`, `tokentx`, `txlistinternal`): one element
//! of a response's `result` array at a time, into normalised [`Raw`] records
//! (SPEC.md §1). The `{"status","message","result"}` envelope is unwrapped by
//! the caller.
//!
//! Owns what Etherscan's fields mean and how a record's kind is told from its
//! keys (the three endpoints share one shape of envelope). Field rules
//! (amounts, addresses, errors) are in `fields`, shared with `ethereum_etl`.
//! No IO, no state between records.

use super::fields::{
    amount, decode_object, evm_address, fee, given, hash_field, keep_null, lenient_decimals,
    lenient_symbol, need, need_text, opt_evm_address, opt_text, parse_index_list, short, timestamp,
    uint, RawJson, Text,
};
use super::raw::{
    FieldError, Raw, RawAccountTx, RawAsset, RawInternal, RawTokenTransfer, TraceSource,
};
use serde::de::IgnoredAny;

/// One `result` element of any of the three endpoints: the union of the
/// fields fundtrail reads. Etherscan writes every value as a string; numbers
/// are kept as raw JSON text so clones that write integers work too.
#[derive(Default, serde::Deserialize)]
#[serde(default, expecting = "an Etherscan result element (a JSON object)")]
struct Record<'a> {
    #[serde(rename = "blockNumber", borrow)]
    block_number: Option<RawJson<'a>>,
    #[serde(rename = "timeStamp", borrow)]
    time_stamp: Option<RawJson<'a>>,
    #[serde(borrow)]
    hash: Option<Text<'a>>,
    #[serde(rename = "transactionIndex", borrow)]
    transaction_index: Option<RawJson<'a>>,
    #[serde(borrow)]
    from: Option<Text<'a>>,
    #[serde(borrow)]
    to: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<RawJson<'a>>,
    #[serde(rename = "contractAddress", borrow)]
    contract_address: Option<Text<'a>>,
    #[serde(rename = "gasUsed", borrow)]
    gas_used: Option<RawJson<'a>>,
    #[serde(rename = "gasPrice", borrow)]
    gas_price: Option<RawJson<'a>>,
    #[serde(rename = "isError", borrow)]
    is_error: Option<RawJson<'a>>,
    #[serde(borrow)]
    txreceipt_status: Option<RawJson<'a>>,
    #[serde(rename = "logIndex", borrow)]
    log_index: Option<RawJson<'a>>,
    // Keys whose presence (even as null) tells the endpoint: `Some(None)` is null.
    #[serde(borrow, deserialize_with = "keep_null")]
    nonce: Option<Option<RawJson<'a>>>,
    #[serde(rename = "tokenSymbol", borrow, deserialize_with = "keep_null")]
    token_symbol: Option<Option<RawJson<'a>>>,
    #[serde(rename = "tokenDecimal", borrow, deserialize_with = "keep_null")]
    token_decimal: Option<Option<RawJson<'a>>>,
    #[serde(rename = "traceId", borrow, deserialize_with = "keep_null")]
    trace_id: Option<Option<RawJson<'a>>>,
    #[serde(rename = "type", borrow, deserialize_with = "keep_null")]
    kind: Option<Option<Text<'a>>>,
    // Only to say why an NFT transfer (tokennfttx, token1155tx) is refused.
    #[serde(rename = "tokenID", deserialize_with = "keep_null")]
    token_id: Option<Option<IgnoredAny>>,
}

/// Parse one Etherscan `result` element's JSON text into normalised records.
pub fn parse(text: &str, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    let r: Record = decode_object(text, "an element of an Etherscan result array")?;
    if r.token_symbol.is_some() || r.token_decimal.is_some() {
        token_transfer(&r, out)
    } else if r.trace_id.is_some() || (r.kind.is_some() && r.nonce.is_none()) {
        out.push(internal(&r)?);
        Ok(())
    } else {
        out.push(transaction(&r)?);
        Ok(())
    }
}

/// A yes/no flag written `"1"`/`"0"` (or empty for unknown).
fn flag(field: &str, v: Option<RawJson>) -> Result<Option<u64>, FieldError> {
    given(v).map(|v| uint::<u64>(field, v)).transpose()
}

/// `to`, or the created contract when `to` is empty (a contract creation).
fn destination(r: &Record) -> Result<Option<String>, FieldError> {
    match opt_evm_address("to", r.to.as_ref())? {
        Some(a) => Ok(Some(a)),
        None => opt_evm_address("contractAddress", r.contract_address.as_ref()),
    }
}

fn transaction(r: &Record) -> Result<Raw, FieldError> {
    let hash = hash_field("hash", r.hash.as_ref())?;
    let block = uint("blockNumber", need("blockNumber", r.block_number)?)?;
    let time = timestamp("timeStamp", need("timeStamp", r.time_stamp)?)?;
    let tx_index = uint(
        "transactionIndex",
        need("transactionIndex", r.transaction_index)?,
    )?;
    let from = evm_address("from", need_text("from", r.from.as_ref())?)?;
    let to = destination(r)?;
    let value = amount(need("value", r.value)?, "wei", || "value".into())?;
    // txreceipt_status is empty before Byzantium; isError covers those.
    let failed = flag("isError", r.is_error)? == Some(1)
        || flag("txreceipt_status", r.txreceipt_status)? == Some(0);
    let fee = match (given(r.gas_used), given(r.gas_price)) {
        (Some(g), Some(p)) => Some(fee(
            "gasUsed",
            amount(g, "gas units", || "gasUsed".into())?,
            amount(p, "wei", || "gasPrice".into())?,
        )?),
        _ => None,
    };
    if to.is_none() && value > 0 && !failed {
        return Err(FieldError::new(
            "to",
            format!(
                "value moves to no address: neither to nor contractAddress is set, but the \
                 transaction moves {value} wei"
            ),
        ));
    }
    let gas_price = match given(r.gas_price) {
        Some(p) => Some(amount(p, "wei", || "gasPrice".into())?),
        None => None,
    };
    Ok(Raw::AccountTx(RawAccountTx {
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
    }))
}

fn token_transfer(r: &Record, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    if given(r.value).is_none() && r.token_id.is_some() {
        return Err(FieldError::new(
            "value",
            "this is an Etherscan NFT transfer (tokennfttx or token1155tx): it names a token id, \
             not an amount, and fundtrail traces fungible amounts only",
        ));
    }
    let log_index = match given(r.log_index) {
        Some(v) => uint("logIndex", v)?,
        None => {
            // Etherscan's own tokentx leaves logIndex out (Blockscout's has
            // it). Stand in a position after the transaction's index, made
            // from the transfer's content so it is the same in every
            // re-export: within one transaction the order of such transfers
            // is then arbitrary but fixed, and two identical transfers in
            // one transaction count as one.
            let tx_index: u64 = uint(
                "transactionIndex",
                need("transactionIndex", r.transaction_index)?,
            )?;
            let key = format!(
                "{}|{}|{}|{}",
                r.contract_address
                    .as_ref()
                    .map(|t| t.as_str())
                    .unwrap_or(""),
                r.from.as_ref().map(|t| t.as_str()).unwrap_or(""),
                r.to.as_ref().map(|t| t.as_str()).unwrap_or(""),
                given(r.value).map(|v| v.get()).unwrap_or("")
            )
            .to_ascii_lowercase();
            (tx_index << 32)
                | (1 << 31)
                | (xxhash_rust::xxh3::xxh3_64(key.as_bytes()) & 0x7fff_ffff)
        }
    };
    let token = evm_address(
        "contractAddress",
        need_text("contractAddress", r.contract_address.as_ref())?,
    )?;
    out.push(Raw::Token(RawTokenTransfer {
        tx_hash: hash_field("hash", r.hash.as_ref())?,
        log_index,
        block: uint("blockNumber", need("blockNumber", r.block_number)?)?,
        time: given(r.time_stamp)
            .map(|t| timestamp("timeStamp", t))
            .transpose()?,
        token: token.clone(),
        from: evm_address("from", need_text("from", r.from.as_ref())?)?,
        to: evm_address("to", need_text("to", r.to.as_ref())?)?,
        value: amount(need("value", r.value)?, "base units", || "value".into())?,
    }));
    out.push(Raw::Asset(RawAsset {
        asset: token,
        symbol: lenient_symbol(r.token_symbol.flatten()),
        decimals: lenient_decimals(r.token_decimal.flatten()),
    }));
    Ok(())
}

fn internal(r: &Record) -> Result<Raw, FieldError> {
    let tx_hash = hash_field("hash", r.hash.as_ref())?;
    let block = uint("blockNumber", need("blockNumber", r.block_number)?)?;
    let time = given(r.time_stamp)
        .map(|t| timestamp("timeStamp", t))
        .transpose()?;
    let trace_id = match given(r.trace_id.flatten()) {
        None => None,
        Some(v) => Some(trace_id_text(v)?),
    };
    let trace_address = match &trace_id {
        None => Vec::new(),
        Some(id) => parse_index_list(id).ok_or_else(|| {
            FieldError::new(
                "traceId",
                format!(
                    "not a trace id (whole numbers joined by _, like 0_1): {:?}",
                    short(id)
                ),
            )
        })?,
    };
    let from = opt_evm_address("from", r.from.as_ref())?;
    let to = destination(r)?;
    let value = amount(need("value", r.value)?, "wei", || "value".into())?;
    let kind = r
        .kind
        .as_ref()
        .and_then(|k| opt_text(k.as_ref()))
        .unwrap_or("call");
    let failed = flag("isError", r.is_error)? == Some(1);
    // delegatecall, staticcall and callcode move no value of their own.
    let own_value = !["delegatecall", "staticcall", "callcode"]
        .iter()
        .any(|t| kind.eq_ignore_ascii_case(t));
    let moves = value > 0 && !failed && own_value;
    if moves && to.is_none() {
        return Err(FieldError::new(
            "to",
            format!("value moves to no address: this internal {kind} moves {value} wei"),
        ));
    }
    if moves && from.is_none() {
        return Err(FieldError::new(
            "from",
            format!("value comes from no address: this internal {kind} moves {value} wei"),
        ));
    }
    let id = match &trace_id {
        Some(t) => format!("{tx_hash}:{t}"),
        // Without traceId, the record's own content is its best identity:
        // `{hash}:` alone would merge every internal call of the transaction.
        None => format!(
            "{tx_hash}:?{kind}:{}:{}:{value}",
            from.as_deref().unwrap_or("-"),
            to.as_deref().unwrap_or("-")
        ),
    };
    Ok(Raw::Internal(RawInternal {
        source: TraceSource::Etherscan,
        id,
        tx_hash: Some(tx_hash),
        block,
        time,
        tx_index: None,
        trace_address,
        from,
        to,
        value,
        reward: false,
        moves,
    }))
}

/// `traceId` as text: a string (`"0_1"`), or a bare number from a clone.
fn trace_id_text(v: RawJson) -> Result<String, FieldError> {
    let raw = v.get().trim();
    if raw.starts_with('"') {
        serde_json::from_str::<Text>(raw)
            .map(|t| t.as_str().trim().to_string())
            .map_err(|_| FieldError::new("traceId", format!("not a trace id: {}", short(raw))))
    } else {
        uint::<u32>("traceId", v).map(|n| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXLIST: &str =
        include_str!("../../fixtures/etherscan/txlist_api_v1_accounts_transactions.json");

    /// The `result` elements of a response, as the ingest splitter hands them over.
    fn results(response: &str) -> Vec<&str> {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            result: Vec<RawJson<'a>>,
        }
        let e: Envelope = serde_json::from_str(response).unwrap();
        e.result.into_iter().map(|r| r.get()).collect()
    }

    fn parsed(text: &str) -> Vec<Raw> {
        let mut out = Vec::new();
        parse(text, &mut out).unwrap_or_else(|e| panic!("{e:?} in {text}"));
        out
    }

    fn err(text: &str) -> FieldError {
        let mut out = Vec::new();
        match parse(text, &mut out) {
            Err(e) => e,
            Ok(()) => panic!("accepted {text}: {out:?}"),
        }
    }

    fn internal_of(text: &str) -> RawInternal {
        match parsed(text).pop() {
            Some(Raw::Internal(i)) => i,
            other => panic!("{other:?}"),
        }
    }

    const TOKENTX: &str = r#"{"blockNumber":"17173049","timeStamp":"1683029999","hash":"0xCAA1EEFE9F8E7ED33DBB8B3F9ED8D338D7D58F564E3DDE8B72EDA39AE6FE2F19","nonce":"5","blockHash":"0xaa5ab9bb22d8020d438496a7edb4eff508b1c5128b0dc01fdecf57f96aac1bb3","from":"0x14749D61502be607718448f1d6ee74068d7c9fb2","contractAddress":"0xcd2b042e904a935b2f1f9f3a2a5e73070f24aecc","to":"0x5f30483631a4233dece123886d3bc4075724fcfd","value":"7786596450288373164569331648084","tokenName":"Example","tokenSymbol":"EX ","tokenDecimal":"9","transactionIndex":"40","gas":"200000","gasPrice":"80000000000","gasUsed":"60000","cumulativeGasUsed":"3000000","input":"deprecated","logIndex":"81","confirmations":"100"}"#;

    const INTERNAL: &str = r#"{"blockNumber":"13000000","timeStamp":"1629000000","hash":"0x1a50f1dc0bc912745f7d09b988669f71d199719e2fb7592c2074ede9578032d0","from":"0x2c1ba59d6f58433fb1eaee7d20b26ed83bda51a3","to":"0x20d42f2e99a421147acf198d775395cac2e8b03d","value":"100000000000000000","contractAddress":"","input":"","type":"call","gas":"235231","gasUsed":"0","traceId":"0_1","isError":"0","errCode":""}"#;

    #[test]
    fn a_real_txlist_contract_creation_credits_the_new_contract_and_pays_gas_used_times_price() {
        let records = results(TXLIST);
        assert_eq!(records.len(), 1);
        assert_eq!(
            parsed(records[0]),
            vec![Raw::AccountTx(RawAccountTx {
                hash: "0x4a03044699c2fbd256e21632a6d8fbfc27655ea711157fa8b2b917f0eb954cea".into(),
                block: 6_271_590,
                time: 1_536_083_185,
                tx_index: 3,
                from: "0x2d7dc2ef7c6f6a2cbc3dba4db97b2ddb40e20713".into(),
                to: Some("0x4f833a24e1f95d70f028921e27040ca56e09ab0b".into()),
                value: 0,
                fee: Some(6_005_925 * 20_000_000_000),
                failed: false,
                gas_price: Some(20_000_000_000),
            })]
        );
    }

    #[test]
    fn every_record_of_the_real_txlist_fixture_parses() {
        for r in results(TXLIST) {
            assert_eq!(parsed(r).len(), 1);
        }
    }

    #[test]
    fn is_error_or_a_zero_receipt_status_marks_a_transaction_failed() {
        let r = results(TXLIST)[0];
        let tx = |t: &str| match parsed(t).pop() {
            Some(Raw::AccountTx(t)) => t,
            other => panic!("{other:?}"),
        };
        assert!(tx(&r.replace(r#""isError": "0""#, r#""isError": "1""#)).failed);
        assert!(tx(&r.replace(r#""txreceipt_status": "1""#, r#""txreceipt_status": "0""#)).failed);
        // Pre-Byzantium: no receipt status, not an error.
        assert!(!tx(&r.replace(r#""txreceipt_status": "1""#, r#""txreceipt_status": """#)).failed);
        let no_gas = tx(&r.replace(r#""gasUsed": "6005925""#, r#""gasUsed": """#));
        assert_eq!(no_gas.fee, None);
    }

    #[test]
    fn a_token_transfer_gives_the_transfer_and_the_token_it_moves() {
        assert_eq!(
            parsed(TOKENTX),
            vec![
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
                }),
                Raw::Asset(RawAsset {
                    asset: "0xcd2b042e904a935b2f1f9f3a2a5e73070f24aecc".into(),
                    symbol: Some("EX".into()),
                    decimals: Some(9),
                }),
            ]
        );
    }

    #[test]
    fn a_token_transfer_without_log_index_sorts_after_its_transaction_index() {
        // Etherscan's real tokentx has no logIndex
        let text = TOKENTX.replace(r#""logIndex":"81","#, "");
        let mut a = Vec::new();
        parse(&text, &mut a).unwrap();
        let mut b = Vec::new();
        parse(&text, &mut b).unwrap();
        assert_eq!(a, b, "the stand-in position is the same every time");
        let Raw::Token(t) = &a[0] else {
            panic!("not a token transfer")
        };
        assert_eq!(t.log_index >> 32, 40);
        assert_eq!(t.value, 7786596450288373164569331648084);
    }

    #[test]
    fn an_nft_transfer_is_refused_as_having_no_amount() {
        let nft = TOKENTX.replace(
            r#""value":"7786596450288373164569331648084","#,
            r#""tokenID":"42","#,
        );
        let e = err(&nft);
        assert_eq!(e.field, "value");
        assert!(e.message.contains("NFT"));
    }

    #[test]
    fn an_internal_call_keeps_its_trace_id_and_moves_value() {
        assert_eq!(
            internal_of(INTERNAL),
            RawInternal {
                source: TraceSource::Etherscan,
                id: "0x1a50f1dc0bc912745f7d09b988669f71d199719e2fb7592c2074ede9578032d0:0_1".into(),
                tx_hash: Some(
                    "0x1a50f1dc0bc912745f7d09b988669f71d199719e2fb7592c2074ede9578032d0".into()
                ),
                block: 13_000_000,
                time: Some(1_629_000_000),
                tx_index: None,
                trace_address: vec![0, 1],
                from: Some("0x2c1ba59d6f58433fb1eaee7d20b26ed83bda51a3".into()),
                to: Some("0x20d42f2e99a421147acf198d775395cac2e8b03d".into()),
                value: 100_000_000_000_000_000,
                reward: false,
                moves: true,
            }
        );
    }

    #[test]
    fn failed_or_delegated_internal_calls_move_nothing_but_are_kept() {
        let failed = internal_of(&INTERNAL.replace(r#""isError":"0""#, r#""isError":"1""#));
        assert!(!failed.moves);
        for t in ["delegatecall", "staticcall", "callcode"] {
            let i = internal_of(&INTERNAL.replace(r#""type":"call""#, &format!(r#""type":"{t}""#)));
            assert!(!i.moves, "{t}");
        }
        let create = internal_of(
            &INTERNAL
                .replace(r#""type":"call""#, r#""type":"create""#)
                .replace(
                    r#""to":"0x20d42f2e99a421147acf198d775395cac2e8b03d""#,
                    r#""to":"""#,
                )
                .replace(
                    r#""contractAddress":"""#,
                    r#""contractAddress":"0x3333333333333333333333333333333333333333""#,
                ),
        );
        assert!(create.moves);
        assert_eq!(
            create.to.as_deref(),
            Some("0x3333333333333333333333333333333333333333")
        );
    }

    #[test]
    fn an_internal_call_without_trace_id_is_told_apart_by_its_content() {
        // Also detected by `type` without `nonce`.
        let i = internal_of(&INTERNAL.replace(r#","traceId":"0_1""#, ""));
        assert_eq!(i.trace_address, Vec::<u32>::new());
        assert_eq!(
            i.id,
            "0x1a50f1dc0bc912745f7d09b988669f71d199719e2fb7592c2074ede9578032d0:?call:\
             0x2c1ba59d6f58433fb1eaee7d20b26ed83bda51a3:0x20d42f2e99a421147acf198d775395cac2e8b03d:\
             100000000000000000"
        );
        let e = err(&INTERNAL.replace(r#""traceId":"0_1""#, r#""traceId":"0-1""#));
        assert_eq!(e.field, "traceId");
    }

    #[test]
    fn a_malformed_address_or_an_overflowing_amount_is_refused_naming_the_field() {
        let e = err(&TOKENTX.replace(
            "0x14749D61502be607718448f1d6ee74068d7c9fb2",
            "0x14749D61502be607718448f1d6ee74068d7c9fbZ",
        ));
        assert_eq!(e.field, "from");
        assert!(e
            .message
            .contains("0x14749D61502be607718448f1d6ee74068d7c9fbZ"));
        let e = err(&TOKENTX.replace(
            "7786596450288373164569331648084",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ));
        assert_eq!(e.field, "value");
        assert!(e.message.contains("2^128-1"), "{}", e.message);
        let e = err(&INTERNAL.replace(r#""value":"100000000000000000""#, r#""value":"-1""#));
        assert_eq!(e.field, "value");
        let e = err(&results(TXLIST)[0].replace(
            r#""gasPrice": "20000000000""#,
            r#""gasPrice": 340282366920938463463374607431768211455"#,
        ));
        assert_eq!(e.field, "gasUsed");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let e = err(r#"["0x1","1"]"#);
        assert!(e.message.starts_with("not a JSON object"), "{}", e.message);
        let e = err(r#"{"blockNumber":"1","timeStamp":"1","hash":["0x1"]}"#);
        assert_eq!(e.field, "hash");
        assert!(
            e.message.starts_with("wrong type: sequence"),
            "{}",
            e.message
        );
    }

    #[test]
    fn no_input_panics_cut_records_included() {
        let mut out = Vec::new();
        for rec in [TOKENTX, INTERNAL, results(TXLIST)[0]] {
            for (i, _) in rec.char_indices() {
                let _ = parse(&rec[..i], &mut out);
            }
        }
    }
}
