//! One writer per export format, fed block by block.
//!
//! - native: `ledger.jsonl`, fundtrail's own records (`transfer`, `fee`,
//!   `mint`, `asset`; `utxo` for Bitcoin).
//! - ethereum-etl: `transactions.json`, `traces.json` (only for
//!   transactions with internal transfers: the top-level call repeating the
//!   transaction's value, then one call per internal transfer; and block
//!   rewards), `token_transfers.json`, `tokens.json`.
//! - bitcoin-etl: `transactions.json`, inputs enriched with the address and
//!   value of the output they spend.

use super::{hash_of, render, Asset, Chain, Ev, Format, Id, UtxoTx, BLOCK_KEYS};
use anyhow::{Context, Result};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A ledger writer: blocks in increasing order, then `finish`.
pub trait LedgerWriter {
    fn block(&mut self, number: u64, time: u64, events: &[Ev]) -> io::Result<()>;
    /// Flush everything; returns the files written.
    fn finish(&mut self) -> io::Result<Vec<PathBuf>>;
}

struct Out {
    path: PathBuf,
    w: BufWriter<File>,
}

fn create(dir: &Path, name: &str) -> Result<Out> {
    let path = dir.join(name);
    let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Out {
        path,
        w: BufWriter::with_capacity(1 << 20, f),
    })
}

fn finish_all(outs: &mut [&mut Out]) -> io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for o in outs {
        o.w.flush()?;
        v.push(o.path.clone());
    }
    Ok(v)
}

/// Open the writer for `format` in `dir`.
pub fn open(format: Format, chain: Chain, dir: &Path) -> Result<Box<dyn LedgerWriter>> {
    Ok(match format {
        Format::Native => {
            let mut o = create(dir, "ledger.jsonl")?;
            if chain == Chain::Eth {
                writeln!(
                    o.w,
                    r#"{{"kind":"asset","asset":"{}","symbol":"USDS","decimals":6}}"#,
                    Asset::Token.name()
                )?;
            }
            Box::new(Native { o, chain })
        }
        Format::EthereumEtl => {
            let mut tokens = create(dir, "tokens.json")?;
            writeln!(
                tokens.w,
                r#"{{"type": "token", "address": "{}", "symbol": "USDS", "name": "Synthetic USD", "decimals": 6, "total_supply": null}}"#,
                Asset::Token.name()
            )?;
            Box::new(EthEtl {
                txs: create(dir, "transactions.json")?,
                traces: create(dir, "traces.json")?,
                transfers: create(dir, "token_transfers.json")?,
                tokens,
                nonce: FxHashMap::default(),
                names: Names::default(),
            })
        }
        Format::BitcoinEtl => Box::new(BtcEtl {
            o: create(dir, "transactions.json")?,
        }),
    })
}

/// Rendered addresses of the most recent actors (rendering is most of the
/// cost of writing; a small direct-mapped cache keeps memory bounded).
struct Names {
    slots: Vec<(Id, String)>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            slots: vec![(u64::MAX, String::new()); 1 << 14],
        }
    }
}

impl Names {
    fn get(&mut self, chain: Chain, id: Id) -> &str {
        let k = (super::mix(id) as usize) & (self.slots.len() - 1);
        if self.slots[k].0 != id {
            self.slots[k] = (id, render(chain, id));
        }
        &self.slots[k].1
    }
}

// ---- native --------------------------------------------------------------

struct Native {
    o: Out,
    chain: Chain,
}

