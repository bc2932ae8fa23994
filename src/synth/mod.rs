//! Synthetic ledgers: deterministic generators of ledger exports for
//! benchmarks and tests. Same arguments, same bytes; written as a stream, so
//! memory does not grow with the ledger.
//!
//! - [`background_native`]: the benchmarks' plain economy in the native
//!   format (its bytes are fixed: `benches/` depend on them).
//! - [`generate`]: a scenario (a preset theft, one laundering typology, a
//!   comma-separated list of typologies, or only the background) over a
//!   background economy, in ethereum-etl, bitcoin-etl or native format, with
//!   `labels.csv` and `truth.json` (where the stolen value truly ends).
//!
//! The pieces: `economy` (the background actors, block by block),
//! `typology` (one function per laundering typology over the thief's
//! holdings), `scenario` (presets as compositions with realistic timing),
//! `writer` (one writer per export format).
//!
//! **Exactness.** Amounts are `u128` base units; `f64` only draws random
//! choices. No generated address spends more than the generated ledger
//! shows it receiving, except the service wallets given pre-sample balances
//! (documented at [`economy::PRESAMPLE`]), so the truth is exact:
//! per stolen asset, `stolen = Σ endpoints + Σ decoy dust + fees`.

use std::io::{self, Write};

/// A small, fast, deterministic PRNG (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A heavy-tailed index in `0..n`: low indices are far more likely
    /// (a few addresses do most of the activity, as on real chains).
    pub fn heavy(&mut self, n: u64) -> u64 {
        ((self.unit().powf(3.0)) * n as f64) as u64 % n.max(1)
    }
}

/// A 64-bit mix of `i` (SplitMix64's finaliser): spreads consecutive
/// numbers over the whole range, as real hashes and addresses are.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An EVM-style address for user `i` of a generated ledger: random-looking,
/// like real addresses, and distinct for distinct `i`.
pub fn address(i: u64) -> String {
    format!("0x{:016x}{:016x}{:08x}", mix(i), mix(i ^ 0x5eed), i as u32)
}

/// A transaction hash for transaction `k` of a generated ledger.
pub fn tx_hash(k: u64) -> String {
    format!(
        "0x{:016x}{:016x}{:016x}{:016x}",
        mix(k),
        mix(k + 1),
        mix(k + 2),
        k
    )
}

/// Write an account-model background economy in fundtrail's native format:
/// `movements` movements (transfers and their fees) among `movements / 8`
/// users with heavy-tailed activity, 100 transactions a block, ETH amounts
/// spread over six orders of magnitude. Returns the number of lines written.
pub fn background_native(seed: u64, movements: u64, out: &mut impl Write) -> io::Result<u64> {
    let mut rng = Rng::new(seed);
    let users = (movements / 8).max(16);
    let mut written = 0;
    let mut k = 0u64;
    while written < movements {
        let block = 1_000_000 + k / 100;
        let tx_index = k % 100;
        let time = 1_600_000_000 + (k / 100) * 12;
        let from = address(rng.heavy(users));
        let to = address(rng.below(users));
        let amount = 10u128.pow(15 + rng.below(6) as u32) * (1 + rng.below(999) as u128);
        let tx = tx_hash(k);
        writeln!(
            out,
            r#"{{"kind":"transfer","block":{block},"time":{time},"tx":"{tx}","tx_index":{tx_index},"seq":0,"from":"{from}","to":"{to}","asset":"ETH","amount":"{amount}"}}"#
        )?;
        written += 1;
        if written < movements {
            let fee = 21_000u128 * (10 + rng.below(90)) as u128 * 1_000_000_000;
            writeln!(
                out,
                r#"{{"kind":"fee","block":{block},"time":{time},"tx":"{tx}","tx_index":{tx_index},"seq":1,"from":"{from}","asset":"ETH","amount":"{fee}"}}"#
            )?;
            written += 1;
        }
        k += 1;
    }
    Ok(written)
}

pub mod economy;
pub mod scenario;
pub mod typology;
pub mod writer;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// An actor of a generated ledger. The top 16 bits name its role (see
/// [`ids`]); [`render`] turns it into an address of the chain.
pub type Id = u64;

