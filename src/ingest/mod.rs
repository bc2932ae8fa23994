//! Ingest: turn exported ledger files into a `Ledger`.
//!
//! Owns format detection (per file), splitting files into records with line
//! numbers, the per-format record parsers (one file each), rejects, and
//! building the canonical-order `Ledger` (`build`). It never traces.

pub mod bitcoin_etl;
pub mod bitcoin_rpc;
pub mod build;
pub mod ethereum_etl;
pub mod etherscan;
mod fields;
pub mod lower;
pub mod native;
mod plain;
pub mod raw;
pub mod split;

use crate::ledger::Ledger;
use lower::{Local, Lowered};
use raw::{FieldError, Raw, RawRef};
use rayon::prelude::*;
use split::{LineIndex, Span};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The source formats fundtrail reads, detected per file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    EthereumEtl,
    BitcoinEtl,
    BitcoinRpc,
    Etherscan,
    Native,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::EthereumEtl => "ethereum-etl",
            Format::BitcoinEtl => "bitcoin-etl",
            Format::BitcoinRpc => "bitcoin-rpc",
            Format::Etherscan => "etherscan",
            Format::Native => "fundtrail",
        }
    }

    fn parser(self) -> Parser {
        match self {
            Format::EthereumEtl => Parser::Borrowing(ethereum_etl::parse_ref),
            Format::BitcoinEtl => Parser::Borrowing(bitcoin_etl::parse_ref),
            Format::BitcoinRpc => Parser::Owning(bitcoin_rpc::parse),
            Format::Etherscan => Parser::Owning(etherscan::parse),
            Format::Native => Parser::Borrowing(native::parse_ref),
        }
    }
}

/// What to do with a record that cannot be used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop with an error naming file, line and field.
    #[default]
    Fail,
    /// Go on, count the record and keep its text in the rejects file.
    Skip,
}

/// Called with the number of input bytes each parsed chunk covered, from
/// the worker threads (for a progress bar).
pub type ProgressFn = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

#[derive(Clone, Default)]
pub struct IngestOptions {
    pub on_error: OnError,
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestOptions")
            .field("on_error", &self.on_error)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Total size in bytes of the files (for a progress bar's length).
pub fn total_bytes(paths: &[PathBuf]) -> u64 {
    paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Where a record came from: index into the list of files, 1-based line.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub file: u32,
    pub line: u64,
}

/// A rejected record: where, which field, why, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub file: PathBuf,
    pub line: u64,
    pub field: String,
    pub message: String,
    pub text: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: field `{}`: {}",
                self.file.display(),
                self.line,
                self.field,
                self.message
            )
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}\n  (use --on-error skip to go on without such records; they are written to a rejects file)")]
    Record(Reject),
    #[error("no input files given")]
    NoInput,
}

/// The result of ingesting: the ledger and every rejected record.
#[derive(Debug)]
pub struct Ingested {
    pub ledger: Ledger,
    pub rejects: Vec<Reject>,
    /// Wall-clock time of each phase, in order (for benchmarks; never part
    /// of any output).
    pub phases: Phases,
}

/// Wall-clock time per ingest phase, recorded as laps.
#[derive(Debug, Clone)]
pub struct Phases {
    last: std::time::Instant,
    pub laps: Vec<(&'static str, std::time::Duration)>,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Phases {
    /// Record the time since the previous lap (or since creation) as `name`.
    pub fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    /// Append another recorder's laps and continue timing from now.
    pub fn extend(&mut self, other: Phases) {
        self.laps.extend(other.laps);
        self.last = std::time::Instant::now();
    }
}

/// Expand the command line's paths: a directory means every regular file in
/// it and its subdirectories (sorted by path), except hidden files, `LICENSE`,
/// `truth.json` and files that are not exports by their extension (`.csv`
/// labels, `.md` notes, `.ftl` stores and the like).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| IngestError::Io {
            path: p.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            walk(p, &mut entries)?;
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(IngestError::NoInput);
    }
    Ok(out)
}

