//! The on-disk store: one file holding a whole [`Ledger`], written by
//! `fundtrail ingest FILES -o case.ftl` and accepted wherever ledger exports
//! are, with identical results.
//!
//! This module owns the file format and nothing else: it never parses JSON,
//! never traces, and checks a file completely before handing a `Ledger` out,
//! so that no byte string makes [`open`] (or code that indexes the ledger it
//! returns) panic.
//!
//! # Format (version 1)
//!
//! All integers are little-endian.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  b"FTLEDGER"
//!      8     4  format version, u32 (1)
//!     12     4  flags, u32 (0; no flags are defined)
//!     16     8  body length in bytes, u64
//!     24     8  xxh3-64 of the body, u64
//!     32     .  body
//! ```
//!
//! The magic and the version are the stable prefix: a later format may change
//! everything after them. The checksum is verified before the body is decoded.
//!
//! The body is a fixed sequence of *sections*, one array per field
//! (columnar), each starting on an 8-byte boundary of the file so that a later
//! version can memory-map the columns in place:
//!
//! - a **column**: `count: u64`, then `count` fixed-size elements, then zero
//!   padding to a multiple of 8 bytes;
//! - a **string table**: `count: u64`, `count + 1` offsets (`u64`, the first 0,
//!   non-decreasing) into the bytes that follow, the concatenated UTF-8
//!   bytes (`offsets[count]` of them), then zero padding to a multiple of 8.
//!
//! Options are stored as a presence column (`u8`: 0 absent, 1 present) next to
//! a value column that holds zero (or `""`) where the value is absent, so every
//! `Ledger` has exactly one encoding and writing is deterministic. Ids are
//! their `u32` index; `AddrId::NONE`, `TxId::NONE` and `NO_OUTPUT` are
//! `u32::MAX`. Amounts are `u128` (16 bytes, low half first; a mapped reader
//! takes them as `[u64; 2]` since sections are 8-byte aligned).
//!
//! Sections, in order (all columns of one group have the same count):
//!
//! | # | section | element |
//! |---|---------|---------|
//! | 1 | addresses | string table |
//! | 2 | txids | string table |
//! | 3-8 | assets: name, model, symbol present, symbol, decimals present, decimals | strings, u8 (0 account, 1 UTXO), u8, strings, u8, u8 |
//! | 9-17 | movements: block, time, tx_index, tx, from, to, asset, kind, amount | u64, u64, u32, u32, u32, u32, u32, u8 (`MoveKind`), u128 |
//! | 18-27 | UTXO txs: block, time, index, txid, asset, coinbase, inputs start, inputs end, outputs start, outputs end | u64, u64, u32, u32, u32, u8, u32, u32, u32, u32 |
//! | 28-31 | inputs: spent, owner, value present, value | u32, u32, u8, u128 |
//! | 32-33 | outputs: owner, value | u32, u128 |
//! | 34-35 | info records per format: format, count | strings, u64 |
//! | 36 | info counters: duplicates, rejected, unknown fee txs, unknown value inputs | u64 (exactly 4) |
//! | 37-39 | info files: path, format, records | strings, strings, u64 |
//!
//! Sizes: an account movement takes 53 bytes (8+8+4+4+4+4+4+1+16), a UTXO
//! input 25 (4+4+1+16), a UTXO output 20 (4+16), a UTXO transaction 45, plus
//! at most 7 bytes of padding per section.
//!
//! [`open`] checks every length against what is left of the body, every id
//! against its table (`AddrId::NONE` only as the `from` of a mint, the `to` of
//! a fee and the owner of an input; `TxId::NONE` only on an account movement),
//! every input and output range of a UTXO transaction, every `spent` link
//! (an output index or `NO_OUTPUT`), every enum and flag byte, every string's
//! UTF-8, and that the padding is zero and nothing follows the last section.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::ledger::{Ledger, LedgerInfo, SourceFile};
use crate::model::{
    AddrId, AssetId, AssetInfo, ChainModel, MoveKind, Movement, TxId, TxInput, TxOutput, UtxoTx,
    NO_OUTPUT,
};

/// The first bytes of every store.
pub const MAGIC: [u8; 8] = *b"FTLEDGER";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Bytes before the body.
pub const HEADER_LEN: usize = 32;

/// Number of `u64` counters in the info section (version 1).
const COUNTERS: usize = 4;

/// Why a store could not be written or opened, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is not a fundtrail store (unknown header); give ledger exports or a file \
         written by `fundtrail ingest -o`"
    )]
    NotAStore { path: PathBuf },
    #[error(
        "{path} was written by {} fundtrail (store format {found}; this build reads format \
         {supported}): re-run `fundtrail ingest` on the exports to rebuild it",
        newer_or_older(*.found, *.supported)
    )]
    Version {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path} is damaged ({what}); re-run `fundtrail ingest` on the exports to rebuild it")]
    Corrupt { path: PathBuf, what: String },
}

fn newer_or_older(found: u32, supported: u32) -> &'static str {
    if found > supported {
        "a newer"
    } else {
        "an older"
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Writing

/// Write `ledger` to `path`, atomically: the body goes to a temporary file in
/// the same directory, which is synced and then renamed over `path`, so a
/// crash or an error leaves either the old file or the complete new one.
pub fn write(ledger: &Ledger, path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".fundtrail-").suffix(".tmp");
    // Like `File::create`: the umask decides, not tempfile's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io_error(dir))?;

    let file = tmp.as_file_mut();
    let written = (|| -> io::Result<()> {
        file.write_all(&[0u8; HEADER_LEN])?;
        let mut body = BodyWriter::new(&mut *file);
        encode_body(ledger, &mut body)?;
        let (len, checksum) = body.finish()?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(len, checksum))?;
        file.flush()?;
        file.sync_all()
    })();
    // On error `tmp` is dropped here, which deletes the temporary file.
    written.map_err(io_error(path))?;

    tmp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    // Make the rename itself durable (best effort: not every platform can
    // open a directory).
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn header(body_len: u64, checksum: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&0u32.to_le_bytes());
    h[16..24].copy_from_slice(&body_len.to_le_bytes());
    h[24..32].copy_from_slice(&checksum.to_le_bytes());
    h
}

