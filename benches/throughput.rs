//! Throughput report: every figure beside its baseline, measured in the same
//! process on the same file.
//!
//! ```text
//! cargo bench --bench throughput -- --movements 1000000 [--movements N ...] [--etl-movements N ...] [--btc-movements N ...] [--fixtures] [--reps K]
//! ```
//!
//! For each size it generates (or reuses) `target/bench/background-N.jsonl`
//! (`synth::background_native`, seed 1) and measures:
//!
//! 1. the parse floor: a single-thread typed `serde_json` parse of every line
//!    of the file (read included) into a borrowed struct, building nothing;
//! 2. ingest (the whole pipeline, default rayon pool) against the floor,
//!    the two measured in alternating rounds (at least two; `--reps K`
//!    gives K) so that a machine whose speed drifts weighs on both alike;
//! 3. the store: write, size per movement (with and without the address and
//!    hash tables), open;
//! 4. trace from the opened store, per policy, seeded at a busy address,
//!    against a straightforward replay of the haircut semantics over
//!    `serde_json::Value` records and a `HashMap<String, (u128, u128)>`;
//! 5. trace-from-store time as a fraction of the parse-floor time;
//! 6. peak RSS per phase (VmHWM, reset between phases through
//!    `/proc/self/clear_refs` where the kernel allows it).
//!
//! `--etl-movements N` generates (or reuses) an ethereum-etl ledger of about
//! N movements (`synth::generate`, scenario `background`, seed 1) in
//! `target/bench/background-etl-N/` and runs 1-2 on its files, the format
//! real exports come in most. `--btc-movements N` does the same with a
//! bitcoin-etl ledger (`target/bench/background-btc-N/`), the UTXO model.
//!
//! `--fixtures` also runs 1-4 over the real fixtures (no replay baseline
//! there: it reads only the native format). Without `--bench` on the command
//! line (as under `cargo test --all-targets`) it does a 1000-movement smoke
//! run in a temporary directory and exits.

#[path = "common/floor.rs"]
mod floor;

use floor::NativeRec;
use fundtrail::ingest::{self, IngestOptions};
use fundtrail::ledger::Ledger;
use fundtrail::model::AddrId;
use fundtrail::store;
use fundtrail::synth;
use fundtrail::trace::{self, Policy, TracePlan, TraceResult};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Command line

struct Args {
    sizes: Vec<u64>,
    /// Sizes of generated ethereum-etl ledgers to ingest (`--etl-movements`).
    etl_sizes: Vec<u64>,
    /// Sizes of generated bitcoin-etl ledgers to ingest (`--btc-movements`).
    btc_sizes: Vec<u64>,
    fixtures: bool,
    reps: Option<usize>,
    smoke: bool,
}

fn parse_args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut a = Args {
        sizes: Vec::new(),
        etl_sizes: Vec::new(),
        btc_sizes: Vec::new(),
        fixtures: false,
        reps: None,
        smoke: !raw.iter().any(|s| s == "--bench"),
    };
    let mut it = raw.iter();
    while let Some(s) = it.next() {
        match s.as_str() {
            "--movements" => match it.next().and_then(|v| parse_count(v)) {
                Some(n) if n > 0 => a.sizes.push(n),
                _ => die("--movements wants a positive count (1000000, 1e6, 1M)"),
            },
            "--etl-movements" => match it.next().and_then(|v| parse_count(v)) {
                Some(n) if n > 0 => a.etl_sizes.push(n),
                _ => die("--etl-movements wants a positive count (1000000, 1e6, 1M)"),
            },
            "--btc-movements" => match it.next().and_then(|v| parse_count(v)) {
                Some(n) if n > 0 => a.btc_sizes.push(n),
                _ => die("--btc-movements wants a positive count (1000000, 1e6, 1M)"),
            },
            "--fixtures" => a.fixtures = true,
            "--reps" => match it.next().and_then(|v| v.parse().ok()) {
                Some(k) if k > 0 => a.reps = Some(k),
                _ => die("--reps wants a positive count"),
            },
            _ => {} // `--bench` and whatever the test harness passes
        }
    }
    if a.sizes.is_empty() && a.etl_sizes.is_empty() && a.btc_sizes.is_empty() && !a.fixtures {
        a.sizes.push(1_000_000);
    }
    a
}

fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    let (num, mul) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1e3),
        'm' | 'M' => (&s[..s.len() - 1], 1e6),
        'g' | 'G' => (&s[..s.len() - 1], 1e9),
        _ => (&s[..], 1.0),
    };
    let v: f64 = num.parse().ok()?;
    Some((v * mul).round() as u64)
}

fn die(msg: &str) -> ! {
    eprintln!("throughput: {msg}");
    std::process::exit(2)
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench")
}

// ---------------------------------------------------------------------------
// Measuring

/// Best (least) wall time of `reps` runs, and the last run's result. The
/// previous result is dropped before each run, so a large one is never held
/// twice.
fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut min = Duration::MAX;
    for _ in 0..reps.max(1) {
        drop(out.take());
        let t = Instant::now();
        let r = f();
        min = min.min(t.elapsed());
        out = Some(r);
    }
    (min, out.expect("ran at least once"))
}

