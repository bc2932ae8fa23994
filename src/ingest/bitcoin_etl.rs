//! bitcoin-etl transaction records (`export_blocks_and_transactions`,
//! newline-delimited JSON or a JSON array), one `Raw::Utxo` per record.
//!
//! Fields read: `hash` (the txid), `block_number`, `block_timestamp`, `index`
//! (position in the block; `null` or absent in some exports, then unknown),
//! `is_coinbase`, `inputs[]{spent_transaction_hash, spent_output_index,
//! addresses, value}` and `outputs[]{index, addresses, value}`. Values are
//! integer satoshis. Every other field is ignored.
//!
//! - An input without `spent_transaction_hash` (a coinbase input, or a Zcash
//!   shielded input) spends no transparent output and is not an input here.
//! - An input's owner and value are known only when the export is enriched
//!   (`addresses` non-empty, `value` not null).
//! - Outputs are put in `index` order; the indices must be `0..n` without gaps.

use super::fields::{
    amount, btc_addresses_cow, decode, in_index_order, lift, txid_hex_cow, RawJson, Text,
};
use super::plain::{self, once};
use super::raw::{self, BlockRef, FieldError, InputRef, OutputRef, Raw, RawRef, UtxoRef};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Debug, Deserialize, PartialEq)]
struct EtlTx<'a> {
    #[serde(borrow)]
    hash: Text<'a>,
    block_number: u64,
    block_timestamp: u64,
    index: Option<u32>,
    is_coinbase: bool,
    #[serde(borrow)]
    inputs: Vec<EtlInput<'a>>,
    #[serde(borrow)]
    outputs: Vec<EtlOutput<'a>>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct EtlInput<'a> {
    #[serde(borrow)]
    spent_transaction_hash: Option<Text<'a>>,
    spent_output_index: Option<u32>,
    #[serde(borrow)]
    addresses: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    value: Option<RawJson<'a>>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct EtlOutput<'a> {
    index: u32,
    #[serde(borrow)]
    addresses: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    value: RawJson<'a>,
}

/// Parse one bitcoin-etl transaction record.
pub fn parse(text: &str, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    raw::parse_owned(text, out, parse_ref)
}

/// [`parse`] with the record's strings borrowed where they already are
/// canonical (hashes in lower case, one address an output), so that the
/// usual record allocates no string.
pub fn parse_ref<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    match plain_tx(text) {
        Some(tx) => lower(tx, out),
        None => lower(decode(text)?, out),
    }
}

/// [`parse_ref`] with serde alone (tests: what the plain reader must agree
/// with).
#[cfg(test)]
fn parse_record<'a>(text: &'a str, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    lower(decode(text)?, out)
}

/// The record read by the plain reader ([`plain`]), when it is in the
/// plain shape: the fields serde would give [`EtlTx`], or `None` for serde
/// to read it (and to say what is wrong, if anything is).
fn plain_tx(text: &str) -> Option<EtlTx<'_>> {
    let (mut hash, mut block_number, mut block_timestamp, mut index) = (None, None, None, None);
    let (mut is_coinbase, mut inputs, mut outputs) = (None, None, None);
    plain::object(text, |key, v| match key {
        "hash" => once(&mut hash, plain_text(v)?),
        "block_number" => once(&mut block_number, v.uint()?),
        "block_timestamp" => once(&mut block_timestamp, v.uint()?),
        "index" => once(&mut index, v.or_null(|v| v.uint32())?),
        "is_coinbase" => once(&mut is_coinbase, v.boolean()?),
        "inputs" => once(&mut inputs, v.list(plain_input)?),
        "outputs" => once(&mut outputs, v.list(plain_output)?),
        _ => v.skip(0),
    })?;
    Some(EtlTx {
        hash: hash?,
        block_number: block_number?,
        block_timestamp: block_timestamp?,
        index: index.flatten(),
        is_coinbase: is_coinbase?,
        inputs: inputs?,
        outputs: outputs?,
    })
}