impl LedgerWriter for Native {
    fn block(&mut self, b: u64, time: u64, events: &[Ev]) -> io::Result<()> {
        let c = self.chain;
        let w = &mut self.o.w;
        let a = |id| render(c, id);
        let mut index = 0u32;
        for ev in events {
            match ev {
                Ev::Acct(t) => {
                    let tx = hash_of(c, t.key);
                    let mut seq = 0u32;
                    let transfer = |w: &mut BufWriter<File>,
                                    seq: &mut u32,
                                    from,
                                    to,
                                    asset: &str,
                                    x: u128| {
                        let s = *seq;
                        *seq += 1;
                        writeln!(
                            w,
                            r#"{{"kind":"transfer","block":{b},"time":{time},"tx":"{tx}","tx_index":{index},"seq":{s},"from":"{}","to":"{}","asset":"{asset}","amount":"{x}"}}"#,
                            a(from),
                            a(to)
                        )
                    };
                    if t.value > 0 {
                        transfer(w, &mut seq, t.from, t.to, "ETH", t.value)?;
                    }
                    for &(f, to, x) in &t.internal {
                        if x > 0 {
                            transfer(w, &mut seq, f, to, "ETH", x)?;
                        }
                    }
                    let fee_seq = seq;
                    seq += 1;
                    if t.fee() > 0 {
                        writeln!(
                            w,
                            r#"{{"kind":"fee","block":{b},"time":{time},"tx":"{tx}","tx_index":{index},"seq":{fee_seq},"from":"{}","asset":"ETH","amount":"{}"}}"#,
                            a(t.from),
                            t.fee()
                        )?;
                    }
                    let token = Asset::Token.name();
                    for &(f, to, x) in &t.tokens {
                        transfer(w, &mut seq, f, to, &token, x)?;
                    }
                    index += 1;
                }
                Ev::Reward(to, x) => {
                    writeln!(
                        w,
                        r#"{{"kind":"mint","block":{b},"time":{time},"tx_index":{},"to":"{}","asset":"ETH","amount":"{x}"}}"#,
                        events.len(),
                        a(*to)
                    )?;
                }
                Ev::Utxo(t) => {
                    write!(
                        w,
                        r#"{{"kind":"utxo","txid":"{}","block":{b},"index":{index},"time":{time},"asset":"BTC","coinbase":{},"inputs":["#,
                        hash_of(c, t.key),
                        t.coinbase
                    )?;
                    for (k, i) in t.inputs.iter().enumerate() {
                        let sep = if k > 0 { "," } else { "" };
                        write!(
                            w,
                            r#"{sep}{{"txid":"{}","vout":{},"address":"{}","value":"{}"}}"#,
                            hash_of(c, i.key),
                            i.vout,
                            a(i.owner),
                            i.value
                        )?;
                    }
                    write!(w, r#"],"outputs":["#)?;
                    for (k, (o, v)) in t.outputs.iter().enumerate() {
                        let sep = if k > 0 { "," } else { "" };
                        write!(w, r#"{sep}{{"address":"{}","value":"{v}"}}"#, a(*o))?;
                    }
                    writeln!(w, "]}}")?;
                    index += 1;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<Vec<PathBuf>> {
        finish_all(&mut [&mut self.o])
    }
}

// ---- ethereum-etl --------------------------------------------------------

struct EthEtl {
    txs: Out,
    traces: Out,
    transfers: Out,
    tokens: Out,
    nonce: FxHashMap<Id, u64>,
    names: Names,
}

impl EthEtl {
    fn trace(
        &mut self,
        tx: &str,
        head: &str,
        path: Option<usize>,
        (from, to, value): (Id, Id, u128),
        subtraces: usize,
    ) -> io::Result<()> {
        let from = self.names.get(Chain::Eth, from).to_string();
        let to = self.names.get(Chain::Eth, to);
        let (ta, id) = match path {
            None => ("[]".to_string(), String::new()),
            Some(k) => (format!("[{k}]"), k.to_string()),
        };
        writeln!(
            self.traces.w,
            r#"{{"type": "trace", "transaction_hash": "{tx}", {head}, "trace_type": "call", "call_type": "call", "error": null, "status": 1, "subtraces": {subtraces}, "from_address": "{from}", "to_address": "{to}", "value": {value}, "gas": 0, "gas_used": 0, "input": "0x", "output": "0x", "trace_address": {ta}, "trace_id": "call_{tx}_{id}"}}"#
        )
    }
}

impl LedgerWriter for EthEtl {
    fn block(&mut self, b: u64, time: u64, events: &[Ev]) -> io::Result<()> {
        let block_hash = hash_of(Chain::Eth, BLOCK_KEYS + b);
        let mut index = 0usize;
        let mut cum_gas = 0u64;
        let mut log = 0usize;
        let mut rewards = 0;
        for ev in events {
            match ev {
                Ev::Acct(t) => {
                    let tx = hash_of(Chain::Eth, t.key);
                    let nonce = {
                        let n = self.nonce.entry(t.from).or_insert(0);
                        *n += 1;
                        *n - 1
                    };
                    cum_gas += t.gas;
                    let from = self.names.get(Chain::Eth, t.from).to_string();
                    let to = self.names.get(Chain::Eth, t.to).to_string();
                    let input = if t.internal.is_empty() && t.tokens.is_empty() && t.gas == 21_000 {
                        "0x"
                    } else {
                        "0xa9059cbb"
                    };
                    writeln!(
                        self.txs.w,
                        r#"{{"type": "transaction", "hash": "{tx}", "nonce": {nonce}, "transaction_index": {index}, "from_address": "{from}", "to_address": "{to}", "value": {}, "gas": {}, "gas_price": {}, "input": "{input}", "block_timestamp": {time}, "block_number": {b}, "block_hash": "{block_hash}", "receipt_cumulative_gas_used": {cum_gas}, "receipt_gas_used": {}, "receipt_contract_address": null, "receipt_status": 1, "receipt_effective_gas_price": {}}}"#,
                        t.value,
                        t.gas + t.gas / 4,
                        t.price,
                        t.gas,
                        t.price
                    )?;
                    if !t.internal.is_empty() {
                        let head = format!(
                            r#""transaction_index": {index}, "block_number": {b}, "block_timestamp": {time}"#
                        );
                        self.trace(&tx, &head, None, (t.from, t.to, t.value), t.internal.len())?;
                        for (k, &m) in t.internal.iter().enumerate() {
                            self.trace(&tx, &head, Some(k), m, 0)?;
                        }
                    }
                    for &(f, to, x) in &t.tokens {
                        let fa = self.names.get(Chain::Eth, f).to_string();
                        let ta = self.names.get(Chain::Eth, to);
                        writeln!(
                            self.transfers.w,
                            r#"{{"type": "token_transfer", "token_address": "{}", "from_address": "{fa}", "to_address": "{ta}", "value": {x}, "transaction_hash": "{tx}", "log_index": {log}, "block_number": {b}, "block_timestamp": {time}}}"#,
                            Asset::Token.name()
                        )?;
                        log += 1;
                    }
                    index += 1;
                }
                Ev::Reward(to, x) => {
                    let ta = self.names.get(Chain::Eth, *to);
                    writeln!(
                        self.traces.w,
                        r#"{{"type": "trace", "transaction_hash": null, "transaction_index": null, "block_number": {b}, "block_timestamp": {time}, "trace_type": "reward", "reward_type": "block", "call_type": null, "error": null, "status": 1, "subtraces": 0, "from_address": null, "to_address": "{ta}", "value": {x}, "trace_address": [], "trace_id": "reward_{block_hash}_{rewards}"}}"#
                    )?;
                    rewards += 1;
                }
                Ev::Utxo(_) => unreachable!("no UTXO transactions on Ethereum"),
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<Vec<PathBuf>> {
        finish_all(&mut [
            &mut self.txs,
            &mut self.traces,
            &mut self.transfers,
            &mut self.tokens,
        ])
    }
}

// ---- bitcoin-etl -----------------------------------------------------------

struct BtcEtl {
    o: Out,
}

impl BtcEtl {
    fn tx(&mut self, b: u64, time: u64, index: usize, t: &UtxoTx) -> io::Result<()> {
        let c = Chain::Btc;
        let w = &mut self.o.w;
        let hash = hash_of(c, t.key);
        let block_hash = hash_of(c, BLOCK_KEYS + b);
        let size = 10 + 148 * t.inputs.len() + 34 * t.outputs.len();
        let vsize = 11 + 68 * t.inputs.len() + 31 * t.outputs.len();
        write!(
            w,
            r#"{{"type": "transaction", "hash": "{hash}", "size": {size}, "virtual_size": {vsize}, "version": 2, "lock_time": 0, "block_number": {b}, "block_hash": "{block_hash}", "block_timestamp": {time}, "is_coinbase": {}, "index": {index}, "inputs": ["#,
            t.coinbase
        )?;
        if t.coinbase {
            write!(
                w,
                r#"{{"index": 0, "spent_transaction_hash": null, "spent_output_index": null, "script_asm": "", "script_hex": "03", "sequence": 4294967295, "required_signatures": null, "type": "coinbase", "addresses": [], "value": null}}"#
            )?;
        }
        for (k, i) in t.inputs.iter().enumerate() {
            let sep = if k > 0 { ", " } else { "" };
            write!(
                w,
                r#"{sep}{{"index": {k}, "spent_transaction_hash": "{}", "spent_output_index": {}, "script_asm": "", "script_hex": "", "sequence": 4294967293, "required_signatures": 1, "type": "witness_v0_keyhash", "addresses": ["{}"], "value": {}}}"#,
                hash_of(c, i.key),
                i.vout,
                render(c, i.owner),
                i.value
            )?;
        }
        write!(w, r#"], "outputs": ["#)?;
        for (k, (o, v)) in t.outputs.iter().enumerate() {
            let sep = if k > 0 { ", " } else { "" };
            write!(
                w,
                r#"{sep}{{"index": {k}, "script_asm": "0 {:040x}", "script_hex": "", "required_signatures": 1, "type": "witness_v0_keyhash", "addresses": ["{}"], "value": {v}}}"#,
                super::mix(*o) as u128,
                render(c, *o)
            )?;
        }
        let iv: u128 = t.inputs.iter().map(|i| i.value).sum();
        let ov: u128 = t.outputs.iter().map(|o| o.1).sum();
        writeln!(
            w,
            r#"], "input_count": {}, "output_count": {}, "input_value": {iv}, "output_value": {ov}, "fee": {}, "item_id": "transaction_{hash}"}}"#,
            t.inputs.len() + t.coinbase as usize,
            t.outputs.len(),
            t.fee()
        )
    }
}

impl LedgerWriter for BtcEtl {
    fn block(&mut self, b: u64, time: u64, events: &[Ev]) -> io::Result<()> {
        for (index, ev) in events.iter().enumerate() {
            match ev {
                Ev::Utxo(t) => self.tx(b, time, index, t)?,
                _ => unreachable!("only UTXO transactions on Bitcoin"),
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<Vec<PathBuf>> {
        finish_all(&mut [&mut self.o])
    }
}
