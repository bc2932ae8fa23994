//! Bitcoin Core RPC JSON (one result object per record, already unwrapped
//! from its `{"result":..,"error":null,"id":..}` envelope).
//!
//! - `getblock <hash> 2`: an object with `height`, `time` and `tx[]` holding
//!   transaction objects. One `Raw::Utxo` per transaction, `index` = its
//!   position in `tx`, block `Height(height)`, time = the block's `time`. A
//!   `tx` list of txid strings (verbosity 1) is refused: it carries no values.
//!   A block with `confirmations: -1` is not on the main chain and is refused.
//! - `getrawtransaction <txid> true`: an object with `txid`, `vin`, `vout` and
//!   `blockhash`, `confirmations`, `blocktime`/`time`. Block
//!   `Hash{blockhash, confirmations}`, `index` unknown, time = `blocktime`
//!   (else `time`, else 0). Without `blockhash` the transaction is not in a
//!   block yet (mempool) and is refused.
//!
//! Transactions are identified by `txid` (never `hash`, the witness hash).
//! `vout[].value` is a BTC decimal literal, converted from its text exactly to
//! satoshis; owners come from `scriptPubKey.addresses` (nodes before v22) or
//! `scriptPubKey.address` (newer nodes); a script with neither is owned by
//! `nonstandard:<txid>:<n>`. A `vin` with `coinbase` spends nothing; a `vin`
//! with `prevout` (verbosity 3) gives the spent output's owner and value.

use super::fields::{
    amount_message, btc_address, btc_addresses, decode, in_index_order, short, txid_hex, RawJson,
    Text,
};
use super::raw::{self, BlockRef, FieldError, Raw, RawInput, RawOutput, RawUtxoTx};
use crate::amount;
use crate::model::Amount;
use serde::Deserialize;

/// Either result shape; which one is decided by the fields present.
#[derive(Deserialize)]
struct Record<'a> {
    // getblock
    #[serde(borrow)]
    tx: Option<Vec<RpcTx<'a>>>,
    height: Option<u64>,
    time: Option<u64>,
    confirmations: Option<i64>,
    // getrawtransaction
    #[serde(borrow)]
    txid: Option<Text<'a>>,
    #[serde(borrow)]
    vin: Option<Vec<Vin<'a>>>,
    #[serde(borrow)]
    vout: Option<Vec<Vout<'a>>>,
    #[serde(borrow)]
    blockhash: Option<Text<'a>>,
    blocktime: Option<u64>,
    in_active_chain: Option<bool>,
}

#[derive(Deserialize)]
struct RpcTx<'a> {
    #[serde(borrow)]
    txid: Text<'a>,
    #[serde(borrow)]
    vin: Vec<Vin<'a>>,
    #[serde(borrow)]
    vout: Vec<Vout<'a>>,
}

#[derive(Deserialize)]
struct Vin<'a> {
    #[serde(borrow)]
    coinbase: Option<Text<'a>>,
    #[serde(borrow)]
    txid: Option<Text<'a>>,
    vout: Option<u32>,
    #[serde(borrow)]
    prevout: Option<Prevout<'a>>,
}

#[derive(Deserialize)]
struct Prevout<'a> {
    #[serde(borrow)]
    value: RawJson<'a>,
    #[serde(borrow, rename = "scriptPubKey")]
    script_pub_key: Option<ScriptPubKey<'a>>,
}

#[derive(Deserialize)]
struct Vout<'a> {
    #[serde(borrow)]
    value: RawJson<'a>,
    n: u32,
    #[serde(borrow, rename = "scriptPubKey")]
    script_pub_key: Option<ScriptPubKey<'a>>,
}

#[derive(Deserialize)]
struct ScriptPubKey<'a> {
    #[serde(borrow)]
    addresses: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    address: Option<Text<'a>>,
}

const VERBOSITY: &str = "getblock must be called with verbosity 2 (`getblock <hash> 2`): \
     this block lists only transaction ids, which carry no values or addresses";