/// Buffers the body, hashing and counting it on its way to `out`.
struct BodyWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    hasher: Xxh3,
    len: u64,
}

const WRITE_BUF: usize = 1 << 16;

impl<W: Write> BodyWriter<W> {
    fn new(out: W) -> Self {
        BodyWriter {
            out,
            buf: Vec::with_capacity(WRITE_BUF),
            hasher: Xxh3::new(),
            len: 0,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
        self.len += bytes.len() as u64;
        if self.buf.len() >= WRITE_BUF {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> io::Result<()> {
        self.hasher.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Zero bytes up to the next multiple of 8 (the body starts 8-aligned).
    fn pad(&mut self) -> io::Result<()> {
        let n = (8 - (self.len % 8) as usize) % 8;
        self.put(&[0u8; 8][..n])
    }

    fn count(&mut self, n: usize) -> io::Result<()> {
        self.put(&(n as u64).to_le_bytes())
    }

    /// One column: its count, its elements, padding.
    fn column<const N: usize, I>(&mut self, items: I) -> io::Result<()>
    where
        I: ExactSizeIterator<Item = [u8; N]>,
    {
        self.count(items.len())?;
        for item in items {
            self.put(&item)?;
        }
        self.pad()
    }

    fn strings<'s, I>(&mut self, items: I) -> io::Result<()>
    where
        I: ExactSizeIterator<Item = &'s str> + Clone,
    {
        self.count(items.len())?;
        let mut offset = 0u64;
        self.put(&offset.to_le_bytes())?;
        for s in items.clone() {
            offset += s.len() as u64;
            self.put(&offset.to_le_bytes())?;
        }
        for s in items {
            self.put(s.as_bytes())?;
        }
        self.pad()
    }

    /// Flush what is buffered; the body's length and checksum.
    fn finish(mut self) -> io::Result<(u64, u64)> {
        self.drain()?;
        Ok((self.len, self.hasher.digest()))
    }
}

fn opt_flag(present: bool) -> [u8; 1] {
    [u8::from(present)]
}

fn model_byte(m: ChainModel) -> u8 {
    match m {
        ChainModel::Account => 0,
        ChainModel::Utxo => 1,
    }
}

/// The body, section by section, in the order the module doc lists.
fn encode_body<W: Write>(l: &Ledger, w: &mut BodyWriter<W>) -> io::Result<()> {
    w.strings(l.addresses.iter().map(String::as_str))?;
    w.strings(l.txids.iter().map(String::as_str))?;

    let a = &l.assets;
    w.strings(a.iter().map(|a| a.name.as_str()))?;
    w.column(a.iter().map(|a| [model_byte(a.model)]))?;
    w.column(a.iter().map(|a| opt_flag(a.symbol.is_some())))?;
    w.strings(a.iter().map(|a| a.symbol.as_deref().unwrap_or("")))?;
    w.column(a.iter().map(|a| opt_flag(a.decimals.is_some())))?;
    w.column(a.iter().map(|a| [a.decimals.unwrap_or(0)]))?;

    let m = &l.movements;
    w.column(m.iter().map(|m| m.block.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.time.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.tx_index.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.tx.0.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.from.0.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.to.0.to_le_bytes()))?;
    w.column(m.iter().map(|m| m.asset.0.to_le_bytes()))?;
    w.column(m.iter().map(|m| [m.kind as u8]))?;
    w.column(m.iter().map(|m| m.amount.to_le_bytes()))?;

    let t = &l.utxo_txs;
    w.column(t.iter().map(|t| t.block.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.time.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.index.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.txid.0.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.asset.0.to_le_bytes()))?;
    w.column(t.iter().map(|t| [u8::from(t.coinbase)]))?;
    w.column(t.iter().map(|t| t.inputs.0.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.inputs.1.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.outputs.0.to_le_bytes()))?;
    w.column(t.iter().map(|t| t.outputs.1.to_le_bytes()))?;

    let i = &l.inputs;
    w.column(i.iter().map(|i| i.spent.to_le_bytes()))?;
    w.column(i.iter().map(|i| i.owner.0.to_le_bytes()))?;
    w.column(i.iter().map(|i| opt_flag(i.value.is_some())))?;
    w.column(i.iter().map(|i| i.value.unwrap_or(0).to_le_bytes()))?;

    let o = &l.outputs;
    w.column(o.iter().map(|o| o.owner.0.to_le_bytes()))?;
    w.column(o.iter().map(|o| o.value.to_le_bytes()))?;

    let info = &l.info;
    w.strings(info.records.iter().map(|(f, _)| f.as_str()))?;
    w.column(info.records.iter().map(|(_, n)| n.to_le_bytes()))?;
    let counters: [u64; COUNTERS] = [
        info.duplicates,
        info.rejected,
        info.unknown_fee_txs,
        info.unknown_value_inputs,
    ];
    w.column(counters.iter().map(|c| c.to_le_bytes()))?;
    w.strings(info.files.iter().map(|f| f.path.as_str()))?;
    w.strings(info.files.iter().map(|f| f.format.as_str()))?;
    w.column(info.files.iter().map(|f| f.records.to_le_bytes()))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Opening

/// True when the file at `path` starts with the store's magic. Reads only the
/// first bytes; any error reading them means "no".
pub fn is_store(path: &Path) -> bool {
    let mut head = [0u8; MAGIC.len()];
    match File::open(path) {
        Ok(mut f) => f.read_exact(&mut head).is_ok() && head == MAGIC,
        Err(_) => false,
    }
}

/// Open the store at `path`, checking it completely (see the module doc).
pub fn open(path: &Path) -> Result<Ledger, StoreError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    // Look at the magic first, so a large file of something else is not read.
    let mut head = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(io_error(path))?;
    if head[..] != MAGIC[..] {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = head;
    bytes.reserve(
        usize::try_from(size)
            .unwrap_or(0)
            .saturating_sub(MAGIC.len()),
    );
    file.read_to_end(&mut bytes).map_err(io_error(path))?;
    from_bytes(path, &bytes)
}

/// Decode a whole store file held in memory (`path` only names it in errors).
fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Ledger, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        what,
    };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    if bytes.len() < 12 {
        return Err(corrupt("truncated inside the header".into()));
    }
    let version = u32::from_le_bytes(array(&bytes[8..12]));
    if version != VERSION {
        return Err(StoreError::Version {
            path: path.to_path_buf(),
            found: version,
            supported: VERSION,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(corrupt("truncated inside the header".into()));
    }
    let flags = u32::from_le_bytes(array(&bytes[12..16]));
    if flags != 0 {
        return Err(corrupt(format!("unknown header flags {flags:#x}")));
    }
    let body_len = u64::from_le_bytes(array(&bytes[16..24]));
    let checksum = u64::from_le_bytes(array(&bytes[24..32]));
    let body = &bytes[HEADER_LEN..];
    let actual = body.len() as u64;
    if actual < body_len {
        return Err(corrupt(format!(
            "truncated: the header gives {body_len} body bytes, the file has {actual}"
        )));
    }
    if actual > body_len {
        return Err(corrupt(format!(
            "{} unexpected bytes after the end of the body",
            actual - body_len
        )));
    }
    let found = xxh3_64(body);
    if found != checksum {
        return Err(corrupt(format!(
            "checksum mismatch: header {checksum:016x}, body {found:016x}"
        )));
    }
    decode_body(body).map_err(corrupt)
}

/// `N` bytes as an array; callers pass slices of exactly `N` bytes.
fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    a
}

/// A fixed-size column borrowed from the body.
#[derive(Copy, Clone)]
struct Col<'a, const N: usize> {
    data: &'a [u8],
}

impl<const N: usize> Col<'_, N> {
    fn len(&self) -> usize {
        self.data.len() / N
    }
    fn get(&self, i: usize) -> [u8; N] {
        array(&self.data[i * N..(i + 1) * N])
    }
}

impl Col<'_, 1> {
    fn u8(&self, i: usize) -> u8 {
        self.data[i]
    }
    /// A 0/1 flag byte.
    fn flag(&self, i: usize, what: &str) -> Result<bool, String> {
        match self.data[i] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("{what} {i}: flag byte {b} is neither 0 nor 1")),
        }
    }
}
impl Col<'_, 4> {
    fn u32(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.get(i))
    }
}
impl Col<'_, 8> {
    fn u64(&self, i: usize) -> u64 {
        u64::from_le_bytes(self.get(i))
    }
}
impl Col<'_, 16> {
    fn u128(&self, i: usize) -> u128 {
        u128::from_le_bytes(self.get(i))
    }
}