/// For small inputs: batches of runs that last at least `batch` each; the
/// best batch's time per run.
fn best_small<T>(batch: Duration, batches: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let t = Instant::now();
    let mut r = f();
    let once = t.elapsed().max(Duration::from_nanos(100));
    let per_batch = ((batch.as_secs_f64() / once.as_secs_f64()).ceil() as usize).clamp(1, 100_000);
    let mut min = once;
    for _ in 0..batches {
        let t = Instant::now();
        for _ in 0..per_batch {
            r = black_box(f());
        }
        min = min.min(t.elapsed() / per_batch as u32);
    }
    (min, r)
}

/// Reset the peak-RSS mark (Linux >= 4.0); false where not allowed.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// VmHWM (peak resident set) in bytes, where /proc tells it.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Peaks {
    resettable: bool,
    phases: Vec<(String, u64)>,
}

impl Peaks {
    fn new() -> Peaks {
        Peaks {
            resettable: reset_peak(),
            phases: Vec::new(),
        }
    }
    /// Record the peak since the last mark under `name` (the larger one
    /// where `name` was marked before), then reset it.
    fn mark(&mut self, name: &str) {
        if let Some(p) = peak_rss() {
            match self.phases.iter_mut().find(|(n, _)| n == name) {
                Some((_, q)) => *q = (*q).max(p),
                None => self.phases.push((name.to_string(), p)),
            }
        }
        if self.resettable {
            reset_peak();
        }
    }
}

// ---------------------------------------------------------------------------
// Formatting

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn rate(n: f64, d: Duration) -> f64 {
    n / d.as_secs_f64().max(1e-12)
}

fn mbs(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", rate(bytes as f64, d) / 1e6)
}

fn per_s(n: u64, d: Duration, what: &str) -> String {
    let r = rate(n as f64, d);
    if r >= 1e6 {
        format!("{:.1} M {what}/s", r / 1e6)
    } else {
        format!("{:.0} k {what}/s", r / 1e3)
    }
}

fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b} B")
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A markdown table, printed row by row as it fills (a long run shows
/// progress).
struct Table;

impl Table {
    fn new(header: &[&str]) -> Table {
        let t = Table;
        t.row(header);
        let dashes: Vec<&str> = header.iter().map(|_| "---").collect();
        t.row(&dashes);
        t
    }
    fn row<S: AsRef<str>>(&self, cells: &[S]) {
        let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        println!("| {} |", cells.join(" | "));
        let _ = std::io::stdout().flush();
    }
}

fn say(s: &str) {
    println!("{s}");
    let _ = std::io::stdout().flush();
}

fn progress(s: &str) {
    eprintln!("throughput: {s}");
}

// ---------------------------------------------------------------------------
// The parse floor

/// One ethereum-etl or bitcoin-etl record, typed and borrowed (the union of
/// the fields fundtrail reads from either; `Cow` borrows unless escaped).
#[derive(Deserialize)]
#[allow(dead_code)]
struct EtlRec<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    hash: Option<Cow<'a, str>>,
    #[serde(borrow)]
    transaction_hash: Option<Cow<'a, str>>,
    #[serde(borrow)]
    block_number: Option<&'a RawValue>,
    #[serde(borrow)]
    block_timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    transaction_index: Option<&'a RawValue>,
    #[serde(borrow)]
    from_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    #[serde(borrow)]
    gas_price: Option<&'a RawValue>,
    #[serde(borrow)]
    receipt_gas_used: Option<&'a RawValue>,
    #[serde(borrow)]
    receipt_effective_gas_price: Option<&'a RawValue>,
    #[serde(borrow)]
    receipt_status: Option<&'a RawValue>,
    #[serde(borrow)]
    receipt_contract_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    token_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    log_index: Option<&'a RawValue>,
    #[serde(borrow)]
    trace_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    trace_address: Option<&'a RawValue>,
    #[serde(borrow)]
    call_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    symbol: Option<&'a RawValue>,
    #[serde(borrow)]
    decimals: Option<&'a RawValue>,
    index: Option<u32>,
    is_coinbase: Option<bool>,
    #[serde(borrow)]
    inputs: Option<Vec<EtlInput<'a>>>,
    #[serde(borrow)]
    outputs: Option<Vec<EtlOutput<'a>>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct EtlInput<'a> {
    #[serde(borrow)]
    spent_transaction_hash: Option<Cow<'a, str>>,
    spent_output_index: Option<u32>,
    #[serde(borrow)]
    addresses: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct EtlOutput<'a> {
    index: u32,
    #[serde(borrow)]
    addresses: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    value: &'a RawValue,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum FloorKind {
    Native,
    Etl,
}

/// Read each file and parse every non-blank line, on this thread; returns
/// (bytes read, records parsed, lines that failed, time spent reading the
/// files into memory).
fn parse_floor(paths: &[PathBuf], kind: FloorKind) -> (u64, u64, u64, Duration) {
    let (mut b, mut n, mut bad) = (0u64, 0u64, 0u64);
    let mut reading = Duration::ZERO;
    for p in paths {
        let t = Instant::now();
        let text = std::fs::read_to_string(p).expect("read the bench file");
        reading += t.elapsed();
        b += text.len() as u64;
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let ok = match kind {
                FloorKind::Native => serde_json::from_str::<NativeRec>(line)
                    .map(|r| {
                        black_box(&r);
                    })
                    .is_ok(),
                FloorKind::Etl => serde_json::from_str::<EtlRec>(line)
                    .map(|r| {
                        black_box(&r);
                    })
                    .is_ok(),
            };
            if ok {
                n += 1;
            } else {
                bad += 1;
            }
        }
    }
    (b, n, bad, reading)
}