/// Parse one `getblock` (verbosity 2) or `getrawtransaction` (verbose) result.
pub fn parse(text: &str, out: &mut Vec<Raw>) -> Result<(), FieldError> {
    let rec: Record = decode(text).map_err(explain)?;
    if let Some(txs) = &rec.tx {
        if rec.confirmations == Some(-1) {
            return Err(FieldError::new(
                "confirmations",
                "-1: this block is not on the main chain (a stale block), its transactions did not happen",
            ));
        }
        let height = rec.height.ok_or_else(|| {
            FieldError::new("height", "required field is missing (getblock result)")
        })?;
        let time = rec.time.ok_or_else(|| {
            FieldError::new("time", "required field is missing (getblock result)")
        })?;
        let start = out.len();
        if let Some(c) = rec
            .confirmations
            .and_then(|c| u64::try_from(c).ok())
            .filter(|c| *c > 0)
        {
            out.push(Raw::BlockSeen(super::raw::BlockSeen {
                height,
                confirmations: c,
            }));
        }
        for (i, tx) in txs.iter().enumerate() {
            let index = u32::try_from(i)
                .map_err(|_| FieldError::new("tx", "more transactions than a block can hold"))?;
            let prefix = format!("tx[{i}].");
            match convert(&tx.txid, &tx.vin, &tx.vout, &prefix) {
                Ok((txid, coinbase, inputs, outputs)) => out.push(Raw::Utxo(RawUtxoTx {
                    txid,
                    block: BlockRef::Height(height),
                    index: Some(index),
                    time,
                    coinbase,
                    asset: "BTC".to_string(),
                    inputs,
                    outputs,
                })),
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        }
        return Ok(());
    }

    if rec.txid.is_none() && rec.vin.is_none() && rec.vout.is_none() {
        return Err(FieldError::new(
            "",
            "neither a getblock (verbosity 2) result (no `tx`) nor a getrawtransaction (verbose) result (no `txid`, `vin`, `vout`)",
        ));
    }
    let missing =
        |f: &str| FieldError::new(f, "required field is missing (getrawtransaction result)");
    let txid = rec.txid.as_ref().ok_or_else(|| missing("txid"))?;
    let vin = rec.vin.as_deref().ok_or_else(|| missing("vin"))?;
    let vout = rec.vout.as_deref().ok_or_else(|| missing("vout"))?;
    let Some(blockhash) = &rec.blockhash else {
        return Err(FieldError::new(
            "blockhash",
            "missing: the transaction is not in a block (unconfirmed, still in the mempool)",
        ));
    };
    let hash = txid_hex(blockhash, || "blockhash".to_string())?;
    if rec.in_active_chain == Some(false) {
        return Err(FieldError::new(
            "in_active_chain",
            "false: the block holding this transaction is not on the main chain",
        ));
    }
    let (txid, coinbase, inputs, outputs) = convert(txid, vin, vout, "")?;
    out.push(Raw::Utxo(RawUtxoTx {
        txid,
        block: BlockRef::Hash {
            hash,
            confirmations: rec.confirmations.and_then(|c| u64::try_from(c).ok()),
        },
        index: None,
        time: rec.blocktime.or(rec.time).unwrap_or(0),
        coinbase,
        asset: "BTC".to_string(),
        inputs,
        outputs,
    }));
    Ok(())
}

/// A verbosity-1 block fails on its first txid string: say what to do.
/// A bare JSON string is a non-verbose getrawtransaction (raw hex).
fn explain(e: FieldError) -> FieldError {
    let is_string = e.message.contains("found string");
    let in_tx_list = e
        .field
        .strip_prefix("tx[")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|n| n.bytes().all(|c| c.is_ascii_digit()));
    if is_string && in_tx_list {
        return FieldError::new("tx", VERBOSITY);
    }
    if is_string && e.field.is_empty() {
        return FieldError::new(
            "",
            "a bare string: call getrawtransaction with verbose=true (raw transaction hex is not read)",
        );
    }
    e
}

type Converted = (String, bool, Vec<RawInput>, Vec<RawOutput>);