/// Actor ids by role. Background users are `0..n` (so [`address`] of a user
/// is the same text [`background_native`] writes).
pub mod ids {
    use super::Id;
    const fn ns(k: u64) -> u64 {
        k << 48
    }
    pub const fn user(i: u64) -> Id {
        i
    }
    /// Exchange `e`'s hot wallet.
    pub const fn hot(e: u64) -> Id {
        ns(1) + e
    }
    /// Background user `u`'s deposit address at exchange `e`.
    pub const fn deposit(u: u64, e: u64) -> Id {
        ns(2) + u * 8 + e
    }
    pub const MIXER: Id = ns(3);
    /// Pays the gas of mixer withdrawals (pre-sample balance).
    pub const RELAYER: Id = ns(3) + 1;
    pub const BRIDGE: Id = ns(3) + 2;
    /// Calls the bridge to pay out incoming transfers (pre-sample balance).
    pub const BRIDGE_OPERATOR: Id = ns(3) + 3;
    pub const DEX: Id = ns(3) + 4;
    /// The one token contract (a dollar stablecoin, 6 decimals).
    pub const TOKEN: Id = ns(3) + 5;
    /// The wallet a case's theft comes from (pre-sample balance).
    pub const fn victim(case: u64) -> Id {
        ns(3) + 16 + case
    }
    /// Fresh addresses of clean users (mixer withdrawals).
    pub const fn fresh(n: u64) -> Id {
        ns(4) + n
    }
    /// The thief's addresses (seeds and launderers).
    pub const fn thief(n: u64) -> Id {
        ns(5) + n
    }
    pub fn is_thief(id: Id) -> bool {
        id >> 48 == 5
    }
    /// Exchange deposit addresses of accounts the thief opened.
    pub const fn thief_deposit(n: u64) -> Id {
        ns(6) + n
    }
    /// Look-alike `j` of thief address `thief(n)`: same first and last
    /// characters, different middle (address poisoning).
    pub const fn lookalike(n: u64, j: u64) -> Id {
        ns(7) + (n << 8) + (j & 0xff)
    }
    pub fn role(id: Id) -> u64 {
        id >> 48
    }
}

/// The chain model a scenario runs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Chain {
    /// Account model, ETH and one token.
    Eth,
    /// UTXO model, BTC.
    Btc,
}

/// An asset of a generated ledger.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Asset {
    Eth,
    Btc,
    Token,
}

impl Asset {
    /// The asset's name in fundtrail (`ETH`, `BTC`, the token's address).
    pub fn name(self) -> String {
        match self {
            Asset::Eth => "ETH".into(),
            Asset::Btc => "BTC".into(),
            Asset::Token => render(Chain::Eth, ids::TOKEN),
        }
    }
}

/// One ether (wei), one bitcoin (satoshi).
pub const ETH: u128 = 1_000_000_000_000_000_000;
pub const GWEI: u128 = 1_000_000_000;
pub const BTC: u128 = 100_000_000;

/// A bech32-looking Bitcoin address for actor `i` (`bc1q` and 38
/// characters), distinct for distinct `i`.
pub fn btc_address(i: u64) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut s = String::with_capacity(42);
    s.push_str("bc1q");
    let words = [mix(i), mix(i ^ 0xb7c), mix(i.rotate_left(17) ^ 0x5eed)];
    for k in 0..38 {
        let w = words[k / 13];
        s.push(CHARSET[((w >> ((k % 13) * 5)) & 31) as usize] as char);
    }
    s
}

/// The address of actor `id` on `chain`. Look-alikes copy the first and
/// last characters of the thief address they imitate.
pub fn render(chain: Chain, id: Id) -> String {
    // Users are `address(i)` (as in `background_native`); other roles end
    // in mixed bits too, so no address shows a role's counter.
    let base = |i: Id| match chain {
        Chain::Eth if ids::role(i) == 0 => address(i),
        Chain::Eth => format!(
            "0x{:016x}{:016x}{:08x}",
            mix(i),
            mix(i ^ 0x5eed),
            mix(!i) as u32
        ),
        Chain::Btc => btc_address(i),
    };
    if ids::role(id) == 7 {
        let n = (id & ((1 << 48) - 1)) >> 8;
        let target = base(ids::thief(n));
        let own = base(id);
        let (head, tail) = match chain {
            Chain::Eth => (6, 4),
            Chain::Btc => (8, 4),
        };
        let l = own.len();
        return format!(
            "{}{}{}",
            &target[..head],
            &own[head..l - tail],
            &target[l - tail..]
        );
    }
    base(id)
}