// ---------------------------------------------------------------------------
// The straightforward replay (what a user would write in an afternoon)

/// A movement as the obvious program keeps it.
struct PlainMove {
    block: u64,
    tx_index: u64,
    seq: u64,
    from: Option<String>,
    to: Option<String>,
    asset: String,
    amount: u128,
}

fn parse_values(path: &Path) -> Vec<PlainMove> {
    let f = std::fs::File::open(path).expect("open the bench file");
    let mut out = Vec::new();
    for line in BufReader::new(f).lines() {
        let line = line.expect("read a line");
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        let kind = v["kind"].as_str().unwrap_or("");
        if kind != "transfer" && kind != "fee" && kind != "mint" {
            continue;
        }
        let amount = match &v["amount"] {
            serde_json::Value::String(s) => s.parse::<u128>().expect("an integer amount"),
            n => n.as_u64().expect("an integer amount") as u128,
        };
        let text = |k: &str| v[k].as_str().map(|s| s.to_string());
        out.push(PlainMove {
            block: v["block"].as_u64().unwrap_or(0),
            tx_index: v["tx_index"].as_u64().unwrap_or(0),
            seq: v["seq"].as_u64().unwrap_or(0),
            from: if kind == "mint" { None } else { text("from") },
            to: if kind == "fee" { None } else { text("to") },
            asset: text("asset").unwrap_or_default(),
            amount,
        });
    }
    out
}

#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct PlainTotals {
    seeded: u128,
    held: u128,
    fees: u128,
}

/// Haircut over the records: per asset a map address -> (balance, taint);
/// a debit beyond the balance reveals missing history (tainted for a seed);
/// a payment carries floor(x * T / B); whatever a seed receives is tainted.
fn replay_values(mut moves: Vec<PlainMove>, seed: &str) -> (PlainTotals, usize) {
    moves.sort_by_key(|m| (m.block, m.tx_index, m.seq));
    let n = moves.len();
    let mut books: HashMap<String, HashMap<String, (u128, u128)>> = HashMap::new();
    let mut t = PlainTotals::default();
    for m in moves {
        let book = books.entry(m.asset).or_default();
        let x = m.amount;
        let mut carried = 0u128;
        if let Some(from) = m.from {
            let is_seed = from == seed;
            let a = book.entry(from).or_insert((0, 0));
            if a.0 < x {
                let missing = x - a.0;
                a.0 += missing;
                if is_seed {
                    a.1 += missing;
                    t.seeded += missing;
                }
            }
            carried = if a.1 == 0 || x == 0 {
                0
            } else if a.1 == a.0 {
                x
            } else {
                let q = ethnum::U256::from(x) * ethnum::U256::from(a.1) / ethnum::U256::from(a.0);
                q.as_u128()
            };
            a.0 -= x;
            a.1 -= carried;
        }
        match m.to {
            None => t.fees += carried,
            Some(to) => {
                let to_seed = to == seed;
                let a = book.entry(to).or_insert((0, 0));
                a.0 += x;
                if to_seed {
                    t.seeded += x - carried;
                    a.1 += x;
                } else {
                    a.1 += carried;
                }
            }
        }
    }
    t.held = books.values().flat_map(|b| b.values()).map(|a| a.1).sum();
    (t, n)
}

// ---------------------------------------------------------------------------
// Pieces measured for both generated ledgers and fixtures

fn ingest_paths(paths: &[PathBuf]) -> Ledger {
    ingest_timed(paths, &mut None)
}

/// Ingest, keeping the phase laps of the fastest run so far in `fastest`.
fn ingest_timed(paths: &[PathBuf], fastest: &mut Option<Vec<(&'static str, Duration)>>) -> Ledger {
    let ing = ingest::ingest_files(paths, &IngestOptions::default()).expect("ingest");
    let laps = ing.phases.laps;
    let total = |l: &[(&str, Duration)]| l.iter().map(|p| p.1).sum::<Duration>();
    if fastest.as_ref().map_or(true, |f| total(&laps) < total(f)) {
        *fastest = Some(laps);
    }
    ing.ledger
}

fn string_table_bytes(t: &fundtrail::column::StringTable) -> u64 {
    8 * (t.len() as u64 + 1) + t.iter().map(|s| s.len() as u64).sum::<u64>()
}

/// The most active address (as sender or receiver, or UTXO owner).
fn busiest_address(l: &Ledger) -> Option<AddrId> {
    let mut count = vec![0u32; l.addresses.len()];
    let mut bump = |a: AddrId| {
        if !a.is_none() {
            if let Some(c) = count.get_mut(a.index()) {
                *c += 1;
            }
        }
    };
    for m in l.movements.iter() {
        bump(l.account_addr(m.from));
        bump(l.account_addr(m.to));
    }
    for i in l.inputs.iter() {
        bump(i.owner);
    }
    for o in l.outputs.iter() {
        bump(o.owner);
    }
    let (i, c) = count
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))?;
    (*c > 0).then_some(AddrId(i as u32))
}