/// The parts of a transaction object common to both RPC calls. `prefix` is
/// the path of the transaction object (`tx[2].` or empty).
fn convert(txid: &str, vin: &[Vin], vout: &[Vout], prefix: &str) -> Result<Converted, FieldError> {
    let txid = txid_hex(txid, || format!("{prefix}txid"))?;
    let coinbase = vin.first().is_some_and(|v| v.coinbase.is_some());

    let mut inputs = Vec::with_capacity(vin.len());
    for (i, v) in vin.iter().enumerate() {
        if v.coinbase.is_some() {
            continue;
        }
        let prev = v.txid.as_ref().ok_or_else(|| {
            FieldError::new(
                format!("{prefix}vin[{i}].txid"),
                "required field is missing (an input that is not a coinbase names the transaction it spends)",
            )
        })?;
        let prev_txid = txid_hex(prev, || format!("{prefix}vin[{i}].txid"))?;
        let n = v.vout.ok_or_else(|| {
            FieldError::new(
                format!("{prefix}vin[{i}].vout"),
                "required field is missing",
            )
        })?;
        let (owner, value) = match &v.prevout {
            None => (None, None),
            Some(p) => {
                let value = btc(p.value, || format!("{prefix}vin[{i}].prevout.value"))?;
                let addrs = script_addresses(p.script_pub_key.as_ref(), |k| {
                    format!("{prefix}vin[{i}].prevout.scriptPubKey.{k}")
                })?;
                let owner = (!addrs.is_empty()).then(|| {
                    let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
                    raw::owner_of(&refs, &prev_txid, n)
                });
                (owner, Some(value))
            }
        };
        inputs.push(RawInput {
            prev_txid,
            vout: n,
            owner,
            value,
        });
    }

    let mut outputs = Vec::with_capacity(vout.len());
    for (j, o) in vout.iter().enumerate() {
        let value = btc(o.value, || format!("{prefix}vout[{j}].value"))?;
        let addrs = script_addresses(o.script_pub_key.as_ref(), |k| {
            format!("{prefix}vout[{j}].scriptPubKey.{k}")
        })?;
        let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
        outputs.push((
            o.n,
            j,
            RawOutput {
                owner: raw::owner_of(&refs, &txid, o.n),
                value,
            },
        ));
    }
    let outputs = in_index_order(outputs, |j| format!("{prefix}vout[{j}].n"))?;
    Ok((txid, coinbase, inputs, outputs))
}

/// `addresses` (older nodes) or else `address` (newer nodes), validated.
/// `field` gets the rest of the path (`addresses[0]`, `address`).
fn script_addresses(
    spk: Option<&ScriptPubKey>,
    field: impl Fn(&str) -> String,
) -> Result<Vec<String>, FieldError> {
    let Some(spk) = spk else {
        return Ok(Vec::new());
    };
    let list = btc_addresses(spk.addresses.as_deref(), |k| {
        field(&format!("addresses[{k}]"))
    })?;
    if !list.is_empty() {
        return Ok(list);
    }
    match &spk.address {
        Some(a) => Ok(vec![btc_address(a, || field("address"))?]),
        None => Ok(Vec::new()),
    }
}