/// The hash of transaction `key` on `chain` (`0x` + 64 hex for Ethereum,
/// 64 hex for Bitcoin).
pub fn hash_of(chain: Chain, key: u64) -> String {
    let h = tx_hash(key);
    match chain {
        Chain::Eth => h,
        Chain::Btc => h[2..].to_string(),
    }
}

/// Tx keys: background transactions count from 0, planned (laundering)
/// ones from `PLAN_KEYS`, pre-sample outputs from `PRESAMPLE_KEYS`, block
/// hashes from `BLOCK_KEYS`.
pub const PLAN_KEYS: u64 = 1 << 62;
pub const PRESAMPLE_KEYS: u64 = 1 << 61;
pub const BLOCK_KEYS: u64 = 3 << 60;

/// An account-model transaction: a top-level value transfer, internal
/// transfers (written as traces), its fee (`gas * price`, paid by `from`),
/// and token transfers (of [`ids::TOKEN`]).
#[derive(Clone, Debug)]
pub struct AcctTx {
    pub key: u64,
    pub from: Id,
    pub to: Id,
    pub value: u128,
    pub gas: u64,
    pub price: u128,
    pub internal: Vec<(Id, Id, u128)>,
    pub tokens: Vec<(Id, Id, u128)>,
}

impl AcctTx {
    pub fn fee(&self) -> u128 {
        self.gas as u128 * self.price
    }
}

/// A spendable output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coin {
    pub key: u64,
    pub vout: u32,
    pub owner: Id,
    pub value: u128,
}

/// A UTXO transaction.
#[derive(Clone, Debug)]
pub struct UtxoTx {
    pub key: u64,
    pub coinbase: bool,
    pub inputs: Vec<Coin>,
    pub outputs: Vec<(Id, u128)>,
}

impl UtxoTx {
    pub fn fee(&self) -> u128 {
        if self.coinbase {
            return 0;
        }
        let i: u128 = self.inputs.iter().map(|c| c.value).sum();
        let o: u128 = self.outputs.iter().map(|o| o.1).sum();
        i - o
    }
    pub fn coin(&self, vout: usize) -> Coin {
        Coin {
            key: self.key,
            vout: vout as u32,
            owner: self.outputs[vout].0,
            value: self.outputs[vout].1,
        }
    }
}

/// One event of a block.
#[derive(Clone, Debug)]
pub enum Ev {
    Acct(AcctTx),
    /// A block reward (account model), credited after the block's
    /// transactions.
    Reward(Id, u128),
    Utxo(UtxoTx),
}

impl Ev {
    /// Movements in fundtrail's sense: each value transfer (top-level,
    /// internal, token), each non-zero fee, each reward; a UTXO transaction
    /// counts its outputs and its fee.
    pub fn movements(&self) -> u64 {
        match self {
            Ev::Acct(t) => {
                (t.value > 0) as u64
                    + t.internal.iter().filter(|i| i.2 > 0).count() as u64
                    + (t.fee() > 0) as u64
                    + t.tokens.iter().filter(|x| x.2 > 0).count() as u64
            }
            Ev::Reward(..) => 1,
            Ev::Utxo(t) => t.outputs.len() as u64 + (t.fee() > 0) as u64,
        }
    }
}

/// Output formats of [`generate`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    EthereumEtl,
    BitcoinEtl,
    Native,
}

impl Format {
    pub const NAMES: &'static str = "ethereum-etl, bitcoin-etl, native";
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "ethereum-etl" => Some(Format::EthereumEtl),
            "bitcoin-etl" => Some(Format::BitcoinEtl),
            "native" => Some(Format::Native),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::EthereumEtl => "ethereum-etl",
            Format::BitcoinEtl => "bitcoin-etl",
            Format::Native => "native",
        }
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub scenario: String,
    pub format: String,
    pub movements: u64,
    pub laundering_movements: u64,
    pub transactions: u64,
    pub blocks: u64,
    pub cases: usize,
    pub files: Vec<PathBuf>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} movements ({} laundering) in {} transactions over {} blocks, {} case(s)",
            self.scenario,
            self.format,
            self.movements,
            self.laundering_movements,
            self.transactions,
            self.blocks,
            self.cases
        )
    }
}

/// Background users for a ledger of `scale` movements: grows slowly.
pub fn users_for(scale: u64) -> u64 {
    (scale / 40).clamp(64, 250_000)
}