/// Reads sections off the body, checking each against what is left.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(format!(
                "{what}: truncated (needs {n} bytes at body offset {}, {left} left)",
                self.pos
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(array(self.take(8, what)?)))
    }

    fn count(&mut self, what: &str) -> Result<usize, String> {
        let n = self.u64(what)?;
        usize::try_from(n).map_err(|_| format!("{what}: count {n} is too large"))
    }

    fn pad(&mut self, what: &str) -> Result<(), String> {
        let n = (8 - self.pos % 8) % 8;
        if self.take(n, what)?.iter().any(|&b| b != 0) {
            return Err(format!("{what}: non-zero padding"));
        }
        Ok(())
    }

    fn column<const N: usize>(&mut self, what: &str) -> Result<Col<'a, N>, String> {
        let n = self.count(what)?;
        let bytes = n
            .checked_mul(N)
            .ok_or_else(|| format!("{what}: count {n} is too large"))?;
        let data = self.take(bytes, what)?;
        self.pad(what)?;
        Ok(Col { data })
    }

    /// A column that must have `n` elements (its group's length).
    fn column_of<const N: usize>(&mut self, n: usize, what: &str) -> Result<Col<'a, N>, String> {
        let c = self.column::<N>(what)?;
        if c.len() != n {
            return Err(format!("{what}: {} entries, expected {n}", c.len()));
        }
        Ok(c)
    }

    fn strings(&mut self, what: &str) -> Result<Vec<String>, String> {
        let n = self.count(what)?;
        let too_large = || format!("{what}: count {n} is too large");
        let offsets_len = n
            .checked_add(1)
            .and_then(|k| k.checked_mul(8))
            .ok_or_else(too_large)?;
        let offsets = self.take(offsets_len, what)?;
        let offset = |i: usize| -> Result<usize, String> {
            let o = u64::from_le_bytes(array(&offsets[i * 8..i * 8 + 8]));
            usize::try_from(o).map_err(|_| format!("{what}: offset {o} is too large"))
        };
        if offset(0)? != 0 {
            return Err(format!("{what}: the first string offset is not 0"));
        }
        let total = offset(n)?;
        let data = self.take(total, what)?;
        let mut out = Vec::with_capacity(n);
        let mut start = 0;
        for i in 0..n {
            let end = offset(i + 1)?;
            if end < start || end > total {
                return Err(format!("{what} {i}: string offsets out of order"));
            }
            let s = std::str::from_utf8(&data[start..end])
                .map_err(|_| format!("{what} {i}: not valid UTF-8"))?;
            out.push(s.to_string());
            start = end;
        }
        self.pad(what)?;
        Ok(out)
    }

    fn strings_of(&mut self, n: usize, what: &str) -> Result<Vec<String>, String> {
        let s = self.strings(what)?;
        if s.len() != n {
            return Err(format!("{what}: {} entries, expected {n}", s.len()));
        }
        Ok(s)
    }
}