/// A trace's cell: its time, movements per second and endpoints.
fn traced(d: Duration, moves: u64, r: &TraceResult) -> String {
    format!(
        "{}: **{}** ({} endpoints)",
        secs(d),
        per_s(moves, d, "mov"),
        thousands(r.endpoints.len() as u64)
    )
}

fn plan(p: Policy, seed: AddrId) -> TracePlan {
    TracePlan {
        policy: Some(p),
        seeds: vec![seed],
        ..Default::default()
    }
}

fn eth_totals(l: &Ledger, r: &TraceResult) -> PlainTotals {
    let t = l
        .asset_id("ETH")
        .and_then(|a| r.totals.get(&a).copied())
        .unwrap_or_default();
    PlainTotals {
        seeded: t.seeded,
        held: t.held,
        fees: t.fees,
    }
}

// ---------------------------------------------------------------------------
// One generated ledger

/// A writer that keeps the first `cap` bytes and then refuses more.
struct Prefix {
    buf: Vec<u8>,
    cap: usize,
}

impl Write for Prefix {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let room = self.cap - self.buf.len();
        if room == 0 {
            return Err(std::io::Error::other("prefix full"));
        }
        let k = room.min(b.len());
        self.buf.extend_from_slice(&b[..k]);
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `path` starts as this build's generator would write it (a file
/// left by an older generator is regenerated).
fn is_current(path: &Path, n: u64) -> bool {
    let mut want = Prefix {
        buf: Vec::new(),
        cap: 1 << 16,
    };
    let _ = synth::background_native(1, n, &mut want);
    let mut have = vec![0u8; want.buf.len()];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        f.read_exact(&mut have)
    });
    read.is_ok() && have == want.buf
}

/// `dir/background-N.jsonl` (generated unless already there and current),
/// and beside it `background-N.seed`, the seed address used for traces
/// (read by scripts/bench).
fn ensure_ledger(dir: &Path, n: u64) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create the bench directory");
    let path = dir.join(format!("background-{n}.jsonl"));
    std::fs::write(
        dir.join(format!("background-{n}.seed")),
        format!("{}\n", synth::address(0)),
    )
    .expect("write the seed file");
    if path.is_file() && is_current(&path, n) {
        progress(&format!("reusing {}", path.display()));
        return path;
    }
    progress(&format!("generating {} ({n} movements)", path.display()));
    let tmp = dir.join(format!("background-{n}.jsonl.partial"));
    let t = Instant::now();
    {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).expect("create"));
        synth::background_native(1, n, &mut w).expect("write the ledger");
        w.flush().expect("flush");
    }
    std::fs::rename(&tmp, &path).expect("rename");
    progress(&format!("generated in {}", secs(t.elapsed())));
    settle(std::slice::from_ref(&path));
    path
}