/// Whether a file met while walking a directory may hold ledger records:
/// label lists, documents and `truth.json` beside a generated ledger do not
/// (a file named on the command line is always read).
fn ledger_file_name(name: &str) -> bool {
    const NOT_LEDGER: [&str; 9] = [
        ".md", ".csv", ".txt", ".yaml", ".yml", ".toml", ".py", ".sh", ".ftl",
    ];
    name != "truth.json"
        && !NOT_LEDGER
            .iter()
            .any(|ext| name.to_ascii_lowercase().ends_with(ext))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let io = |e| IngestError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for e in std::fs::read_dir(dir).map_err(io)? {
        let q = e.map_err(io)?.path();
        let name = q.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "LICENSE" || !ledger_file_name(name) {
            continue;
        }
        if q.is_dir() {
            walk(&q, out)?;
        } else if q.is_file() {
            out.push(q);
        }
    }
    Ok(())
}

/// A file's bytes: memory-mapped, or (gzipped files) decompressed in memory.
enum FileBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

fn read_bytes(path: &Path) -> Result<FileBytes, IngestError> {
    let io = |e| IngestError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(FileBytes::Owned(Vec::new()));
    }
    // SAFETY: the map is read-only and lives while the file is parsed; like
    // every reader of a file, we assume nobody truncates it meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    if map.starts_with(&[0x1f, 0x8b]) {
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&map[..])
            .read_to_end(&mut s)
            .map_err(io)?;
        return Ok(FileBytes::Owned(s));
    }
    Ok(FileBytes::Mapped(map))
}

fn not_utf8(path: &Path, e: std::str::Utf8Error) -> IngestError {
    IngestError::File {
        path: path.to_path_buf(),
        message: format!(
            "not UTF-8 text (byte {}): is this a JSON export?",
            e.valid_up_to()
        ),
    }
}