/// Checks an id against the length of its table.
fn check_id(id: u32, len: usize, what: &str, i: usize, table: &str) -> Result<(), String> {
    if (id as usize) < len {
        Ok(())
    } else {
        Err(format!("{what} {i}: id {id} out of range ({len} {table})"))
    }
}

fn check_range((start, end): (u32, u32), len: usize, what: &str, i: usize) -> Result<(), String> {
    if start <= end && (end as usize) <= len {
        Ok(())
    } else {
        Err(format!(
            "UTXO tx {i}: {what} range {start}..{end} out of range ({len} {what})"
        ))
    }
}

fn decode_body(body: &[u8]) -> Result<Ledger, String> {
    let mut r = Reader { buf: body, pos: 0 };

    let addresses = r.strings("addresses")?;
    let txids = r.strings("transaction ids")?;
    let n_addr = addresses.len();
    let n_tx = txids.len();
    let addr = |id: u32, what: &str, i: usize| check_id(id, n_addr, what, i, "addresses");

    // Assets.
    let names = r.strings("asset names")?;
    let n = names.len();
    let model = r.column_of::<1>(n, "asset models")?;
    let sym_present = r.column_of::<1>(n, "asset symbol flags")?;
    let symbols = r.strings_of(n, "asset symbols")?;
    let dec_present = r.column_of::<1>(n, "asset decimals flags")?;
    let decimals = r.column_of::<1>(n, "asset decimals")?;
    let mut assets = Vec::with_capacity(n);
    for (i, (name, symbol)) in names.into_iter().zip(symbols).enumerate() {
        let model = match model.u8(i) {
            0 => ChainModel::Account,
            1 => ChainModel::Utxo,
            b => return Err(format!("asset {i}: unknown chain model byte {b}")),
        };
        let symbol = if sym_present.flag(i, "asset symbol flag")? {
            Some(symbol)
        } else if symbol.is_empty() {
            None
        } else {
            return Err(format!("asset {i}: symbol text given but marked absent"));
        };
        let decimals = if dec_present.flag(i, "asset decimals flag")? {
            Some(decimals.u8(i))
        } else if decimals.u8(i) == 0 {
            None
        } else {
            return Err(format!("asset {i}: decimals given but marked absent"));
        };
        assets.push(AssetInfo {
            name,
            model,
            symbol,
            decimals,
        });
    }
    let n_assets = assets.len();

    // Account movements.
    let block = r.column::<8>("movement blocks")?;
    let n = block.len();
    let time = r.column_of::<8>(n, "movement times")?;
    let tx_index = r.column_of::<4>(n, "movement tx indexes")?;
    let tx = r.column_of::<4>(n, "movement tx ids")?;
    let from = r.column_of::<4>(n, "movement from addresses")?;
    let to = r.column_of::<4>(n, "movement to addresses")?;
    let asset = r.column_of::<4>(n, "movement assets")?;
    let kind = r.column_of::<1>(n, "movement kinds")?;
    let amount = r.column_of::<16>(n, "movement amounts")?;
    let mut movements = Vec::with_capacity(n);
    for i in 0..n {
        let kind = MoveKind::from_u8(kind.u8(i))
            .ok_or_else(|| format!("movement {i}: unknown kind byte {}", kind.u8(i)))?;
        let (tx, from, to, asset) = (tx.u32(i), from.u32(i), to.u32(i), asset.u32(i));
        if tx != TxId::NONE.0 {
            check_id(tx, n_tx, "movement", i, "transaction ids")?;
        }
        if !(from == AddrId::NONE.0 && kind == MoveKind::Mint) {
            addr(from, "movement from address", i)?;
        }
        if !(to == AddrId::NONE.0 && kind == MoveKind::Fee) {
            addr(to, "movement to address", i)?;
        }
        check_id(asset, n_assets, "movement asset", i, "assets")?;
        movements.push(Movement {
            block: block.u64(i),
            time: time.u64(i),
            tx_index: tx_index.u32(i),
            tx: TxId(tx),
            from: AddrId(from),
            to: AddrId(to),
            asset: AssetId(asset),
            kind,
            amount: amount.u128(i),
        });
    }

    // UTXO transactions: columns now, ranges checked once inputs and outputs
    // are known.
    let block = r.column::<8>("UTXO tx blocks")?;
    let n = block.len();
    let time = r.column_of::<8>(n, "UTXO tx times")?;
    let index = r.column_of::<4>(n, "UTXO tx indexes")?;
    let txid = r.column_of::<4>(n, "UTXO tx ids")?;
    let asset = r.column_of::<4>(n, "UTXO tx assets")?;
    let coinbase = r.column_of::<1>(n, "UTXO tx coinbase flags")?;
    let in_start = r.column_of::<4>(n, "UTXO tx input starts")?;
    let in_end = r.column_of::<4>(n, "UTXO tx input ends")?;
    let out_start = r.column_of::<4>(n, "UTXO tx output starts")?;
    let out_end = r.column_of::<4>(n, "UTXO tx output ends")?;

    // Inputs.
    let spent = r.column::<4>("input spent links")?;
    let n_in = spent.len();
    let in_owner = r.column_of::<4>(n_in, "input owners")?;
    let in_present = r.column_of::<1>(n_in, "input value flags")?;
    let in_value = r.column_of::<16>(n_in, "input values")?;

    // Outputs.
    let out_owner = r.column::<4>("output owners")?;
    let n_out = out_owner.len();
    let out_value = r.column_of::<16>(n_out, "output values")?;

    let mut utxo_txs = Vec::with_capacity(n);
    for i in 0..n {
        let (t, a) = (txid.u32(i), asset.u32(i));
        check_id(t, n_tx, "UTXO tx", i, "transaction ids")?;
        check_id(a, n_assets, "UTXO tx asset", i, "assets")?;
        let inputs = (in_start.u32(i), in_end.u32(i));
        let outputs = (out_start.u32(i), out_end.u32(i));
        check_range(inputs, n_in, "inputs", i)?;
        check_range(outputs, n_out, "outputs", i)?;
        utxo_txs.push(UtxoTx {
            block: block.u64(i),
            time: time.u64(i),
            index: index.u32(i),
            txid: TxId(t),
            asset: AssetId(a),
            coinbase: coinbase.flag(i, "UTXO tx coinbase flag")?,
            inputs,
            outputs,
        });
    }

    let mut inputs = Vec::with_capacity(n_in);
    for i in 0..n_in {
        let (s, owner) = (spent.u32(i), in_owner.u32(i));
        if s != NO_OUTPUT && s as usize >= n_out {
            return Err(format!(
                "input {i}: spends output {s}, out of range ({n_out} outputs)"
            ));
        }
        if owner != AddrId::NONE.0 {
            addr(owner, "input owner", i)?;
        }
        let value = if in_present.flag(i, "input value flag")? {
            Some(in_value.u128(i))
        } else if in_value.u128(i) == 0 {
            None
        } else {
            return Err(format!("input {i}: value given but marked unknown"));
        };
        inputs.push(TxInput {
            spent: s,
            owner: AddrId(owner),
            value,
        });
    }

    let mut outputs = Vec::with_capacity(n_out);
    for i in 0..n_out {
        let owner = out_owner.u32(i);
        addr(owner, "output owner", i)?;
        outputs.push(TxOutput {
            owner: AddrId(owner),
            value: out_value.u128(i),
        });
    }

    // Ingest counts.
    let formats = r.strings("info record formats")?;
    let counts = r.column_of::<8>(formats.len(), "info record counts")?;
    let records = formats
        .into_iter()
        .enumerate()
        .map(|(i, f)| (f, counts.u64(i)))
        .collect();
    let counters = r.column_of::<8>(COUNTERS, "info counters")?;
    let paths = r.strings("info file paths")?;
    let n = paths.len();
    let file_formats = r.strings_of(n, "info file formats")?;
    let file_records = r.column_of::<8>(n, "info file record counts")?;
    let files = paths
        .into_iter()
        .zip(file_formats)
        .enumerate()
        .map(|(i, (path, format))| SourceFile {
            path,
            format,
            records: file_records.u64(i),
        })
        .collect();
    let info = LedgerInfo {
        records,
        duplicates: counters.u64(0),
        rejected: counters.u64(1),
        unknown_fee_txs: counters.u64(2),
        unknown_value_inputs: counters.u64(3),
        files,
    };

    if r.pos != body.len() {
        return Err(format!(
            "{} unexpected bytes after the last section",
            body.len() - r.pos
        ));
    }

    Ok(Ledger {
        addresses,
        assets,
        txids,
        movements,
        utxo_txs,
        inputs,
        outputs,
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Amount;
    use proptest::prelude::*;

    const ETH: AssetId = AssetId(0);
    const USDT: AssetId = AssetId(1);
    const BTC: AssetId = AssetId(2);

    /// A movement in block 10.
    fn mv(
        tx_index: u32,
        tx: u32,
        from: AddrId,
        to: AddrId,
        asset: AssetId,
        kind: MoveKind,
        amount: Amount,
    ) -> Movement {
        Movement {
            block: 10,
            time: 1_600_000_130,
            tx_index,
            tx: TxId(tx),
            from,
            to,
            asset,
            kind,
            amount,
        }
    }

    /// Both models, every option both ways, NONE where the model allows it,
    /// amounts above 2^64 and at u128::MAX.
    fn sample() -> Ledger {
        let addresses: Vec<String> = vec![
            "0x1111111111111111111111111111111111111111".into(),
            "0x2222222222222222222222222222222222222222".into(),
            "1BoatSLRHtKNngkdXEeobR76b53LETtpyT".into(),
            "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy".into(),
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".into(),
            "nonstandard:cc:1".into(),
            "ünïcödé-label".into(),
        ];
        let (a, b, btc1, multi, bech, nonstd) = (
            AddrId(0),
            AddrId(1),
            AddrId(2),
            AddrId(3),
            AddrId(4),
            AddrId(5),
        );
        let txids: Vec<String> = ["aa01", "aa02", "bb01", "cc01", "cc02"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let assets = vec![
            AssetInfo {
                name: "ETH".into(),
                model: ChainModel::Account,
                symbol: Some("ETH".into()),
                decimals: Some(18),
            },
            AssetInfo {
                name: "0xdac17f958d2ee523a2206206994597c13d831ec7".into(),
                model: ChainModel::Account,
                symbol: Some("USDT".into()),
                decimals: Some(6),
            },
            AssetInfo {
                name: "BTC".into(),
                model: ChainModel::Utxo,
                symbol: None,
                decimals: None,
            },
            AssetInfo {
                name: "0x3333333333333333333333333333333333333333".into(),
                model: ChainModel::Account,
                symbol: Some(String::new()),
                decimals: Some(0),
            },
        ];
        let movements = vec![
            mv(0, 0, a, b, ETH, MoveKind::Native, (1u128 << 64) + 7),
            mv(0, 0, a, AddrId::NONE, ETH, MoveKind::Fee, 21_000),
            mv(1, 1, b, a, USDT, MoveKind::Token, u128::MAX),
            mv(
                crate::model::LANE_REWARD,
                TxId::NONE.0,
                AddrId::NONE,
                b,
                ETH,
                MoveKind::Mint,
                2 * 10u128.pow(18),
            ),
        ];
        let utxo_txs = vec![
            UtxoTx {
                block: 100,
                time: 1_231_006_505,
                index: 0,
                txid: TxId(3),
                asset: BTC,
                coinbase: true,
                inputs: (0, 0),
                outputs: (0, 2),
            },
            UtxoTx {
                block: 101,
                time: 1_231_007_000,
                index: 1,
                txid: TxId(4),
                asset: BTC,
                coinbase: false,
                inputs: (0, 3),
                outputs: (2, 4),
            },
        ];
        let inputs = vec![
            // Linked to the coinbase's first output.
            TxInput {
                spent: 0,
                owner: btc1,
                value: Some(50_0000_0000),
            },
            // Outside the sample, value unknown, owner unknown.
            TxInput {
                spent: NO_OUTPUT,
                owner: AddrId::NONE,
                value: None,
            },
            // Outside the sample, enriched.
            TxInput {
                spent: NO_OUTPUT,
                owner: bech,
                value: Some(u64::MAX as u128 + 1),
            },
        ];
        let outputs = vec![
            TxOutput {
                owner: btc1,
                value: 50_0000_0000,
            },
            TxOutput {
                owner: nonstd,
                value: 0,
            },
            TxOutput {
                owner: multi,
                value: 30_0000_0000,
            },
            TxOutput {
                owner: bech,
                value: 19_9999_0000,
            },
        ];
        let info = LedgerInfo {
            records: vec![("ethereum-etl".into(), 7), ("bitcoin-etl".into(), 2)],
            duplicates: 3,
            rejected: 1,
            unknown_fee_txs: 4,
            unknown_value_inputs: 1,
            files: vec![
                SourceFile {
                    path: "exports/tx.jsonl.gz".into(),
                    format: "ethereum-etl".into(),
                    records: 7,
                },
                SourceFile {
                    path: "exports/btc.json".into(),
                    format: "bitcoin-etl".into(),
                    records: 2,
                },
            ],
        };
        Ledger {
            addresses,
            assets,
            txids,
            movements,
            utxo_txs,
            inputs,
            outputs,
            info,
        }
    }

    fn encode(l: &Ledger) -> Vec<u8> {
        let mut body = Vec::new();
        let mut w = BodyWriter::new(&mut body);
        encode_body(l, &mut w).unwrap();
        let (len, sum) = w.finish().unwrap();
        let mut out = header(len, sum).to_vec();
        out.extend_from_slice(&body);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Ledger, StoreError> {
        from_bytes(Path::new("case.ftl"), bytes)
    }

    /// Replace the body and recompute the header, so the decoder itself is
    /// exercised rather than the checksum.
    fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
        let body = bytes.split_off(HEADER_LEN);
        let mut out = header(body.len() as u64, xxh3_64(&body)).to_vec();
        out.extend_from_slice(&body);
        out
    }

    fn corrupt_what(r: Result<Ledger, StoreError>) -> String {
        match r {
            Err(StoreError::Corrupt { what, .. }) => what,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_gives_an_equal_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        let l = sample();
        write(&l, &path).unwrap();
        assert_eq!(open(&path).unwrap(), l);
    }

    #[test]
    fn empty_ledger_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.ftl");
        write(&Ledger::default(), &path).unwrap();
        assert_eq!(open(&path).unwrap(), Ledger::default());
    }

    #[test]
    fn writing_twice_gives_identical_bytes_and_a_valid_header() {
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("a.ftl"), dir.path().join("b.ftl"));
        write(&sample(), &p1).unwrap();
        write(&sample(), &p2).unwrap();
        let (b1, b2) = (std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        assert_eq!(b1, b2);
        // The streamed writer and the in-memory encoder agree.
        assert_eq!(b1, encode(&sample()));
        assert_eq!(&b1[0..8], b"FTLEDGER");
        assert_eq!(u32::from_le_bytes(array(&b1[8..12])), 1);
        assert_eq!(u32::from_le_bytes(array(&b1[12..16])), 0);
        let body = &b1[HEADER_LEN..];
        assert_eq!(u64::from_le_bytes(array(&b1[16..24])), body.len() as u64);
        assert_eq!(u64::from_le_bytes(array(&b1[24..32])), xxh3_64(body));
        assert_eq!(body.len() % 8, 0);
    }

    #[test]
    fn sections_are_eight_byte_aligned() {
        // Eight movements fill every column to a multiple of 8 bytes, so they
        // add exactly 8 * 53 bytes: no padding, no per-row overhead.
        let mut l = Ledger::default();
        let empty = encode(&l).len();
        l.addresses.push("a".into());
        l.assets.push(sample().assets[0].clone());
        let base = encode(&l).len();
        let one = mv(0, u32::MAX, AddrId(0), AddrId(0), ETH, MoveKind::Native, 1);
        l.movements = vec![one; 8];
        let eight = encode(&l).len();
        assert_eq!(eight - base, 8 * 53);
        // One movement: 53 bytes plus padding of the 4-, 1- and 16-byte columns.
        l.movements.truncate(1);
        assert_eq!(encode(&l).len() - base, 8 + 8 + 5 * 8 + 8 + 16);
        assert!(empty < base);
    }

    #[test]
    fn json_text_is_not_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.json");
        std::fs::write(&path, "{\"hash\": \"0xaa\", \"value\": 1}\n").unwrap();
        assert!(!is_store(&path));
        let err = open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
        assert!(err.to_string().contains("fundtrail ingest -o"), "{err}");
        let store = dir.path().join("case.ftl");
        write(&sample(), &store).unwrap();
        assert!(is_store(&store));
        assert!(!is_store(&dir.path().join("missing")));
        std::fs::write(&path, b"FTLED").unwrap();
        assert!(!is_store(&path));
        assert!(matches!(open(&path), Err(StoreError::NotAStore { .. })));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = open(Path::new("/nonexistent/case.ftl")).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/case.ftl"));
    }

    #[test]
    fn another_version_is_a_version_error() {
        let mut b = encode(&sample());
        b[8..12].copy_from_slice(&2u32.to_le_bytes());
        let err = decode(&b).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Version {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("a newer fundtrail"), "{err}");
        b[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(decode(&b).unwrap_err().to_string().contains("an older"));
        // The version is read before the rest of the header is required.
        assert!(matches!(
            decode(&b[..12]),
            Err(StoreError::Version { found: 0, .. })
        ));
    }

    #[test]
    fn one_flipped_body_byte_is_a_checksum_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        write(&sample(), &path).unwrap();
        let mut b = std::fs::read(&path).unwrap();
        let mid = HEADER_LEN + (b.len() - HEADER_LEN) / 2;
        b[mid] ^= 0x01;
        std::fs::write(&path, &b).unwrap();
        let err = open(&path).unwrap_err();
        assert!(corrupt_what(Err(err)).contains("checksum mismatch"));
    }

    #[test]
    fn unknown_flags_and_trailing_bytes_are_corrupt() {
        let mut b = encode(&sample());
        b[12] = 1;
        assert!(corrupt_what(decode(&b)).contains("flags"));
        let mut b = encode(&sample());
        b.push(0);
        assert!(corrupt_what(decode(&b)).contains("after the end"));
        // Trailing bytes the checksum covers are still refused.
        let mut b = encode(&sample());
        b.extend_from_slice(&[0; 8]);
        assert!(corrupt_what(decode(&reseal(b))).contains("after the last section"));
    }

    #[test]
    fn every_truncation_is_corrupt_or_not_a_store() {
        let b = encode(&sample());
        for len in 0..b.len() {
            match decode(&b[..len]) {
                Err(StoreError::NotAStore { .. }) => assert!(len < 8),
                Err(StoreError::Corrupt { what, .. }) => {
                    assert!(len >= 8);
                    assert!(what.contains("truncated"), "{len}: {what}");
                }
                other => panic!("truncated to {len}: {other:?}"),
            }
        }
        // And through the file path too.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.ftl");
        std::fs::write(&path, &b[..b.len() - 3]).unwrap();
        assert!(matches!(open(&path), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn truncated_bodies_with_a_valid_checksum_are_corrupt() {
        let b = encode(&sample());
        for len in HEADER_LEN..b.len() {
            let what = corrupt_what(decode(&reseal(b[..len].to_vec())));
            assert!(what.contains("truncated"), "{len}: {what}");
        }
    }

    /// A ledger that breaks one rule is written as is (the writer does not
    /// check) and refused on open with a description of what is wrong.
    #[test]
    fn out_of_range_ids_and_bad_bytes_are_corrupt() {
        type Break = fn(&mut Ledger);
        let cases: &[(Break, &str)] = &[
            (
                |l| l.movements[0].from = AddrId(7),
                "movement from address 0: id 7 out of range",
            ),
            (|l| l.movements[0].to = AddrId(99), "movement to address 0"),
            (
                |l| l.movements[0].from = AddrId::NONE,
                "movement from address 0",
            ),
            (
                |l| l.movements[3].to = AddrId::NONE,
                "movement to address 3",
            ),
            (
                |l| l.movements[1].from = AddrId::NONE,
                "movement from address 1",
            ),
            (
                |l| l.movements[2].tx = TxId(5),
                "movement 2: id 5 out of range",
            ),
            (|l| l.movements[2].asset = AssetId(4), "movement asset 2"),
            (|l| l.utxo_txs[0].txid = TxId::NONE, "UTXO tx 0"),
            (|l| l.utxo_txs[1].asset = AssetId(9), "UTXO tx asset 1"),
            (|l| l.utxo_txs[1].inputs = (0, 4), "inputs range 0..4"),
            (|l| l.utxo_txs[1].inputs = (2, 1), "inputs range 2..1"),
            (|l| l.utxo_txs[1].outputs = (2, 5), "outputs range 2..5"),
            (|l| l.inputs[0].spent = 4, "input 0: spends output 4"),
            (|l| l.inputs[0].owner = AddrId(7), "input owner 0"),
            (|l| l.outputs[1].owner = AddrId::NONE, "output owner 1"),
        ];
        for (i, (break_it, expected)) in cases.iter().enumerate() {
            let mut l = sample();
            break_it(&mut l);
            let what = corrupt_what(decode(&encode(&l)));
            assert!(
                what.contains(expected),
                "case {i}: {what:?} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn invalid_bytes_in_the_body_are_corrupt() {
        // Find a column by encoding a marker value, then spoil it.
        fn spoil(mark: impl Fn(&mut Ledger), find: &[u8], with: &[u8]) -> String {
            let mut l = sample();
            mark(&mut l);
            let mut b = encode(&l);
            let at = b
                .windows(find.len())
                .position(|w| w == find)
                .expect("marker");
            b[at..at + with.len()].copy_from_slice(with);
            corrupt_what(decode(&reseal(b)))
        }
        let w = spoil(
            |l| l.addresses[6] = "\u{7f}\u{7f}\u{7f}\u{7f}".into(),
            &[0x7f; 4],
            &[0xff],
        );
        assert!(w.contains("addresses 6: not valid UTF-8"), "{w}");
        // Movement kinds are the only u8 column holding 0,1,2,3 in a row.
        let w = spoil(|_| {}, &[0, 1, 2, 3], &[0, 1, 9]);
        assert!(w.contains("movement 2: unknown kind byte 9"), "{w}");
    }

    #[test]
    fn bad_flag_and_model_bytes_are_corrupt() {
        let l = sample();
        let b = encode(&l);
        // Decode the section layout to find the asset model column: after
        // the address and txid string tables and the asset name table.
        let mut r = Reader {
            buf: &b[HEADER_LEN..],
            pos: 0,
        };
        r.strings("").unwrap();
        r.strings("").unwrap();
        r.strings("").unwrap();
        let model_at = HEADER_LEN + r.pos + 8;
        let mut bad = b.clone();
        bad[model_at] = 7;
        assert!(corrupt_what(decode(&reseal(bad))).contains("asset 0: unknown chain model byte 7"));
        r.column::<1>("").unwrap();
        let flag_at = HEADER_LEN + r.pos + 8;
        let mut bad = b.clone();
        bad[flag_at] = 2;
        assert!(corrupt_what(decode(&reseal(bad))).contains("neither 0 nor 1"));
        // Non-zero padding after the 4-byte model column.
        let mut bad = b.clone();
        bad[model_at + 4] = 1;
        assert!(corrupt_what(decode(&reseal(bad))).contains("non-zero padding"));
    }

    #[test]
    fn writing_over_an_existing_store_replaces_it_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        write(&sample(), &path).unwrap();
        let mut other = sample();
        other.movements.truncate(1);
        other.info.duplicates = 99;
        write(&other, &path).unwrap();
        assert_eq!(open(&path).unwrap(), other);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("case.ftl")]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_store_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the final rename fails.
        let target = dir.path().join("case.ftl");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let err = write(&sample(), &target).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("case.ftl"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // A read-only directory: the old store stays intact. (Root ignores
        // directory permissions, so this part only runs where they hold.)
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let ro = dir.path().join("ro");
            std::fs::create_dir(&ro).unwrap();
            let path = ro.join("case.ftl");
            write(&sample(), &path).unwrap();
            let before = std::fs::read(&path).unwrap();
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
            let enforced = std::fs::write(ro.join("probe"), b"").is_err();
            if enforced {
                assert!(matches!(
                    write(&Ledger::default(), &path),
                    Err(StoreError::Io { .. })
                ));
                assert_eq!(std::fs::read(&path).unwrap(), before);
                assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 1);
            }
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn writing_into_a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/case.ftl");
        let err = write(&sample(), &path).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            // With a valid header and checksum the body decoder sees them.
            let mut b = header(0, 0).to_vec();
            b.extend_from_slice(&bytes);
            let _ = decode(&reseal(b));
        }

        #[test]
        fn spoiled_stores_never_panic(
            cut in any::<prop::sample::Index>(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
            big in any::<u64>(),
            at in any::<prop::sample::Index>(),
        ) {
            let good = encode(&sample());
            // Truncated: refused.
            let len = cut.index(good.len());
            prop_assert!(decode(&good[..len]).is_err());
            let r = decode(&reseal(good[..len.max(HEADER_LEN)].to_vec()));
            prop_assert!(len <= HEADER_LEN || r.is_err());

            // Flipped: the checksum catches it; resealed, the decoder must
            // refuse it or return a ledger that encodes back to the same bytes.
            let mut b = good.clone();
            for (i, x) in &flips {
                let i = HEADER_LEN + i.index(b.len() - HEADER_LEN);
                b[i] ^= x;
            }
            prop_assert!(decode(&b).is_err());
            let b = reseal(b);
            if let Ok(l) = decode(&b) {
                prop_assert_eq!(encode(&l), b);
            }

            // A huge count or offset planted on an 8-byte boundary.
            let mut b = good.clone();
            let i = HEADER_LEN + at.index((b.len() - HEADER_LEN) / 8) * 8;
            b[i..i + 8].copy_from_slice(&big.to_le_bytes());
            let b = reseal(b);
            if let Ok(l) = decode(&b) {
                prop_assert_eq!(encode(&l), b);
            }
        }

        #[test]
        fn open_never_panics_on_spoiled_files(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("case.ftl");
            let mut b = encode(&sample());
            for (i, x) in &flips {
                let i = i.index(b.len());
                b[i] ^= x;
            }
            b.truncate(cut.index(b.len() + 1));
            std::fs::write(&path, &b).unwrap();
            let _ = open(&path);
        }
    }
}