/// The parse floor and the ingest of the same files, measured in
/// alternating rounds (best of each), so that a machine whose speed drifts
/// during the run (a shared one does) weighs on both alike.
struct FloorAndIngest {
    floor: Duration,
    /// The part of `floor` spent reading the files into memory.
    floor_read: Duration,
    bytes: u64,
    records: u64,
    ingest: Duration,
    /// The fastest ingest's phases.
    laps: Vec<(&'static str, Duration)>,
    /// The last ingest's ledger.
    ledger: Ledger,
}

/// [`FloorAndIngest`] over `rounds` rounds; `mark` is called after each
/// floor and each ingest (for the peak memory of each).
fn floor_and_ingest(
    paths: &[PathBuf],
    kind: FloorKind,
    rounds: usize,
    what: &str,
    mut mark: impl FnMut(&str),
) -> FloorAndIngest {
    let (mut floor, mut ingest) = (Duration::MAX, Duration::MAX);
    let (mut bytes, mut records, mut floor_read) = (0, 0, Duration::ZERO);
    let mut laps = None;
    let mut ledger = None;
    for round in 1..=rounds {
        progress(&format!(
            "{what}parse floor and ingest, round {round} of {rounds}"
        ));
        drop(ledger.take());
        let (d, (b, r, bad, reading)) = best(1, || parse_floor(paths, kind));
        assert_eq!(bad, 0, "the parse floor failed on {bad} lines");
        if d < floor {
            (floor, floor_read) = (d, reading);
        }
        (bytes, records) = (b, r);
        mark("parse floor");
        let (d, l) = best(1, || ingest_timed(paths, &mut laps));
        ingest = ingest.min(d);
        ledger = Some(l);
        mark("ingest");
    }
    FloorAndIngest {
        floor,
        floor_read,
        bytes,
        records,
        ingest,
        laps: laps.unwrap_or_default(),
        ledger: ledger.expect("ran at least one round"),
    }
}

/// The floor's row (split into reading and parsing), the ingest's against
/// it and against the floor's parsing alone, and each ingest phase.
fn floor_and_ingest_rows(t: &Table, m: &FloorAndIngest, ingest_label: &str) {
    let (floor, ing, fb, recs) = (m.floor, m.ingest, m.bytes, m.records);
    // The floor's read is a copy into fresh memory, whose cost varies most
    // from machine to machine (ingest maps the file instead): the ratio to
    // its parsing alone is the stricter one.
    let parsing = floor.saturating_sub(m.floor_read);
    t.row(&[
        "parse floor: 1 thread, typed borrowed serde, read + parse, builds nothing".to_string(),
        "".into(),
        format!(
            "{}: {}, {} (reading into memory {}, parsing {})",
            secs(floor),
            mbs(fb, floor),
            per_s(recs, floor, "rec"),
            secs(m.floor_read),
            secs(parsing)
        ),
        "".into(),
    ]);
    t.row(&[
        ingest_label.to_string(),
        format!(
            "{}: {}, {}",
            secs(ing),
            mbs(fb, ing),
            per_s(recs, ing, "rec")
        ),
        format!("parse floor {}", secs(floor)),
        format!(
            "**{:.2}x** floor time (target <= 1.0, then 0.5)",
            ratio(ing, floor)
        ),
    ]);
    t.row(&[
        "- ingest against the floor's parsing alone (its input already in memory)".to_string(),
        secs(ing),
        format!("parsing {}", secs(parsing)),
        format!("{:.2}x parsing time", ratio(ing, parsing)),
    ]);
    for (name, d) in &m.laps {
        t.row(&[
            format!("- ingest phase: {name}"),
            secs(*d),
            format!("parse floor {}", secs(floor)),
            format!("{:.2}x floor time", ratio(*d, floor)),
        ]);
    }
}

/// The exports of one chain's ETL tool.
#[derive(Copy, Clone)]
enum Etl {
    Ethereum,
    Bitcoin,
}

impl Etl {
    fn name(self) -> &'static str {
        match self {
            Etl::Ethereum => "ethereum-etl",
            Etl::Bitcoin => "bitcoin-etl",
        }
    }
}

/// A generated ethereum-etl or bitcoin-etl ledger of about `n` movements
/// (`synth::generate` of the `background` scenario, seed 1) in its own
/// directory: its ledger files (ethereum-etl: transactions, traces, token
/// transfers, tokens; bitcoin-etl: transactions).
fn ensure_etl_ledger(dir: &Path, n: u64, etl: Etl) -> Vec<PathBuf> {
    let (out, names, format) = match etl {
        Etl::Ethereum => (
            dir.join(format!("background-etl-{n}")),
            &[
                "transactions.json",
                "traces.json",
                "token_transfers.json",
                "tokens.json",
            ][..],
            synth::Format::EthereumEtl,
        ),
        Etl::Bitcoin => (
            dir.join(format!("background-btc-{n}")),
            &["transactions.json"][..],
            synth::Format::BitcoinEtl,
        ),
    };
    // written each time (a second or so per million movements): files left
    // by an older generator are never measured
    progress(&format!("generating {} ({n} movements)", out.display()));
    synth::generate("background", 1, n, Some(format), &out)
        .unwrap_or_else(|e| panic!("generate the {} ledger: {e}", etl.name()));
    let paths: Vec<PathBuf> = names.iter().map(|f| out.join(f)).collect();
    settle(&paths);
    paths
}

/// Wait until freshly written files are on the disk, so that the kernel
/// cannot be writing them back (gigabytes at 10 M) while they are
/// measured.
fn settle(paths: &[PathBuf]) {
    let t = Instant::now();
    for p in paths {
        std::fs::File::open(p)
            .and_then(|f| f.sync_all())
            .expect("flush a generated file to the disk");
    }
    progress(&format!("flushed to the disk in {}", secs(t.elapsed())));
}

/// Ingest of a generated ethereum-etl or bitcoin-etl ledger against the
/// single-thread typed parse of the same files, in alternating rounds, with
/// the ingest's phases.
fn run_generated_etl(dir: &Path, n: u64, reps_arg: Option<usize>, etl: Etl) {
    let paths = ensure_etl_ledger(dir, n, etl);
    let file_bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let rounds = reps_arg.unwrap_or(if n <= 2_000_000 { 3 } else { 2 });
    say(&format!(
        "\n## Generated {} ledger: about {} movements ({} in {} files), {} rayon threads, parse floor and ingest best of {} alternating rounds\n",
        etl.name(),
        thousands(n),
        bytes(file_bytes),
        paths.len(),
        rayon::current_num_threads(),
        rounds
    ));
    for p in &paths {
        let _ = black_box(std::fs::read(p).map(|v| v.len()));
    }
    let m = floor_and_ingest(
        &paths,
        FloorKind::Etl,
        rounds,
        &format!("{}: ", etl.name()),
        |_| {},
    );
    let t = Table::new(&["measure", "fundtrail", "baseline", "ratio"]);
    floor_and_ingest_rows(
        &t,
        &m,
        &format!(
            "ingest ({} threads, whole pipeline to a Ledger of {} movements)",
            rayon::current_num_threads(),
            thousands(m.ledger.movement_count() as u64)
        ),
    );
    if let Etl::Bitcoin = etl {
        utxo_trace_rows(&t, &m.ledger, m.floor, reps_arg.unwrap_or(3));
    }
}