fn plain_input<'a>(v: &mut plain::Value<'a>) -> Option<EtlInput<'a>> {
    let (mut spent_transaction_hash, mut spent_output_index) = (None, None);
    let (mut addresses, mut value) = (None, None);
    v.members(|key, v| match key {
        "spent_transaction_hash" => once(&mut spent_transaction_hash, v.or_null(plain_text)?),
        "spent_output_index" => once(&mut spent_output_index, v.or_null(|v| v.uint32())?),
        "addresses" => once(&mut addresses, v.or_null(|v| v.list(plain_text))?),
        "value" => once(&mut value, v.or_null(|v| v.raw().map(RawJson))?),
        _ => v.skip(0),
    })?;
    Some(EtlInput {
        spent_transaction_hash: spent_transaction_hash.flatten(),
        spent_output_index: spent_output_index.flatten(),
        addresses: addresses.flatten(),
        value: value.flatten(),
    })
}

fn plain_output<'a>(v: &mut plain::Value<'a>) -> Option<EtlOutput<'a>> {
    let (mut index, mut addresses, mut value) = (None, None, None);
    v.members(|key, v| match key {
        "index" => once(&mut index, v.uint32()?),
        "addresses" => once(&mut addresses, v.or_null(|v| v.list(plain_text))?),
        "value" => once(&mut value, RawJson(v.raw()?)),
        _ => v.skip(0),
    })?;
    Some(EtlOutput {
        index: index?,
        addresses: addresses.flatten(),
        value: value?,
    })
}

/// A string without escapes, borrowed.
fn plain_text<'a>(v: &mut plain::Value<'a>) -> Option<Text<'a>> {
    v.string().map(|s| Text(Cow::Borrowed(s)))
}