/// Write scenario `scenario` (see [`scenario::names`]) with `seed` and
/// about `scale` movements in `format` (default: native for `background`,
/// else the scenario chain's ETL format) into `out`: the ledger file(s),
/// `labels.csv` and `truth.json`. Same arguments, same bytes.
///
/// `background` in the native format is [`background_native`] exactly
/// (`ledger.jsonl`), with an empty truth and no labels.
pub fn generate(
    scenario: &str,
    seed: u64,
    scale: u64,
    format: Option<Format>,
    out: &Path,
) -> Result<Summary> {
    let spec = scenario::Spec::parse(scenario)?;
    let format = format.unwrap_or(match (spec.chain, spec.is_background()) {
        (_, true) => Format::Native,
        (Some(Chain::Btc), _) => Format::BitcoinEtl,
        _ => Format::EthereumEtl,
    });
    let chain = match (spec.chain, format) {
        (Some(Chain::Btc), Format::EthereumEtl) => {
            bail!("scenario {scenario:?} is a Bitcoin (UTXO) scenario: use --format bitcoin-etl or native")
        }
        (Some(Chain::Eth), Format::BitcoinEtl) => {
            bail!("scenario {scenario:?} needs the account model: use --format ethereum-etl or native")
        }
        (Some(c), _) => c,
        (None, Format::BitcoinEtl) => Chain::Btc,
        (None, _) => Chain::Eth,
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut summary = Summary {
        scenario: scenario.to_string(),
        format: format.name().to_string(),
        ..Default::default()
    };
    let create = |name: &str| -> Result<io::BufWriter<std::fs::File>> {
        let p = out.join(name);
        let f = std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(io::BufWriter::with_capacity(1 << 20, f))
    };
    if spec.is_background() && format == Format::Native && chain == Chain::Eth {
        let mut w = create("ledger.jsonl")?;
        summary.movements = background_native(seed, scale, &mut w)?;
        w.flush()?;
        summary.transactions = summary.movements.div_ceil(2);
        summary.blocks = summary.transactions.div_ceil(100);
        summary.files.push(out.join("ledger.jsonl"));
        write_labels(&mut create("labels.csv")?, chain, &[])?;
        summary.files.push(out.join("labels.csv"));
        let mut t = create("truth.json")?;
        scenario::write_truth(&mut t, chain, scenario, seed, scale, format, &[])?;
        summary.files.push(out.join("truth.json"));
        return Ok(summary);
    }

    let users = users_for(scale);
    let plan = scenario::plan(&spec, chain, seed, scale, users)?;
    summary.laundering_movements = plan.events.iter().map(|e| e.2.movements()).sum();
    summary.cases = plan.cases.len();
    let mut econ = economy::Economy::new(chain, seed, users);
    let mut w = writer::open(format, chain, out)?;
    let budget = scale.saturating_sub(summary.laundering_movements);
    let (start, span) = (plan.start, plan.span);
    let mut planned = plan.events.iter().peekable();
    let mut mix = Rng::new(seed ^ 0x1e7e_a5ed);
    let mut events: Vec<Ev> = Vec::new();
    let mut bg = 0u64;
    for b in start..start + span {
        let target = (budget as u128 * (b - start + 1) as u128 / span as u128) as u64;
        events.clear();
        let mut extra = Vec::new();
        while let Some((pb, _, _)) = planned.peek() {
            if *pb != b {
                break;
            }
            extra.push(planned.next().unwrap().2.clone());
        }
        bg += econ.block(b, target.saturating_sub(bg), &mut events);
        // Interleave the planned transactions at random places, keeping
        // their order (a planned transaction may spend an earlier one).
        if !extra.is_empty() {
            let n = events.len() as u64;
            let mut at: Vec<u64> = extra.iter().map(|_| mix.below(n + 1)).collect();
            at.sort_unstable();
            let old = std::mem::take(&mut events);
            let mut it = old.into_iter();
            let mut pos = 0u64;
            for (e, a) in extra.into_iter().zip(at) {
                while pos < a {
                    events.push(it.next().unwrap());
                    pos += 1;
                }
                events.push(e);
            }
            events.extend(it);
        }
        if events.is_empty() {
            continue;
        }
        econ.close_block(b, &mut events);
        for e in &events {
            summary.movements += e.movements();
            summary.transactions += !matches!(e, Ev::Reward(..)) as u64;
        }
        summary.blocks += 1;
        w.block(b, block_time(chain, b), &events)?;
    }
    summary.files.extend(w.finish()?);
    let mut labels = econ.labels();
    labels.extend(plan.labels.iter().cloned());
    write_labels(&mut create("labels.csv")?, chain, &labels)?;
    summary.files.push(out.join("labels.csv"));
    let mut t = create("truth.json")?;
    scenario::write_truth(&mut t, chain, scenario, seed, scale, format, &plan.cases)?;
    summary.files.push(out.join("truth.json"));
    Ok(summary)
}

/// First block and its time per chain.
pub fn first_block(chain: Chain) -> u64 {
    match chain {
        Chain::Eth => 14_000_000,
        Chain::Btc => 420_000,
    }
}

pub fn block_time(chain: Chain, b: u64) -> u64 {
    match chain {
        Chain::Eth => 1_640_000_000 + (b - first_block(chain)) * 12,
        Chain::Btc => 1_467_000_000 + (b - first_block(chain)) * 600,
    }
}

/// A label: actor, category, name.
pub type Label = (Id, &'static str, String);

fn write_labels(w: &mut impl Write, chain: Chain, labels: &[Label]) -> Result<()> {
    writeln!(w, "address,category,label")?;
    let mut rows: Vec<(String, &str, &str)> = labels
        .iter()
        .map(|(id, c, l)| (render(chain, *id), *c, l.as_str()))
        .collect();
    rows.sort();
    rows.dedup();
    for (a, c, l) in rows {
        writeln!(w, "{a},{c},{l}")?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        assert_eq!(background_native(7, 1000, &mut a).unwrap(), 1000);
        background_native(7, 1000, &mut b).unwrap();
        assert_eq!(a, b);
        let mut c = Vec::new();
        background_native(8, 1000, &mut c).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn every_line_is_a_native_record() {
        let mut a = Vec::new();
        background_native(1, 200, &mut a).unwrap();
        let text = String::from_utf8(a).unwrap();
        for line in text.lines() {
            let mut out = Vec::new();
            crate::ingest::native::parse(line, &mut out).unwrap();
            assert_eq!(out.len(), 1);
        }
    }
}

#[cfg(test)]
mod scenario_tests {
    //! Generated scenarios against their own ledgers: determinism, ingest
    //! without rejects, and the truth checked movement by movement.
    use super::*;
    use crate::ingest::{expand_paths, ingest_files, IngestOptions, OnError};
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap, HashSet};

    fn gen(
        scenario: &str,
        seed: u64,
        scale: u64,
        format: Option<Format>,
    ) -> (tempfile::TempDir, Summary) {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(scenario, seed, scale, format, dir.path()).unwrap();
        (dir, s)
    }

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.insert(
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
        out
    }

    fn ledger_files(s: &Summary) -> Vec<PathBuf> {
        s.files
            .iter()
            .filter(|p| !p.ends_with("labels.csv") && !p.ends_with("truth.json"))
            .cloned()
            .collect()
    }

    fn truth(dir: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
    }

    const ALL: [&str; 15] = [
        "lazarus-eth",
        "bybit-eth",
        "bitfinex-btc",
        "background",
        "fan-out",
        "peel-chain",
        "mixer",
        "scatter-gather",
        "gather-scatter",
        "cycle",
        "layers",
        "bridge",
        "swap",
        "decoys",
        "cash-out",
    ];

    #[test]
    fn the_same_arguments_write_the_same_bytes() {
        for (scenario, format) in [
            ("lazarus-eth", None),
            ("bitfinex-btc", None),
            ("bybit-eth", Some(Format::Native)),
            ("fan-out,peel-chain", Some(Format::BitcoinEtl)),
        ] {
            let (a, _) = gen(scenario, 5, 3000, format);
            let (b, _) = gen(scenario, 5, 3000, format);
            let (c, _) = gen(scenario, 6, 3000, format);
            assert_eq!(files(a.path()), files(b.path()), "{scenario}");
            assert_ne!(files(a.path()), files(c.path()), "{scenario}");
        }
    }

    #[test]
    fn background_native_is_the_bench_ledger() {
        let (d, s) = gen("background", 3, 5000, None);
        let mut want = Vec::new();
        background_native(3, 5000, &mut want).unwrap();
        assert_eq!(std::fs::read(d.path().join("ledger.jsonl")).unwrap(), want);
        assert_eq!(s.movements, 5000);
        assert_eq!(truth(d.path())["cases"], Value::Array(vec![]));
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let d = tempfile::tempdir().unwrap();
        let e = generate("fan-in", 1, 100, None, d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lazarus-eth") && e.contains("peel-chain"), "{e}");
        let e = generate("mixer", 1, 100, Some(Format::BitcoinEtl), d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("account model"), "{e}");
        let e = generate("bitfinex-btc", 1, 100, Some(Format::EthereumEtl), d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bitcoin-etl"), "{e}");
    }

    /// Every format of every scenario ingests without a reject, and the
    /// movement count is the one the summary promised.
    #[test]
    fn every_format_ingests_without_rejects() {
        for scenario in ALL {
            let chain_formats: &[Format] = match scenario {
                "bitfinex-btc" => &[Format::BitcoinEtl, Format::Native],
                "fan-out" | "peel-chain" | "cash-out" | "background" => {
                    &[Format::EthereumEtl, Format::BitcoinEtl, Format::Native]
                }
                _ => &[Format::EthereumEtl, Format::Native],
            };
            for &f in chain_formats {
                let (d, s) = gen(scenario, 2, 2000, Some(f));
                let paths = expand_paths(&ledger_files(&s)).unwrap();
                let opts = IngestOptions {
                    on_error: OnError::Skip,
                    ..Default::default()
                };
                let got = ingest_files(&paths, &opts).unwrap();
                assert!(
                    got.rejects.is_empty(),
                    "{scenario} {f:?}: {:?}",
                    got.rejects.first()
                );
                let l = &got.ledger;
                if f == Format::BitcoinEtl
                    || (f == Format::Native && s.format == "native" && !l.utxo_txs.is_empty())
                {
                    assert_eq!(l.utxo_txs.len() as u64, s.transactions, "{scenario} {f:?}");
                } else {
                    assert_eq!(l.movement_count() as u64, s.movements, "{scenario} {f:?}");
                }
                assert!(
                    s.movements >= 2000 && s.movements < 2100,
                    "{scenario} {f:?}: {s}"
                );
                drop(d);
            }
        }
    }

    /// Balances replayed from a native ledger, and what each address got
    /// from each sender.
    #[derive(Default)]
    struct Replay {
        balance: HashMap<(String, String), i128>,
        received: HashMap<(String, String, String), u128>,
        negative: HashSet<String>,
        /// UTXO: unspent outputs.
        unspent: HashMap<(String, u64), (String, u128)>,
    }

    fn replay(path: &Path) -> Replay {
        let mut r = Replay::default();
        let text = std::fs::read_to_string(path).unwrap();
        let amt = |v: &Value| v.as_str().unwrap().parse::<u128>().unwrap();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let kind = v["kind"].as_str().unwrap();
            let asset = v["asset"].as_str().unwrap_or("BTC").to_string();
            match kind {
                "transfer" | "fee" | "mint" => {
                    let x = amt(&v["amount"]);
                    if let Some(from) = v["from"].as_str() {
                        let b = r.balance.entry((from.into(), asset.clone())).or_default();
                        *b -= x as i128;
                        if *b < 0 {
                            r.negative.insert(from.to_string());
                        }
                    }
                    if let Some(to) = v["to"].as_str() {
                        *r.balance.entry((to.into(), asset.clone())).or_default() += x as i128;
                        let from = v["from"].as_str().unwrap_or("").to_string();
                        *r.received.entry((to.into(), asset, from)).or_default() += x;
                    }
                }
                "utxo" => {
                    let txid = v["txid"].as_str().unwrap().to_string();
                    for i in v["inputs"].as_array().unwrap() {
                        let k = (
                            i["txid"].as_str().unwrap().to_string(),
                            i["vout"].as_u64().unwrap(),
                        );
                        if r.unspent.remove(&k).is_none() {
                            // a pre-sample output
                            r.negative
                                .insert(i["address"].as_str().unwrap().to_string());
                        }
                    }
                    for (n, o) in v["outputs"].as_array().unwrap().iter().enumerate() {
                        let to = o["address"].as_str().unwrap().to_string();
                        let x = amt(&o["value"]);
                        r.unspent.insert((txid.clone(), n as u64), (to.clone(), x));
                        let from = v["inputs"]
                            .as_array()
                            .unwrap()
                            .first()
                            .and_then(|i| i["address"].as_str())
                            .unwrap_or("")
                            .to_string();
                        *r.received.entry((to, "BTC".into(), from)).or_default() += x;
                    }
                }
                _ => {}
            }
        }
        r
    }

    /// Addresses with pre-sample balances (economy::PRESAMPLE).
    fn presample(chain: Chain) -> HashSet<String> {
        let mut ids: Vec<Id> = (0..economy::EXCHANGES.len() as u64).map(ids::hot).collect();
        ids.extend([ids::BRIDGE, ids::BRIDGE_OPERATOR, ids::DEX, ids::RELAYER]);
        ids.extend((0..4).map(ids::victim));
        ids.into_iter().map(|i| render(chain, i)).collect()
    }

    /// The truth, checked against the ledger: no address but the pre-sample
    /// ones ever spends more than it received; each holding endpoint holds
    /// exactly its amount at the end; each service endpoint received
    /// exactly its amount from the thief; each decoy got exactly its dust
    /// from the thief; and stolen = Σ endpoints + Σ decoys + fees.
    #[test]
    fn the_truth_is_exact_per_the_ledger() {
        for scenario in ALL
            .iter()
            .chain(&["fan-out,cycle,decoys,swap", "peel-chain,cash-out"])
        {
            let (d, s) = gen(scenario, 4, 3000, Some(Format::Native));
            let chain = if s.scenario == "bitfinex-btc" {
                Chain::Btc
            } else {
                Chain::Eth
            };
            let r = replay(&d.path().join("ledger.jsonl"));
            let pre = presample(chain);
            if *scenario != "background" {
                let bad: Vec<_> = r.negative.difference(&pre).collect();
                assert!(
                    bad.is_empty(),
                    "{scenario}: {bad:?} spend more than they got"
                );
            }
            let t = truth(d.path());
            for case in t["cases"].as_array().unwrap() {
                let mut thief: HashSet<String> = HashSet::new();
                for k in ["seeds", "launderers"] {
                    for a in case[k].as_array().unwrap() {
                        thief.insert(a.as_str().unwrap().to_string());
                    }
                }
                let from_thief = |addr: &str, asset: &str| -> u128 {
                    thief
                        .iter()
                        .map(|f| {
                            r.received
                                .get(&(addr.to_string(), asset.to_string(), f.clone()))
                                .copied()
                                .unwrap_or(0)
                        })
                        .sum()
                };
                let n = |v: &Value| v.as_str().unwrap().parse::<u128>().unwrap();
                let mut sums: BTreeMap<String, u128> = BTreeMap::new();
                for e in case["endpoints"].as_array().unwrap() {
                    let (a, asset, x) = (
                        e["address"].as_str().unwrap(),
                        e["asset"].as_str().unwrap(),
                        n(&e["amount"]),
                    );
                    let have = if e["kind"] == "holding" {
                        if chain == Chain::Btc {
                            r.unspent
                                .values()
                                .filter(|(o, _)| o == a)
                                .map(|(_, v)| v)
                                .sum()
                        } else {
                            r.balance[&(a.to_string(), asset.to_string())] as u128
                        }
                    } else {
                        from_thief(a, asset)
                    };
                    assert_eq!(have, x, "{scenario}: endpoint {e}");
                    if e.get("swapped_from").is_none() {
                        *sums.entry(asset.to_string()).or_default() += x;
                    }
                }
                for e in case["decoys"].as_array().unwrap() {
                    let (a, asset, x) = (
                        e["address"].as_str().unwrap(),
                        e["asset"].as_str().unwrap(),
                        n(&e["amount"]),
                    );
                    assert_eq!(from_thief(a, asset), x, "{scenario}: decoy {e}");
                    assert!(x <= ETH / 1000, "{scenario}: decoy {e} got more than dust");
                    *sums.entry(asset.to_string()).or_default() += x;
                }
                for (asset, fee) in case["fees"].as_object().unwrap() {
                    *sums.entry(asset.clone()).or_default() += n(fee);
                }
                for (asset, stolen) in case["stolen"].as_object().unwrap() {
                    assert_eq!(
                        sums[asset],
                        n(stolen),
                        "{scenario}: {asset}: stolen = endpoints + decoys + fees"
                    );
                }
            }
        }
    }
}