/// The UTXO-model trace of every policy over a ledger, seeded at its
/// busiest address: movements (inputs and outputs) per second, and the
/// time as a fraction of the ledger's parse floor. No straightforward
/// replay here: the one beside the native ledger reads the account model.
fn utxo_trace_rows(t: &Table, ledger: &Ledger, floor: Duration, reps: usize) {
    let Some(seed) = busiest_address(ledger) else {
        return;
    };
    let moves = ledger.movement_count() as u64;
    for p in Policy::ALL {
        progress(&format!("UTXO trace {}", p.name()));
        let (d, r) = best(reps.max(2), || trace::run(ledger, &plan(p, seed)));
        t.row(&[
            format!("UTXO trace {} (seed: busiest address)", p.name()),
            traced(d, moves, &r),
            format!("parse floor {}", secs(floor)),
            format!(
                "{:.3}x floor time (target <= 0.25; >= 30 M mov/s)",
                ratio(d, floor)
            ),
        ]);
    }
}

fn run_generated(dir: &Path, n: u64, reps_arg: Option<usize>, summary: &mut String) {
    let path = ensure_ledger(dir, n);
    let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let reps = reps_arg.unwrap_or(if n <= 2_000_000 { 3 } else { 1 });
    let rounds = reps_arg.unwrap_or(reps.max(2));
    // a trace takes well under a second even at 10 M: never one run only,
    // so that one stall of the machine does not stand for the policy
    let trace_reps = reps_arg.unwrap_or(reps.max(2));
    let threads = rayon::current_num_threads();
    let paths = vec![path.clone()];
    say(&format!(
        "\n## Generated ledger: {} movements ({}, {}), {} rayon threads, parse floor and ingest best of {} alternating rounds, each trace best of {}, the rest best of {}\n",
        thousands(n),
        path.file_name().unwrap().to_string_lossy(),
        bytes(file_bytes),
        threads,
        rounds,
        trace_reps,
        reps
    ));
    // Warm the page cache so the first measurement does not pay for the disk.
    let _ = black_box(std::fs::read(&path).map(|v| v.len()));
    let mut peaks = Peaks::new();

    // (1) parse floor and (2) ingest, in alternation (at least two rounds,
    // so neither figure is one unlucky run)
    let m = floor_and_ingest(&paths, FloorKind::Native, rounds, "", |p| peaks.mark(p));
    let (floor, ing) = (m.floor, m.ingest);
    // for scripts/bench, which bounds the speed-up over the Python replay
    std::fs::write(
        dir.join(format!("floor-{n}.json")),
        format!(
            "{{\"floor_seconds\": {:.6}, \"threads\": {threads}}}\n",
            floor.as_secs_f64()
        ),
    )
    .expect("write the floor file");

    let t = Table::new(&["measure", "fundtrail", "baseline", "ratio"]);
    floor_and_ingest_rows(
        &t,
        &m,
        &format!("ingest ({threads} threads, whole pipeline to a Ledger)"),
    );
    let ledger = m.ledger;
    let moves = ledger.movement_count() as u64;

    // (3) store
    progress("store write / open");
    let store_path = dir.join(format!("background-{n}.ftl"));
    let (wr, ()) = best(reps, || {
        store::write(&ledger, &store_path).expect("write the store");
    });
    let store_bytes = std::fs::metadata(&store_path).map(|m| m.len()).unwrap_or(0);
    let addr_bytes = string_table_bytes(&ledger.addresses);
    let hash_bytes = string_table_bytes(&ledger.txids);
    let core = store_bytes.saturating_sub(addr_bytes + hash_bytes);
    let per = |b: u64| b as f64 / moves.max(1) as f64;
    t.row(&[
        "store write".to_string(),
        format!("{}: {}", secs(wr), mbs(store_bytes, wr)),
        format!("ingest {}", secs(ing)),
        format!("{:.2}x ingest time", ratio(wr, ing)),
    ]);
    t.row(&[
        "store size".to_string(),
        format!(
            "{} = **{:.1} B/movement** + {:.1} B/movement address and hash tables ({} addresses, {} hashes)",
            bytes(store_bytes),
            per(core),
            per(addr_bytes + hash_bytes),
            thousands(ledger.addresses.len() as u64),
            thousands(ledger.txids.len() as u64)
        ),
        format!("JSON {:.1} B/movement", per(file_bytes)),
        format!(
            "{:.2}x JSON size (target <= 48 B/movement + address bytes)",
            store_bytes as f64 / file_bytes.max(1) as f64
        ),
    ]);
    drop(ledger);
    peaks.mark("store write");
    let (open, opened) = best(reps.max(5), || store::open(&store_path).expect("open"));
    t.row(&[
        "store open".to_string(),
        format!(
            "{} ({:.2} ms per GiB of store)",
            secs(open),
            open.as_secs_f64() * 1e3 / (store_bytes as f64 / (1u64 << 30) as f64).max(1e-9)
        ),
        format!("parse floor {}", secs(floor)),
        format!(
            "{:.4}x floor time (target O(1): compare across sizes)",
            ratio(open, floor)
        ),
    ]);
    peaks.mark("store open");
    // what every trace also does: hash its input for the run manifest (on
    // a thread of its own, beside the work)
    for (what, file, size) in [
        ("JSON file", &path, file_bytes),
        ("store", &store_path, store_bytes),
    ] {
        let (d, _) = best(1, || fundtrail::report::InputFile::of(file).expect("hash"));
        t.row(&[
            format!("run manifest: sha256 of the {what} (1 thread)"),
            format!("{}: {}", secs(d), mbs(size, d)),
            format!("parse floor {}", secs(floor)),
            format!("{:.2}x floor time", ratio(d, floor)),
        ]);
    }

    // (4) trace per policy, and the straightforward replay
    let seed_text = synth::address(0);
    let seed = opened
        .addr_id(&seed_text)
        .expect("synth::address(0) is in the ledger");
    progress("straightforward replay (serde_json::Value + HashMap<String, _>)");
    let tp = Instant::now();
    let plain = parse_values(&path);
    let plain_parse = tp.elapsed();
    let tr = Instant::now();
    let (plain_totals, plain_n) = replay_values(plain, &seed_text);
    let plain_replay = tr.elapsed();
    let plain_total = plain_parse + plain_replay;
    peaks.mark("straightforward replay");
    t.row(&[
        "straightforward haircut replay (Value parse + sort + HashMap<String,(u128,u128)>)"
            .to_string(),
        "".into(),
        format!(
            "{} total ({} parse, {} replay: {})",
            secs(plain_total),
            secs(plain_parse),
            secs(plain_replay),
            per_s(plain_n as u64, plain_replay, "mov")
        ),
        "".into(),
    ]);
    let mut haircut_time = Duration::ZERO;
    for p in Policy::ALL {
        progress(&format!("trace {}", p.name()));
        let pl = plan(p, seed);
        let (d, r) = best(trace_reps, || trace::run(&opened, &pl));
        let mut agree = String::new();
        if p == Policy::Haircut {
            haircut_time = d;
            let ours = eth_totals(&opened, &r);
            agree = if ours == plain_totals {
                ", totals agree with the replay".into()
            } else {
                format!(", **totals DIFFER**: fundtrail {ours:?}, replay {plain_totals:?}")
            };
        }
        t.row(&[
            format!("trace {} from the store (1 thread)", p.name()),
            traced(d, moves, &r),
            format!(
                "replay-only {} / parse floor {}",
                per_s(plain_n as u64, plain_replay, "mov"),
                secs(floor)
            ),
            format!(
                "**{:.1}x** replay speed; open+trace = **{:.3}x** floor time (target <= 0.25){agree}",
                ratio(plain_replay, d),
                ratio(open + d, floor)
            ),
        ]);
    }
    t.row(&[
        "haircut from raw JSON (ingest + trace)".to_string(),
        secs(ing + haircut_time),
        format!("straightforward replay {}", secs(plain_total)),
        format!(
            "**{:.1}x** faster (Python: see scripts/bench)",
            ratio(plain_total, ing + haircut_time)
        ),
    ]);
    drop(opened);
    peaks.mark("trace");
    let peak = peaks.phases.iter().map(|p| p.1).max().unwrap_or(0);
    let detail: Vec<String> = peaks
        .phases
        .iter()
        .map(|(k, v)| format!("{k} {}", bytes(*v)))
        .collect();
    t.row(&[
        "peak RSS (VmHWM)".to_string(),
        format!("**{}**", bytes(peak)),
        if peaks.resettable {
            format!("per phase: {}", detail.join(", "))
        } else {
            "cumulative (clear_refs not allowed)".to_string()
        },
        format!(
            "{:.2}x the JSON file",
            peak as f64 / file_bytes.max(1) as f64
        ),
    ]);
    let _ = writeln!(
        summary,
        "| {} | {:.2}x | {:.1} + {:.1} | {} | {} | {:.3}x | {:.1}x | {} |",
        thousands(n),
        ratio(ing, floor),
        per(core),
        per(addr_bytes + hash_bytes),
        secs(open),
        per_s(moves, haircut_time, "mov"),
        ratio(open + haircut_time, floor),
        ratio(plain_total, ing + haircut_time),
        bytes(peak)
    );
}