/// Read a file's text, gunzipping when it starts with the gzip magic.
pub fn read_text(path: &Path) -> Result<String, IngestError> {
    let io = |e| IngestError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut s)
            .map_err(io)?;
        s
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| IngestError::File {
        path: path.to_path_buf(),
        message: format!(
            "not UTF-8 text (byte {}): is this a JSON export?",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// What the first record of a file says about its format.
#[derive(Debug, PartialEq, Eq)]
enum Detected {
    Ledger(Format),
    /// A known export that carries no value movements (blocks, logs, receipts,
    /// contracts, a scalar RPC result): read, counted, nothing to ingest.
    NoValue(&'static str),
}

fn detect(v: &serde_json::Value) -> Result<Detected, String> {
    use Detected::*;
    let Some(o) = v.as_object() else {
        return Ok(NoValue("scalar JSON value"));
    };
    let has = |k: &str| o.contains_key(k);
    let ty = o.get("type").and_then(|t| t.as_str());
    if has("kind") && (has("amount") || has("outputs") || has("asset")) {
        return Ok(Ledger(Format::Native));
    }
    // bitcoin-etl's streamed exports also say `"type": "transaction"`
    if has("inputs") && has("outputs") && has("hash") {
        return Ok(Ledger(Format::BitcoinEtl));
    }
    match ty {
        Some("transaction" | "token_transfer" | "trace" | "token") => {
            return Ok(Ledger(Format::EthereumEtl))
        }
        Some("block" | "log" | "contract" | "receipt") => {
            return Ok(NoValue("ethereum-etl non-value records"))
        }
        _ => {}
    }
    if has("inputs") && has("outputs") && has("hash") {
        return Ok(Ledger(Format::BitcoinEtl));
    }
    if has("vin") && has("vout") || has("tx") && (has("height") || has("merkleroot")) {
        return Ok(Ledger(Format::BitcoinRpc));
    }
    if has("timeStamp") && has("blockNumber") && has("hash") {
        return Ok(Ledger(Format::Etherscan));
    }
    if has("trace_address")
        || has("trace_type")
        || (has("token_address") && has("log_index"))
        || (has("from_address") && (has("receipt_status") || has("nonce") || has("gas_price")))
        || (has("symbol") && has("decimals") && has("address"))
    {
        return Ok(Ledger(Format::EthereumEtl));
    }
    if has("cases") && o.len() <= 3 {
        return Ok(NoValue("a ground truth (truth.json)"));
    }
    if has("transaction_count") || has("merkle_root") || has("logs_bloom") {
        return Ok(NoValue("block records"));
    }
    let mut keys: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
    keys.truncate(12);
    Err(format!(
        "cannot tell the format of this file from its first record (keys: {}); \
         fundtrail reads ethereum-etl, bitcoin-etl, Bitcoin Core RPC, Etherscan and its own format (see README)",
        keys.join(", ")
    ))
}

/// The record spans of a file, unwrapping envelopes: one entry per record
/// (or per line that is not JSON).
fn record_spans(
    path: &Path,
    text: &str,
) -> Result<Vec<Result<Span, split::SplitError>>, IngestError> {
    let file_err = |m: String| IngestError::File {
        path: path.to_path_buf(),
        message: m,
    };
    let tops = split::top_level_values(text, (0, text.len()));
    let mut out = Vec::new();
    for t in tops {
        let span = match t {
            Ok(s) => s,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let b = text.as_bytes()[span.0];
        if b == b'[' {
            out.extend(
                split::array_elements(text, span)
                    .map_err(|e| {
                        file_err(format!(
                            "line {}: {}",
                            LineIndex::new(text).line_of(e.offset),
                            e.message
                        ))
                    })?
                    .into_iter()
                    .map(Ok),
            );
            continue;
        }
        if b == b'{' {
            if let Some(r) = split::object_field(text, span, "result") {
                let status = split::object_field(text, span, "status");
                let message = split::object_field(text, span, "message");
                let rpc_error = split::object_field(text, span, "error").map(|s| &text[s.0..s.1]);
                if let Some(err) = rpc_error.filter(|e| *e != "null") {
                    return Err(file_err(format!("the RPC response is an error: {err}")));
                }
                let is_envelope = (status.is_some() && message.is_some())
                    || split::object_field(text, span, "id").is_some()
                    || rpc_error.is_some();
                if is_envelope {
                    let rb = text.as_bytes()[r.0];
                    if status.map(|s| &text[s.0..s.1]) == Some("\"0\"") && rb != b'[' {
                        let msg = message.map(|s| &text[s.0..s.1]).unwrap_or("");
                        if msg.contains("No transactions found") || msg.contains("No records found")
                        {
                            continue;
                        }
                        return Err(file_err(format!(
                            "the Etherscan response is an error: message {msg}, result {}",
                            &text[r.0..r.1]
                        )));
                    }
                    match rb {
                        b'[' => out.extend(
                            split::array_elements(text, r)
                                .map_err(|e| file_err(e.message))?
                                .into_iter()
                                .map(Ok),
                        ),
                        _ => out.push(Ok(r)),
                    }
                    continue;
                }
            }
        }
        out.push(Ok(span));
    }
    Ok(out)
}

/// Records parsed from one file, lowered to numeric form.
struct FileRecords {
    format: Option<Format>,
    /// One part per parsed chunk; concatenated once for the whole input.
    parts: Vec<Lowered>,
    rejects: Vec<Reject>,
    records: u64,
}

/// Records per parallel work unit: large enough to amortise the chunk's
/// buffers, small enough to balance two cores on one file.
const CHUNK: usize = 2048;

fn parse_file(
    idx: u32,
    path: &Path,
    progress: Option<&ProgressFn>,
) -> Result<FileRecords, IngestError> {
    let data = read_bytes(path)?;
    let on_disk = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    // progress is counted in bytes on disk, so a gzipped file scales down
    let scale = |b: usize| (b as u128 * on_disk as u128 / data.len().max(1) as u128) as u64;
    if split::first_line_is_object(&data) {
        return parse_json_lines(idx, path, &data, progress, &scale);
    }
    let text = std::str::from_utf8(&data).map_err(|e| not_utf8(path, e))?;
    let spans = record_spans(path, text)?;
    let lines = LineIndex::new(text);
    let empty = |rejects| FileRecords {
        format: None,
        parts: Vec::new(),
        rejects,
        records: 0,
    };
    let Some(first) = spans.iter().find_map(|s| s.as_ref().ok().copied()) else {
        return Ok(empty(
            spans
                .iter()
                .filter_map(|s| s.as_ref().err())
                .map(|e| split_reject(path, text, &lines, e))
                .collect(),
        ));
    };
    let first_value: serde_json::Value = match serde_json::from_str(&text[first.0..first.1]) {
        Ok(v) => v,
        Err(e) => {
            return Err(IngestError::File {
                path: path.to_path_buf(),
                message: format!(
                    "line {}: the first record is not JSON: {e}",
                    lines.line_of(first.0)
                ),
            })
        }
    };
    let format = match detect(&first_value).map_err(|m| IngestError::File {
        path: path.to_path_buf(),
        message: m,
    })? {
        Detected::Ledger(f) => f,
        Detected::NoValue(_) => return Ok(empty(Vec::new())),
    };
    let parse = format.parser();
    let chunks: Vec<(Lowered, Vec<Reject>)> = spans
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut low = Lowered::default();
            let mut rejects = Vec::new();
            let mut cp = ChunkParser::new(parse, chunk.len());
            for s in chunk {
                match s {
                    Err(e) => rejects.push(split_reject(path, text, &lines, e)),
                    Ok(span) => {
                        let rec = &text[span.0..span.1];
                        let line = lines.line_of(span.0);
                        match cp.record(rec, Loc { file: idx, line }, &mut low) {
                            Ok(()) => {}
                            Err(fe) => rejects.push(Reject {
                                file: path.to_path_buf(),
                                line,
                                field: fe.field,
                                message: fe.message,
                                text: one_line(rec),
                            }),
                        }
                    }
                }
            }
            if let (Some(p), Some(first), Some(last)) = (progress, chunk.first(), chunk.last()) {
                let a = first.as_ref().map(|s| s.0).unwrap_or_else(|e| e.offset);
                let b = last.as_ref().map(|s| s.1).unwrap_or_else(|e| e.offset);
                p(scale(b.saturating_sub(a)));
            }
            (low, rejects)
        })
        .collect();
    let mut fr = FileRecords {
        format: Some(format),
        parts: Vec::new(),
        rejects: Vec::new(),
        records: spans.len() as u64,
    };
    for (low, rej) in chunks {
        fr.parts.push(low);
        fr.rejects.extend(rej);
    }
    Ok(fr)
}

/// Bytes per parallel chunk of a JSON-lines file (cut after a newline).
const CHUNK_BYTES: usize = 4 << 20;

/// A parse function of a format.
type ParseFn = fn(&str, &mut Vec<Raw>) -> Result<(), FieldError>;

/// A parse function that borrows the strings of its records from the text.
type RefParseFn = for<'a> fn(&'a str, &mut Vec<RawRef<'a>>) -> Result<(), FieldError>;

/// A format's record parser: the formats that matter most for speed hand
/// lowering strings borrowed from the text, the others owned records.
#[derive(Copy, Clone)]
enum Parser {
    Borrowing(RefParseFn),
    Owning(ParseFn),
}

/// A chunk's parser with its reusable buffers.
struct ChunkParser<'a> {
    parser: Parser,
    out: Vec<RawRef<'a>>,
    owned: Vec<Raw>,
    local: Local<'a>,
}

impl<'a> ChunkParser<'a> {
    /// For a chunk of about `records` records.
    fn new(parser: Parser, records: usize) -> Self {
        ChunkParser {
            parser,
            out: Vec::new(),
            owned: Vec::new(),
            local: Local::with_capacity(records),
        }
    }

    /// Parse one record and lower what it yields into `low`.
    fn record(&mut self, text: &'a str, loc: Loc, low: &mut Lowered) -> Result<(), FieldError> {
        self.out.clear();
        match self.parser {
            Parser::Borrowing(p) => p(text, &mut self.out)?,
            Parser::Owning(p) => {
                self.owned.clear();
                p(text, &mut self.owned)?;
                self.out.extend(self.owned.drain(..).map(RawRef::Owned));
            }
        }
        for r in self.out.drain(..) {
            low.push_ref(r, loc, &mut self.local);
        }
        Ok(())
    }
}

/// A JSON-lines file: cut into newline-aligned chunks that are checked as
/// UTF-8, split into lines, parsed and lowered in parallel; line numbers come
/// from counting newlines per chunk. The file is never copied.
fn parse_json_lines(
    idx: u32,
    path: &Path,
    data: &[u8],
    progress: Option<&ProgressFn>,
    scale: &(dyn Fn(usize) -> u64 + Sync),
) -> Result<FileRecords, IngestError> {
    // the format, from the first record
    let s0 = data
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(0);
    let first_end = memchr::memchr(b'\n', &data[s0..])
        .map(|p| s0 + p)
        .unwrap_or(data.len());
    let first = std::str::from_utf8(&data[s0..first_end]).map_err(|e| not_utf8(path, e))?;
    let first_value: serde_json::Value =
        serde_json::from_str(first).map_err(|e| IngestError::File {
            path: path.to_path_buf(),
            message: format!("line 1: the first record is not JSON: {e}"),
        })?;
    let format = match detect(&first_value).map_err(|m| IngestError::File {
        path: path.to_path_buf(),
        message: m,
    })? {
        Detected::Ledger(f) => f,
        Detected::NoValue(_) => {
            return Ok(FileRecords {
                format: None,
                parts: Vec::new(),
                rejects: Vec::new(),
                records: 0,
            })
        }
    };
    let mut bounds = vec![0usize];
    let mut pos = CHUNK_BYTES;
    while pos < data.len() {
        match memchr::memchr(b'\n', &data[pos..]) {
            Some(p) => {
                bounds.push(pos + p + 1);
                pos += p + 1 + CHUNK_BYTES;
            }
            None => break,
        }
    }
    if *bounds.last().unwrap_or(&0) < data.len() {
        bounds.push(data.len());
    }
    let chunks: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let parse = format.parser();
    // Each chunk numbers its lines from 1 and counts its newlines, so the
    // file is read once; the numbers are shifted into place afterwards.
    let mut results: Vec<Chunk> = chunks
        .par_iter()
        .map(|&(a, b)| {
            let r = parse_lines(idx, path, &data[a..b], parse);
            if let Some(p) = progress {
                p(scale(b - a));
            }
            r
        })
        .collect();
    let mut before = 0u64;
    let shifts: Vec<u64> = results
        .iter()
        .map(|c| {
            let s = before;
            before += c.newlines;
            s
        })
        .collect();
    results
        .par_iter_mut()
        .zip(shifts)
        .filter(|(_, s)| *s > 0)
        .for_each(|(c, s)| {
            c.low.shift_lines(s);
            for r in &mut c.rejects {
                r.line += s;
            }
        });
    let mut fr = FileRecords {
        format: Some(format),
        parts: Vec::new(),
        rejects: Vec::new(),
        records: 0,
    };
    for c in results {
        fr.parts.push(c.low);
        fr.rejects.extend(c.rejects);
        fr.records += c.records;
    }
    Ok(fr)
}

/// One parsed chunk of a JSON-lines file, its lines numbered from 1.
struct Chunk {
    low: Lowered,
    rejects: Vec<Reject>,
    /// Non-blank lines.
    records: u64,
    /// Newline characters in the chunk.
    newlines: u64,
}

/// Parse and lower the lines of one chunk, numbering them from 1.
fn parse_lines(idx: u32, path: &Path, chunk: &[u8], parse: Parser) -> Chunk {
    let mut low = Lowered::default();
    let mut rejects = Vec::new();
    let mut records = 0u64;
    let mut line = 1u64;
    // about 250 bytes a record in the common exports
    let estimate = chunk.len() / 250;
    let mut cp = ChunkParser::new(parse, estimate);
    // (about one new address a record, and a new hash every other one)
    low.ids.addr.reserve(estimate);
    low.ids.tx.reserve(estimate / 2);
    let reject = |line: u64, field: String, message: String, text: &str| Reject {
        file: path.to_path_buf(),
        line,
        field,
        message,
        text: text.to_string(),
    };
    let mut start = 0;
    while start < chunk.len() {
        let end = memchr::memchr(b'\n', &chunk[start..])
            .map(|p| start + p)
            .unwrap_or(chunk.len());
        let raw = trim_ascii(&chunk[start..end]);
        if !raw.is_empty() {
            records += 1;
            match std::str::from_utf8(raw) {
                Err(e) => rejects.push(reject(
                    line,
                    String::new(),
                    format!("not UTF-8 text (byte {} of the line)", e.valid_up_to()),
                    &String::from_utf8_lossy(raw),
                )),
                Ok(rec) if rec.starts_with('{') && rec.ends_with('}') => {
                    if let Err(fe) = cp.record(rec, Loc { file: idx, line }, &mut low) {
                        rejects.push(reject(line, fe.field, fe.message, rec));
                    }
                    if records == 1 {
                        low.reserve_like(estimate);
                    }
                }
                Ok(rec) => {
                    // not one object: say what is wrong with the line
                    let message = match split::top_level_values(rec, (0, rec.len())).first() {
                        Some(Err(e)) => format!("not valid JSON: {}", e.message),
                        _ => "not a JSON object (a JSON-lines record is one object per line)"
                            .to_string(),
                    };
                    rejects.push(reject(line, String::new(), message, rec));
                }
            }
        }
        line += 1;
        start = end + 1;
    }
    // every line but an unterminated last one ended in a newline
    let newlines = line - 1 - u64::from(!chunk.is_empty() && chunk[chunk.len() - 1] != b'\n');
    Chunk {
        low,
        rejects,
        records,
        newlines,
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(s);
    &b[s..e.max(s)]
}

fn split_reject(path: &Path, text: &str, lines: &LineIndex, e: &split::SplitError) -> Reject {
    let line = lines.line_of(e.offset);
    let start = text[..e.offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let end = text[e.offset..]
        .find('\n')
        .map(|p| e.offset + p)
        .unwrap_or(text.len());
    Reject {
        file: path.to_path_buf(),
        line,
        field: String::new(),
        message: format!("not valid JSON: {}", e.message),
        text: text[start..end].to_string(),
    }
}

/// A record's text on one line (JSON allows the whitespace we fold).
fn one_line(rec: &str) -> String {
    if rec.contains('\n') {
        rec.split('\n')
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        rec.to_string()
    }
}

/// Ingest files (already expanded) into a ledger.
pub fn ingest_files(paths: &[PathBuf], opts: &IngestOptions) -> Result<Ingested, IngestError> {
    let mut phases = Phases::default();
    let parsed: Vec<Result<FileRecords, IngestError>> = paths
        .par_iter()
        .enumerate()
        .map(|(i, p)| parse_file(i as u32, p, opts.progress.as_ref()))
        .collect();
    phases.lap("read + parse + lower (parallel per chunk)");
    let mut parts = Vec::new();
    let mut rejects = Vec::new();
    let mut files = Vec::new();
    let mut per_format: std::collections::BTreeMap<String, u64> = Default::default();
    for (p, r) in paths.iter().zip(parsed) {
        let fr = r?;
        let fmt = fr.format.map(|f| f.name()).unwrap_or("no value records");
        *per_format.entry(fmt.to_string()).or_default() += fr.records;
        files.push(crate::ledger::SourceFile {
            path: p.display().to_string(),
            format: fmt.to_string(),
            records: fr.records,
        });
        parts.extend(fr.parts);
        rejects.extend(fr.rejects);
    }
    if opts.on_error == OnError::Fail {
        if let Some(r) = rejects.first() {
            return Err(IngestError::Record(r.clone()));
        }
    }
    let built = build::finish(parts, paths);
    let mut ledger = match built {
        Ok(b) => {
            rejects.extend(b.rejects);
            phases.extend(b.phases);
            b.ledger
        }
        Err(r) => return Err(IngestError::Record(r)),
    };
    if opts.on_error == OnError::Fail {
        if let Some(r) = rejects.first() {
            return Err(IngestError::Record(r.clone()));
        }
    }
    ledger.info.rejected = rejects.len() as u64;
    ledger.info.records = per_format.into_iter().collect();
    ledger.info.files = files;
    Ok(Ingested {
        ledger,
        rejects,
        phases,
    })
}

/// The text of the record that starts on `line` of `path` (for rejects found
/// after parsing, when only the location was kept).
pub(crate) fn record_text_at(path: &Path, line: u64) -> Option<String> {
    let text = read_text(path).ok()?;
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line as usize - 2)?.0 + 1
    };
    let rel = text[start..].find(['{', '['])?;
    let s = start + rel;
    let end = split::top_level_values(&text, (s, text.len()))
        .into_iter()
        .next()?
        .ok()?
        .1;
    Some(one_line(&text[s..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_its_first_record() {
        let d = |s: &str| detect(&serde_json::from_str(s).unwrap());
        assert_eq!(
            d(r#"{"type":"transaction","hash":"0x1"}"#),
            Ok(Detected::Ledger(Format::EthereumEtl))
        );
        assert_eq!(
            d(r#"{"hash":"a","inputs":[],"outputs":[]}"#),
            Ok(Detected::Ledger(Format::BitcoinEtl))
        );
        assert_eq!(
            d(r#"{"txid":"a","vin":[],"vout":[]}"#),
            Ok(Detected::Ledger(Format::BitcoinRpc))
        );
        assert_eq!(
            d(r#"{"hash":"a","tx":[],"height":1}"#),
            Ok(Detected::Ledger(Format::BitcoinRpc))
        );
        assert_eq!(
            d(r#"{"blockNumber":"1","timeStamp":"1","hash":"0x1"}"#),
            Ok(Detected::Ledger(Format::Etherscan))
        );
        assert_eq!(
            d(r#"{"kind":"transfer","amount":"1"}"#),
            Ok(Detected::Ledger(Format::Native))
        );
        assert!(d(r#"{"foo":1}"#).unwrap_err().contains("keys: foo"));
    }
}