/// A BTC decimal literal (`50.0`, `0.00024200`, `1e-05`) to satoshis, from
/// its text.
fn btc(v: RawJson, field: impl FnOnce() -> String) -> Result<Amount, FieldError> {
    amount::parse_decimal_scaled(v.get(), 8).map_err(|e| {
        let msg = match e {
            amount::AmountError::NotInteger(_) if v.get().trim() != "null" => format!(
                "not an amount: {} (expected a BTC decimal number such as 0.01)",
                short(v.get().trim())
            ),
            amount::AmountError::TooPrecise(..) => format!(
                "amount {} BTC has more than 8 decimal places: it is not a whole number of satoshis",
                short(v.get().trim())
            ),
            _ => amount_message(v.get(), &e, "satoshis"),
        };
        FieldError::new(field(), msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GETBLOCK_50001: &str = include_str!(
        "../../fixtures/bitcoin-rpc/bitcoin/block_with_transactions/rpc_response_getblock_000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141_2.json"
    );
    const GETBLOCK_50002: &str = include_str!(
        "../../fixtures/bitcoin-rpc/bitcoin/block_with_transactions/rpc_response_getblock_000000002066d7f9b134c30b5005b7bf5fbfa52f279883f1fde793dcdc964266_2.json"
    );
    const ETL_50001_50002: &str = include_str!(
        "../../fixtures/bitcoin-etl/bitcoin/block_with_transactions/expected_transactions.json"
    );
    const ETL_STREAM_ENRICHED: &str = include_str!(
        "../../fixtures/bitcoin-etl/bitcoin/stream_50001_50002/expected_transactions.json"
    );
    const RAWTX: [&str; 3] = [
        include_str!(
            "../../fixtures/bitcoin-rpc/bitcoin/stream_50001_50002/rpc_response_getrawtransaction_0d37522b89f991f8433b80f709ad31862a54435cd003f25732fe405e9db93216.json"
        ),
        include_str!(
            "../../fixtures/bitcoin-rpc/bitcoin/stream_50001_50002/rpc_response_getrawtransaction_0dd0394c6240355f4e4b3c88028f678ed746cebee3b3e8509620733f018914c9.json"
        ),
        include_str!(
            "../../fixtures/bitcoin-rpc/bitcoin/stream_50001_50002/rpc_response_getrawtransaction_76a8d70a757be5055f60be076b683897cadaad6b7bdf78c43e39b9d59cb4a6ea.json"
        ),
    ];
    const DOGE_RAWTX: &str = include_str!(
        "../../fixtures/bitcoin-rpc/dogecoin/block_without_transactions/rpc_response_getrawtransaction_3b14b76d22a3f2859d73316002bc1b9bfc7f37e2c3393be9b722b62bbd786983.json"
    );
    const ZEC_GETBLOCK: &str = include_str!(
        "../../fixtures/bitcoin-rpc/zcash/block_with_shielded_addresses/rpc_response_getblock_000000124b0ed07b3dc5fb8ac4ab6b488120e95cfad8d4f7e4488e03e993203d_2.json"
    );
    const BCH_VERBOSITY_1: &str = include_str!(
        "../../fixtures/bitcoin-rpc/rejected/rpc_response_getblock_00000000000271a2dc26e7667f8419f2e15416dc6955e5a6c6cdf3f2574dd08e_True.json"
    );

    fn utxos(text: &str) -> Result<Vec<RawUtxoTx>, FieldError> {
        let mut out = Vec::new();
        parse(text, &mut out)?;
        Ok(out
            .into_iter()
            .filter_map(|r| match r {
                Raw::Utxo(u) => Some(u),
                Raw::BlockSeen(_) => None,
                other => panic!("not a UTXO record: {other:?}"),
            })
            .collect())
    }

    fn etl(text: &str) -> Vec<RawUtxoTx> {
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            super::super::bitcoin_etl::parse(line, &mut out).expect("bitcoin-etl line parses");
        }
        out.into_iter()
            .map(|r| match r {
                Raw::Utxo(u) => u,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn rpc_blocks() -> Vec<RawUtxoTx> {
        let mut v = utxos(GETBLOCK_50001).expect("block 50001");
        v.extend(utxos(GETBLOCK_50002).expect("block 50002"));
        v
    }

    #[test]
    fn every_fixture_record_parses() {
        assert_eq!(rpc_blocks().len(), 4);
        for t in RAWTX {
            assert_eq!(utxos(t).expect("getrawtransaction").len(), 1);
        }
        assert_eq!(
            utxos(DOGE_RAWTX).expect("dogecoin getrawtransaction").len(),
            1
        );
        assert_eq!(utxos(ZEC_GETBLOCK).expect("zcash getblock").len(), 4);
    }

    #[test]
    fn getblock_equals_bitcoin_etl_field_by_field() {
        let rpc = rpc_blocks();
        let etl = etl(ETL_50001_50002);
        assert_eq!(rpc.len(), etl.len());
        // This bitcoin-etl export is NOT enriched (input addresses [] and
        // value null), like getblock verbosity 2: the records are identical,
        // inputs included.
        assert!(etl
            .iter()
            .flat_map(|t| &t.inputs)
            .all(|i| i.owner.is_none() && i.value.is_none()));
        for (r, e) in rpc.iter().zip(&etl) {
            assert_eq!(r, e, "transaction {}", e.txid);
        }
    }

    #[test]
    fn getblock_equals_enriched_bitcoin_etl_except_input_enrichment() {
        let rpc = rpc_blocks();
        let etl = etl(ETL_STREAM_ENRICHED);
        assert_eq!(rpc.len(), etl.len());
        for (r, e) in rpc.iter().zip(&etl) {
            assert_eq!(
                (&r.txid, &r.block, r.index, r.time, r.coinbase, &r.asset, &r.outputs),
                (&e.txid, &e.block, e.index, e.time, e.coinbase, &e.asset, &e.outputs)
            );
            let links = |t: &RawUtxoTx| -> Vec<(String, u32)> {
                t.inputs
                    .iter()
                    .map(|i| (i.prev_txid.clone(), i.vout))
                    .collect()
            };
            assert_eq!(links(r), links(e));
            // getblock 2 does not say what an input spends; this export does
            assert!(r
                .inputs
                .iter()
                .all(|i| i.owner.is_none() && i.value.is_none()));
            assert!(e
                .inputs
                .iter()
                .all(|i| i.owner.is_some() && i.value.is_some()));
        }
    }

    #[test]
    fn enriched_inputs_match_the_outputs_they_spend() {
        // the spent outputs, from getrawtransaction, against bitcoin-etl's
        // enrichment of the inputs that spend them
        let spent: Vec<RawUtxoTx> = RAWTX
            .iter()
            .flat_map(|t| utxos(t).expect("parses"))
            .collect();
        let etl = etl(ETL_STREAM_ENRICHED);
        let mut checked = 0;
        for input in etl.iter().flat_map(|t| &t.inputs) {
            let src = spent
                .iter()
                .find(|s| s.txid == input.prev_txid)
                .expect("spent tx present");
            let o = &src.outputs[input.vout as usize];
            assert_eq!(input.owner.as_deref(), Some(o.owner.as_str()));
            assert_eq!(input.value, Some(o.value));
            checked += 1;
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn block_50001_coinbase_is_exactly_50_btc() {
        let rpc = rpc_blocks();
        let cb = &rpc[0];
        assert!(cb.coinbase);
        assert_eq!(cb.block, BlockRef::Height(50001));
        assert_eq!(cb.index, Some(0));
        assert_eq!(cb.time, 1270917100);
        assert!(cb.inputs.is_empty());
        assert_eq!(
            cb.outputs,
            vec![RawOutput {
                owner: "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ".into(),
                value: 5_000_000_000
            }]
        );
    }

    #[test]
    fn non_coinbase_input_links_are_exact() {
        let rpc = rpc_blocks();
        let tx = &rpc[2];
        assert_eq!(
            tx.txid,
            "f84761459a00c6df3176ae5d94c99e69f25100d09548e5686bd0c354bb8cc60a"
        );
        assert_eq!(tx.index, Some(2));
        assert!(!tx.coinbase);
        assert_eq!(
            tx.inputs,
            vec![RawInput {
                prev_txid: "0d37522b89f991f8433b80f709ad31862a54435cd003f25732fe405e9db93216"
                    .into(),
                vout: 0,
                owner: None,
                value: None
            }]
        );
    }

    #[test]
    fn getrawtransaction_names_its_block_by_hash() {
        let tx = &utxos(RAWTX[1]).expect("parses")[0];
        assert_eq!(
            tx.txid,
            "0dd0394c6240355f4e4b3c88028f678ed746cebee3b3e8509620733f018914c9"
        );
        assert_eq!(
            tx.block,
            BlockRef::Hash {
                hash: "0000000006a0f34040873c302b5cb6f181ec9afbadb9ebad3710cdfc85be006b".into(),
                confirmations: Some(502342)
            }
        );
        assert_eq!(tx.index, None);
        assert_eq!(tx.time, 1270840690);
        assert!(tx.coinbase);
        assert_eq!(
            tx.outputs,
            vec![RawOutput {
                owner: "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9".into(),
                value: 5_000_000_000
            }]
        );
        let doge = &utxos(DOGE_RAWTX).expect("parses")[0];
        assert_eq!(doge.outputs[0].value, 72_975_200_000_000);
    }

    #[test]
    fn zcash_shielded_only_transaction_has_no_inputs() {
        let txs = utxos(ZEC_GETBLOCK).expect("parses");
        let t = txs
            .iter()
            .find(|t| t.txid.starts_with("8aee5880"))
            .expect("tx");
        assert!(t.inputs.is_empty() && !t.coinbase);
        assert_eq!(t.outputs[0].value, 57_000_000);
    }

    #[test]
    fn verbosity_1_block_is_refused_on_tx() {
        let e = utxos(BCH_VERBOSITY_1).unwrap_err();
        assert_eq!(e.field, "tx");
        assert!(e.message.contains("verbosity 2"), "{}", e.message);
    }

    const T1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const T2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn block(vout: &str) -> String {
        format!(
            r#"{{"height":9,"time":5,"tx":[
                {{"txid":"{T1}","vin":[{{"coinbase":"00"}}],"vout":[{{"n":0,"value":50.0}}]}},
                {{"txid":"{T2}","hash":"ignored","vin":[{{"txid":"{T1}","vout":0}}],"vout":{vout}}}]}}"#
        )
    }

    #[test]
    fn malformed_amounts_name_the_field_path() {
        let e = utxos(&block(r#"[{"n":0,"value":1.234567891}]"#)).unwrap_err();
        assert_eq!(e.field, "tx[1].vout[0].value");
        assert!(
            e.message.contains("1.234567891") && e.message.contains("8 decimal places"),
            "{}",
            e.message
        );

        let e = utxos(&block(r#"[{"n":0,"value":1},{"n":1,"value":-0.5}]"#)).unwrap_err();
        assert_eq!(e.field, "tx[1].vout[1].value");
        assert!(e.message.contains("negative amount -0.5"), "{}", e.message);

        let e = utxos(&block(r#"[{"n":0,"value":"abc"}]"#)).unwrap_err();
        assert_eq!(e.field, "tx[1].vout[0].value");

        let e = utxos(&block(r#"[{"n":0}]"#)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("tx[1].vout[0].value", "required field is missing")
        );
    }

    #[test]
    fn bad_addresses_and_indices_name_the_field_path() {
        let e = utxos(&block(
            r#"[{"n":0,"value":1,"scriptPubKey":{"addresses":["1A","not an address"]}}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "tx[1].vout[0].scriptPubKey.addresses[1]");
        assert!(e.message.contains("not an address"), "{}", e.message);

        let e = utxos(&block(
            r#"[{"n":0,"value":1,"scriptPubKey":{"address":""}}]"#,
        ))
        .unwrap_err();
        assert_eq!(e.field, "tx[1].vout[0].scriptPubKey.address");

        let e = utxos(&block(r#"[{"n":1,"value":1}]"#)).unwrap_err();
        assert_eq!(e.field, "tx[1].vout[0].n");
    }

    #[test]
    fn exact_values_and_newer_node_addresses() {
        let txs = utxos(&block(
            r#"[{"n":1,"value":0.1,"scriptPubKey":{"address":"BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"}},
                {"n":0,"value":84841299.38700000,"scriptPubKey":{"type":"nulldata"}}]"#,
        ))
        .expect("parses");
        let t = &txs[1];
        assert_eq!(t.txid, T2);
        assert_eq!(t.index, Some(1));
        assert_eq!(t.block, BlockRef::Height(9));
        // 84841299.387 * 1e8 in f64 is 8484129938699999.x: the text gives the exact value
        assert_eq!(
            t.outputs[0],
            RawOutput {
                owner: format!("nonstandard:{T2}:0"),
                value: 8_484_129_938_700_000
            }
        );
        assert_eq!(
            t.outputs[1],
            RawOutput {
                owner: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".into(),
                value: 10_000_000
            }
        );
        assert_eq!(
            t.inputs,
            vec![RawInput {
                prev_txid: T1.into(),
                vout: 0,
                owner: None,
                value: None
            }]
        );
    }

    #[test]
    fn verbosity_3_prevout_gives_owner_and_value() {
        let rec = format!(
            r#"{{"txid":"{T2}","vin":[{{"txid":"{T1}","vout":3,"prevout":{{"value":0.00024200,"scriptPubKey":{{"address":"1Foo"}}}}}}],
                "vout":[{{"n":0,"value":0.0002}}],"blockhash":"{}","confirmations":2,"time":7}}"#,
            T1.to_uppercase()
        );
        let t = &utxos(&rec).expect("parses")[0];
        assert_eq!(
            t.inputs,
            vec![RawInput {
                prev_txid: T1.into(),
                vout: 3,
                owner: Some("1Foo".into()),
                value: Some(24_200)
            }]
        );
        assert_eq!(
            t.block,
            BlockRef::Hash {
                hash: T1.into(),
                confirmations: Some(2)
            }
        );
        assert_eq!(t.time, 7);
    }

    #[test]
    fn unconfirmed_stale_and_odd_records_are_refused() {
        let e = utxos(&format!(r#"{{"txid":"{T1}","vin":[],"vout":[]}}"#)).unwrap_err();
        assert_eq!(e.field, "blockhash");
        assert!(e.message.contains("not in a block"), "{}", e.message);

        let e = utxos(r#"{"height":1,"time":1,"confirmations":-1,"tx":[]}"#).unwrap_err();
        assert_eq!(e.field, "confirmations");

        let e = utxos(r#"{"height":1,"tx":[]}"#).unwrap_err();
        assert_eq!(e.field, "time");

        let e = utxos(r#"{"foo":1}"#).unwrap_err();
        assert_eq!(e.field, "");

        let e = utxos(r#""0100000001""#).unwrap_err();
        assert!(e.message.contains("verbose=true"), "{}", e.message);

        let e = utxos(&format!(
            r#"{{"height":1,"time":1,"tx":[{{"txid":"{T1}","vin":[{{"vout":0}}],"vout":[]}}]}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field, "tx[0].vin[0].txid");

        let mut out = Vec::new();
        for t in ["", "[]", "{", "null", r#"{"tx":"x"}"#, r#"{"tx":[1]}"#] {
            assert!(parse(t, &mut out).is_err(), "{t}");
        }
        assert!(out.is_empty());
    }
}