// ---------------------------------------------------------------------------
// Fixtures

fn run_fixtures(dir: &Path, smoke: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let sets = [
        ("ethereum-etl", "ethereum-etl"),
        ("bitcoin-etl", "bitcoin-etl/bitcoin"),
    ];
    let (batch, batches) = if smoke {
        (Duration::ZERO, 1)
    } else {
        (Duration::from_millis(100), 5)
    };
    say(if smoke {
        "\n## Real fixtures (smoke run: one run each)\n"
    } else {
        "\n## Real fixtures (small: each figure is the best of 5 batches of >= 100 ms)\n"
    });
    let t = Table::new(&[
        "fixture",
        "parse floor (1 thread)",
        "ingest",
        "ingest / floor",
        "store",
        "open",
        "trace per policy (seed: busiest address)",
        "open+haircut / floor",
    ]);
    for (name, rel) in sets {
        let input = root.join(rel);
        if !input.exists() {
            progress(&format!("no {}: skipped", input.display()));
            continue;
        }
        progress(&format!("fixtures {name}"));
        let paths = ingest::expand_paths(&[input]).expect("expand the fixture paths");
        let (floor, (fb, recs, bad, _)) =
            best_small(batch, batches, || parse_floor(&paths, FloorKind::Etl));
        let (ing, ledger) = best_small(batch, batches, || ingest_paths(&paths));
        let moves = ledger.movement_count() as u64;
        let store_path = dir.join(format!("fixture-{name}.ftl"));
        store::write(&ledger, &store_path).expect("write the fixture store");
        let store_bytes = std::fs::metadata(&store_path).map(|m| m.len()).unwrap_or(0);
        let strings = string_table_bytes(&ledger.addresses) + string_table_bytes(&ledger.txids);
        let (open, opened) = best_small(batch, batches, || store::open(&store_path).expect("open"));
        let mut traces = Vec::new();
        let mut haircut = Duration::ZERO;
        if let Some(seed) = busiest_address(&opened) {
            for p in Policy::ALL {
                let pl = plan(p, seed);
                let (d, _) = best_small(batch, batches, || trace::run(&opened, &pl));
                if p == Policy::Haircut {
                    haircut = d;
                }
                traces.push(format!("{} {}", p.name(), per_s(moves, d, "mov")));
            }
        }
        t.row(&[
            format!(
                "{name}: {} files, {}, {} records{}, {} movements",
                paths.len(),
                bytes(fb),
                thousands(recs),
                if bad > 0 {
                    format!(" ({bad} not parsed by the floor struct)")
                } else {
                    String::new()
                },
                thousands(moves)
            ),
            format!(
                "{}: {}, {}",
                secs(floor),
                mbs(fb, floor),
                per_s(recs, floor, "rec")
            ),
            format!(
                "{}: {}, {}",
                secs(ing),
                mbs(fb, ing),
                per_s(recs, ing, "rec")
            ),
            format!("**{:.2}x**", ratio(ing, floor)),
            format!(
                "{} ({:.1} B/movement + {:.1} address and hash)",
                bytes(store_bytes),
                store_bytes.saturating_sub(strings) as f64 / moves.max(1) as f64,
                strings as f64 / moves.max(1) as f64
            ),
            secs(open),
            traces.join(", "),
            format!("**{:.3}x**", ratio(open + haircut, floor)),
        ]);
    }
}