/// The records of one transaction.
fn lower<'a>(tx: EtlTx<'a>, out: &mut Vec<RawRef<'a>>) -> Result<(), FieldError> {
    let txid = lift(&tx.hash, |s| txid_hex_cow(s, || "hash".to_string()))?;

    let mut inputs = Vec::with_capacity(tx.inputs.len());
    for (i, input) in tx.inputs.iter().enumerate() {
        let Some(prev) = &input.spent_transaction_hash else {
            continue; // coinbase (or shielded) input: spends no output
        };
        let prev_txid = lift(prev, |s| {
            txid_hex_cow(s, || format!("inputs[{i}].spent_transaction_hash"))
        })?;
        let vout = input.spent_output_index.ok_or_else(|| {
            FieldError::new(
                format!("inputs[{i}].spent_output_index"),
                "missing: an input that names the transaction it spends must also name the output index",
            )
        })?;
        let addrs = btc_addresses_cow(input.addresses.as_deref(), |k| {
            format!("inputs[{i}].addresses[{k}]")
        })?;
        let owner = (!addrs.is_empty()).then(|| raw::owner_of_canonical(addrs, &prev_txid, vout));
        let value = match input.value {
            Some(v) => Some(amount(v, "satoshis", || format!("inputs[{i}].value"))?),
            None => None,
        };
        inputs.push(InputRef {
            prev_txid,
            vout,
            owner,
            value,
        });
    }

    let mut outputs = Vec::with_capacity(tx.outputs.len());
    for (j, o) in tx.outputs.iter().enumerate() {
        let addrs = btc_addresses_cow(o.addresses.as_deref(), |k| {
            format!("outputs[{j}].addresses[{k}]")
        })?;
        let value = amount(o.value, "satoshis", || format!("outputs[{j}].value"))?;
        outputs.push((
            o.index,
            j,
            OutputRef {
                owner: raw::owner_of_canonical(addrs, &txid, o.index),
                value,
            },
        ));
    }
    let outputs = in_index_order(outputs, |j| format!("outputs[{j}].index"))?;

    out.push(RawRef::Utxo(UtxoRef {
        txid,
        block: BlockRef::Height(tx.block_number),
        index: tx.index,
        time: tx.block_timestamp,
        coinbase: tx.is_coinbase,
        asset: Cow::Borrowed("BTC"),
        inputs,
        outputs,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{RawInput, RawOutput, RawUtxoTx};

    const BLOCKS_50001_50002: &str = include_str!(
        "../../fixtures/bitcoin-etl/bitcoin/block_with_transactions/expected_transactions.json"
    );
    const STREAM_ENRICHED: &str = include_str!(
        "../../fixtures/bitcoin-etl/bitcoin/stream_50001_50002/expected_transactions.json"
    );
    const DOGE_FLOAT: &str = include_str!(
        "../../fixtures/bitcoin-etl/dogecoin/block_with_float_precision_loss/expected_transactions.json"
    );
    const BCH_DUP: &str = include_str!(
        "../../fixtures/bitcoin-etl/bitcoin_cash/block_with_duplicate_txid/expected_transactions.json"
    );
    const ZEC_SHIELDED: &str = include_str!(
        "../../fixtures/bitcoin-etl/zcash/block_with_shielded_addresses/expected_transactions.json"
    );
    const ALL: [&str; 5] = [
        BLOCKS_50001_50002,
        STREAM_ENRICHED,
        DOGE_FLOAT,
        BCH_DUP,
        ZEC_SHIELDED,
    ];

    /// Every transaction of a JSON-lines file.
    pub(crate) fn parse_lines(text: &str) -> Vec<RawUtxoTx> {
        let mut out = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            parse(line, &mut out).unwrap_or_else(|e| panic!("line {}: {e:?}", n + 1));
        }
        out.into_iter()
            .map(|r| match r {
                Raw::Utxo(u) => u,
                other => panic!("not a UTXO record: {other:?}"),
            })
            .collect()
    }

    fn one(text: &str) -> Result<RawUtxoTx, FieldError> {
        let mut out = Vec::new();
        parse(text, &mut out)?;
        assert_eq!(out.len(), 1);
        match out.pop() {
            Some(Raw::Utxo(u)) => Ok(u),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_fixture_record_parses() {
        let counts: Vec<usize> = ALL.iter().map(|t| parse_lines(t).len()).collect();
        assert_eq!(counts, vec![4, 4, 6, 1, 4]);
    }

    #[test]
    fn block_50001_coinbase_pays_50_btc_to_its_pubkey_address() {
        let txs = parse_lines(BLOCKS_50001_50002);
        let cb = &txs[0];
        assert_eq!(
            cb.txid,
            "e1882d41800d96d0fddc196cd8d3f0b45d65b030c652d97eaba79a1174e64d58"
        );
        assert_eq!(cb.block, BlockRef::Height(50001));
        assert_eq!(cb.index, Some(0));
        assert_eq!(cb.time, 1270917100);
        assert!(cb.coinbase);
        assert_eq!(cb.asset, "BTC");
        assert!(cb.inputs.is_empty());
        assert_eq!(
            cb.outputs,
            vec![RawOutput {
                owner: "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ".to_string(),
                value: 5_000_000_000
            }]
        );
    }

    #[test]
    fn input_links_are_exact_and_unenriched_inputs_have_no_owner_or_value() {
        let txs = parse_lines(BLOCKS_50001_50002);
        let tx = &txs[1];
        assert_eq!(
            tx.txid,
            "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a"
        );
        assert!(!tx.coinbase);
        assert_eq!(tx.index, Some(1));
        assert_eq!(
            tx.inputs,
            vec![
                RawInput {
                    prev_txid: "76a8d70a757be5055f60be076b683897cadaad6b7bdf78c43e39b9d59cb4a6ea"
                        .into(),
                    vout: 0,
                    owner: None,
                    value: None
                },
                RawInput {
                    prev_txid: "0dd0394c6240355f4e4b3c88028f678ed746cebee3b3e8509620733f018914c9"
                        .into(),
                    vout: 0,
                    owner: None,
                    value: None
                },
            ]
        );
        assert_eq!(
            tx.outputs,
            vec![RawOutput {
                owner: "1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ".into(),
                value: 10_000_000_000
            }]
        );
    }

    #[test]
    fn enriched_inputs_carry_owner_and_value() {
        let txs = parse_lines(STREAM_ENRICHED);
        assert_eq!(
            txs[1].inputs[0],
            RawInput {
                prev_txid: "76a8d70a757be5055f60be076b683897cadaad6b7bdf78c43e39b9d59cb4a6ea"
                    .into(),
                vout: 0,
                owner: Some("1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae".into()),
                value: Some(5_000_000_000)
            }
        );
        assert_eq!(
            txs[2].inputs[0].owner.as_deref(),
            Some("18dxbN6m8zxieN8F9BchXmhbeXUdFLr8fD")
        );
    }

    #[test]
    fn dogecoin_value_a_float_would_get_wrong_is_exact() {
        // 84841299.387 DOGE: as an f64, 84841299.387 * 1e8 = 8484129938699999.x,
        // so a float conversion (truncating or rounding) loses one base unit.
        let txs = parse_lines(DOGE_FLOAT);
        let tx = txs
            .iter()
            .find(|t| t.txid.starts_with("2e59a794"))
            .expect("transaction 2e59a794 in the fixture");
        assert_eq!(tx.outputs[1].value, 8_484_129_938_700_000);
        assert_eq!(tx.outputs[1].owner, "D7eoskLiEuBPncBWLyJFgMXvUkDeCtCnNB");
        // the export has no `index` field: position unknown
        assert_eq!(tx.index, None);
        assert_ne!(
            (84841299.387f64 * 1e8).round() as u128,
            8_484_129_938_700_000,
            "the float trap this test guards against"
        );
    }

    #[test]
    fn cashaddr_and_null_index_are_kept() {
        let txs = parse_lines(BCH_DUP);
        assert_eq!(txs[0].index, None);
        assert_eq!(
            txs[0].outputs[0].owner,
            "bitcoincash:qzkddwa6hgh03skr4qsrygk7e087zjydxgqkpjnsw7"
        );
    }

    #[test]
    fn shielded_inputs_are_not_inputs_and_shielded_outputs_are_nobodys() {
        let txs = parse_lines(ZEC_SHIELDED);
        // 8aee5880: both inputs come from the shielded pool (no spent hash)
        let t = txs
            .iter()
            .find(|t| t.txid.starts_with("8aee5880"))
            .expect("tx");
        assert!(t.inputs.is_empty());
        assert!(!t.coinbase);
        assert_eq!(t.outputs[0].value, 57_000_000);
        // de1d78ee: one output into the shielded pool, with no address
        let t = txs
            .iter()
            .find(|t| t.txid.starts_with("de1d78ee"))
            .expect("tx");
        assert_eq!(
            t.outputs[0].owner,
            "nonstandard:de1d78ee310ba2c9fbeb13881f431fdc8b55aa5f79e61dd3c294177401878f11:0"
        );
    }

    const H1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const H2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn record(inputs: &str, outputs: &str) -> String {
        format!(
            r#"{{"hash":"{H1}","block_number":7,"block_timestamp":100,"index":3,"is_coinbase":false,"inputs":{inputs},"outputs":{outputs}}}"#
        )
    }

    #[test]
    fn outputs_are_put_in_index_order_and_bech32_lowered() {
        let tx = one(&record(
            &format!(r#"[{{"spent_transaction_hash":"{}","spent_output_index":4,"addresses":["1A"],"value":"70"}}]"#, H2.to_uppercase()),
            r#"[{"index":1,"addresses":["BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"],"value":20},
                {"index":0,"addresses":["1A","1B"],"value":50}]"#,
        ))
        .unwrap();
        assert_eq!(tx.inputs[0].prev_txid, H2);
        assert_eq!(tx.inputs[0].vout, 4);
        assert_eq!(tx.inputs[0].value, Some(70));
        assert_eq!(
            tx.outputs[0],
            RawOutput {
                owner: "1A,1B".into(),
                value: 50
            }
        );
        assert_eq!(
            tx.outputs[1],
            RawOutput {
                owner: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".into(),
                value: 20
            }
        );
    }

    #[test]
    fn output_index_gaps_and_duplicates_are_refused() {
        let e = one(&record(
            "[]",
            r#"[{"index":0,"value":1},{"index":2,"value":1}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "outputs[1].index");
        assert!(e.message.contains("no output has index 1"), "{}", e.message);
        let e = one(&record(
            "[]",
            r#"[{"index":0,"value":1},{"index":0,"value":1}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "outputs[1].index");
        assert!(e.message.contains("more than once"), "{}", e.message);
    }

    #[test]
    fn bad_values_and_addresses_name_the_field() {
        let e = one(&record(
            "[]",
            r#"[{"index":0,"value":1},{"index":1,"value":-5}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "outputs[1].value");
        assert!(e.message.contains("negative amount -5"), "{}", e.message);

        let e = one(&record("[]", r#"[{"index":0,"value":"12.5"}]"#)).unwrap_err();
        assert_eq!(e.field, "outputs[0].value");
        assert!(
            e.message.contains("whole number of satoshis"),
            "{}",
            e.message
        );

        let e = one(&record(
            "[]",
            r#"[{"index":0,"addresses":["1Pkq KGb"],"value":1}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "outputs[0].addresses[0]");
        assert!(e.message.contains("\"1Pkq KGb\""), "{}", e.message);

        let e = one(&record(
            &format!(r#"[{{"spent_transaction_hash":"{H2}","spent_output_index":0,"addresses":["a,b"],"value":null}}]"#),
            r#"[{"index":0,"value":1}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "inputs[0].addresses[0]");

        let e = one(&record(
            r#"[{"spent_transaction_hash":"xyz","spent_output_index":0}]"#,
            r#"[{"index":0,"value":1}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "inputs[0].spent_transaction_hash");

        let e = one(&record("[]", r#"[{"index":0}]"#)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("outputs[0].value", "required field is missing")
        );

        let e = one(&record("[]", r#"[{"index":"zero","value":1}]"#)).unwrap_err();
        assert_eq!(e.field, "outputs[0].index");
        assert!(
            e.message.starts_with("expected a whole number"),
            "{}",
            e.message
        );

        let e = one(r#"{"hash":"ab"}"#).unwrap_err();
        assert_eq!(e.field, "block_number");
    }

    #[test]
    fn garbage_never_panics() {
        let mut out = Vec::new();
        for t in [
            "",
            "null",
            "[]",
            "{",
            "\"x\"",
            "{\"hash\":1}",
            &record("[1]", "{}"),
        ] {
            assert!(parse(t, &mut out).is_err(), "{t}");
        }
        assert!(out.is_empty());
    }

    /// The plain reader reads what serde reads, when it reads at all, and
    /// the record gives the same result (or the same error) either way.
    fn same_either_way(text: &str) {
        crate::ingest::fields::tests::same_either_way(text, parse_ref, parse_record);
        if let Some(p) = plain_tx(text) {
            assert_eq!(Some(p), serde_json::from_str::<EtlTx>(text).ok(), "{text}");
        }
    }

    /// Every record of the real bitcoin-etl exports is read by the plain
    /// reader, not by serde.
    #[test]
    fn real_exports_take_the_plain_path() {
        for file in ALL {
            for line in file.lines().filter(|l| !l.trim().is_empty()) {
                assert!(plain_tx(line).is_some(), "{line}");
                same_either_way(line);
            }
        }
    }

    /// Each value of a real record, at the top and in its first input and
    /// output, replaced by others of every kind (escaped, upper-case, empty,
    /// null, a number, a fraction, too large, a list, an object, a
    /// boolean) or taken out, and keys repeated: both reads agree.
    #[test]
    fn records_read_either_way_agree() {
        use serde_json::{Map, Value};
        let news: Vec<Value> = [
            r#""""#,
            "null",
            "7",
            "0",
            "1.5",
            "-1",
            "99999999999999999999",
            "4294967296",
            "[]",
            r#"["1A"]"#,
            r#"["1\u0041"]"#,
            "{}",
            r#"{"index":0}"#,
            "true",
            "false",
        ]
        .iter()
        .map(|t| serde_json::from_str(t).expect("JSON"))
        .collect();
        // every variant of `obj` with one value changed or taken out
        let variants = |obj: &Map<String, Value>| {
            let mut out = Vec::new();
            for (key, val) in obj {
                let mut with = |v: Option<Value>| {
                    let mut o = obj.clone();
                    match v {
                        Some(v) => o.insert(key.clone(), v),
                        None => o.remove(key),
                    };
                    out.push(o);
                };
                with(None);
                for n in &news {
                    with(Some(n.clone()));
                }
                if let Some(t) = val.as_str() {
                    with(Some(Value::String(t.to_ascii_uppercase())));
                    with(Some(Value::String(format!(" {t}"))));
                }
            }
            out
        };
        for file in ALL {
            for line in file.lines().filter(|l| !l.trim().is_empty()).take(3) {
                let v: Value = serde_json::from_str(line).expect("fixture JSON");
                let obj = v.as_object().expect("an object");
                for o in variants(obj) {
                    same_either_way(&Value::Object(o).to_string());
                }
                for list in ["inputs", "outputs"] {
                    let Some(first) = obj[list].get(0).and_then(Value::as_object) else {
                        continue;
                    };
                    for inner in variants(first) {
                        let mut o = obj.clone();
                        o[list][0] = Value::Object(inner);
                        same_either_way(&Value::Object(o).to_string());
                    }
                }
                // a key twice (serde refuses a field it reads twice, and
                // passes over others), an escaped key, an escaped value of a
                // key nobody reads, trailing text or commas, an element more
                let body = &line.trim()[1..];
                for text in [
                    format!(r#"{{"hash":"{H1}",{body}"#),
                    format!(r#"{{"block_number":1,{body}"#),
                    format!(r#"{{"size":1,"size":2,{body}"#),
                    format!(r#"{{"h\u0061sh2":1,{body}"#),
                    format!(r#"{{"other":"\u0041",{body}"#),
                    format!("{line} x"),
                    format!("{line},"),
                    line.replacen(r#""inputs": ["#, r#""inputs": [{"value":1},"#, 1),
                    line.replacen(
                        r#""outputs": ["#,
                        r#""outputs": [{"index":0,"value":1},"#,
                        1,
                    ),
                    line.replacen("}]", "},]", 1),
                ] {
                    same_either_way(&text);
                }
            }
        }
    }

    /// Hashes and addresses already canonical are borrowed from the line;
    /// the others are put in canonical form: hex digits and bech32 and
    /// EVM-style addresses lower-cased, base58 kept as it is.
    #[test]
    fn canonical_strings_are_borrowed_and_the_others_made_canonical() {
        let h = "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789";
        let evm = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
        let text = format!(
            r#"{{"hash":"{h}","block_number":7,"block_timestamp":100,"index":3,"is_coinbase":false,
                "inputs":[{{"spent_transaction_hash":"{H2}","spent_output_index":0,"addresses":["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"],"value":5}}],
                "outputs":[{{"index":0,"addresses":["1AbC"],"value":1}},{{"index":1,"addresses":["{evm}"],"value":2}},
                           {{"index":2,"addresses":["Tb1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KXPJZSX"],"value":1}}]}}"#
        )
        .replace('\n', "");
        let mut out = Vec::new();
        parse_ref(&text, &mut out).unwrap();
        let [RawRef::Utxo(u)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(u.txid, h.to_ascii_lowercase());
        assert!(matches!(u.inputs[0].prev_txid, Cow::Borrowed(H2)));
        assert!(matches!(
            u.inputs[0].owner,
            Some(Cow::Borrowed("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"))
        ));
        assert!(matches!(u.outputs[0].owner, Cow::Borrowed("1AbC")));
        assert_eq!(u.outputs[1].owner, evm.to_ascii_lowercase());
        assert_eq!(
            u.outputs[2].owner,
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
        );
        // the owned records say the same
        let tx = one(&text).unwrap();
        assert_eq!(tx.txid, h.to_ascii_lowercase());
        let owners: Vec<&str> = tx.outputs.iter().map(|o| o.owner.as_str()).collect();
        assert_eq!(
            owners,
            [
                "1AbC",
                &evm.to_ascii_lowercase(),
                "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
            ]
        );
    }

    #[test]
    fn escaped_strings_are_accepted() {
        let rec = record("[]", r#"[{"index":0,"addresses":["1\u0041"],"value":1}]"#);
        assert_eq!(one(&rec).unwrap().outputs[0].owner, "1A");
    }
}