// ---------------------------------------------------------------------------

fn main() {
    let args = parse_args();
    if args.smoke {
        // `cargo test --all-targets`: check that every piece runs, quickly.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut summary = String::new();
        run_generated(dir.path(), 1000, Some(1), &mut summary);
        run_generated_etl(dir.path(), 1000, Some(1), Etl::Ethereum);
        run_generated_etl(dir.path(), 1000, Some(1), Etl::Bitcoin);
        run_fixtures(dir.path(), true);
        return;
    }
    let dir = bench_dir();
    say("# fundtrail throughput report\n");
    say(&format!(
        "fundtrail {}, {} logical CPUs, rayon pool of {} threads. Each figure is beside its \
         baseline, measured in the same process on the same file. Times are wall-clock, warm \
         page cache.",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        rayon::current_num_threads()
    ));
    let mut summary = String::new();
    for &n in &args.sizes {
        run_generated(&dir, n, args.reps, &mut summary);
    }
    if !summary.is_empty() {
        say("\n## Summary (ratios: lower is better for floor fractions, higher for speed-ups)\n");
        say("| movements | ingest / parse floor (target <= 1, then 0.5) | store B/movement + address and hash | open | haircut trace (target >= 30 M/s) | open+trace / parse floor (target <= 0.25) | raw JSON: vs Rust Value replay | peak RSS |");
        say("|---|---|---|---|---|---|---|---|");
        print!("{summary}");
    }
    for &n in &args.etl_sizes {
        run_generated_etl(&dir, n, args.reps, Etl::Ethereum);
    }
    for &n in &args.btc_sizes {
        run_generated_etl(&dir, n, args.reps, Etl::Bitcoin);
    }
    if args.fixtures {
        run_fixtures(&dir, false);
    }
}
