//! The on-disk store: one file holding a whole [`Ledger`], written by
//! `fundtrail ingest FILES -o case.ftl` and accepted wherever ledger exports
//! are, with identical results.
//!
//! This module owns the file format and nothing else: it never parses JSON
//! and never traces. [`open`] memory-maps the file and hands out a `Ledger`
//! whose columns point into the map (no copy, no decode), after checking it
//! completely, so that no byte string makes [`open`] (or code that indexes the
//! ledger it returns) panic.
//!
//! # Format (version 3)
//!
//! All integers are little-endian; the file is the ledger's in-memory columns
//! as they are, so only little-endian machines read or write it (others get an
//! error saying so).
//!
//! ```text
//! offset  size  field
//!      0     8  magic  b"FTLEDGER"
//!      8     4  format version, u32 (3)
//!     12     4  flags, u32 (0; no flags are defined)
//!     16     8  section count, u64 (16)
//!     24   512  section table: 16 records of 32 bytes, below
//!    536     8  xxh3-64 of bytes 0..536 (header and table)
//!    544     .  sections
//! ```
//!
//! The magic and the version are the stable prefix: a later format may change
//! everything after them. A section record:
//!
//! ```text
//!   +0  u32  kind id (1..=16: the table lists the sections in kind order)
//!   +4  u32  element size in bytes
//!   +8  u64  byte offset of the section from the start of the file
//!  +16  u64  element count
//!  +24  u64  xxh3-64 of the section's count * size bytes
//! ```
//!
//! Each section starts at the first multiple of 16 at or after the end of
//! the one before (the first at 544), so every column can be used in place
//! from a page-aligned map whatever its element type; the gaps are zero bytes
//! and the file ends at the first multiple of 16 after the last section. The
//! layout is thus a function of the counts alone, and writing is
//! deterministic: the same `Ledger` always gives the same bytes.
//!
//! | kind | section | element | size |
//! |------|---------|---------|------|
//! | 1 | address offsets | `u64` (addresses + 1, the first 0) | 8 |
//! | 2 | address bytes | UTF-8, concatenated | 1 |
//! | 3 | transaction id offsets | `u64` (ids + 1, the first 0) | 8 |
//! | 4 | transaction id bytes | UTF-8, concatenated | 1 |
//! | 5 | accounts | `Account`: addr u32, asset u32 | 8 |
//! | 6 | movements | `Movement`: amount (u64 low, u64 high), block u32, tx u32, from u32, to u32, asset u32, kind u32 | 40 |
//! | 7 | by-source offsets | `u32` (accounts + 1) | 4 |
//! | 8 | by-source movements | `u32` movement index | 4 |
//! | 9 | by-destination offsets | `u32` (accounts + 1) | 4 |
//! | 10 | by-destination movements | `u32` movement index | 4 |
//! | 11 | block times | `BlockTime`: block u64, time u64 | 16 |
//! | 12 | UTXO transactions | `UtxoTx`: time u64, block u32, index u32, txid u32, asset u32, coinbase u32, inputs [u32; 2], outputs [u32; 2], zero u32 | 48 |
//! | 13 | UTXO inputs | `TxInput`: value (u64 low, u64 high), spent u32, owner u32, has_value u32, zero u32 | 32 |
//! | 14 | UTXO outputs | `TxOutput`: value (u64 low, u64 high), owner u32, zero u32 | 24 |
//! | 15 | assets and info | bytes, below | 1 |
//! | 16 | gas prices | `Amt` per transaction id (none at all when no export gave one; 0: unknown) | 16 |
//!
//! Ids are `u32` indexes; `AcctId::NONE`, `AddrId::NONE`, `TxId::NONE` and
//! `NO_OUTPUT` are `u32::MAX`. The element layouts are those of
//! `crate::model` (checked at compile time below: changing one is a new
//! format version).
//!
//! The assets-and-info section is the only one decoded on open (it is tiny).
//! `str` is a u64 byte length then UTF-8; `opt<x>` is a byte 0 (absent) or 1
//! followed by `x`:
//!
//! ```text
//! u64 asset count, per asset: str name, u8 model (0 account, 1 UTXO),
//!     opt<str> symbol, opt<u8> decimals
//! u64 record-count entries, per entry: str format, u64 records
//! u64 duplicates, u64 rejected, u64 unknown-fee txs, u64 unknown-value inputs
//! u64 file count, per file: str path, str format, u64 records
//! ```
//!
//! # Size
//!
//! With `r(x)` = `x` rounded up to a multiple of 16, a store takes exactly
//!
//! ```text
//! 544 + r(8 (A + 1)) + r(address text) + r(8 (T + 1)) + r(txid text)
//!     + r(8 C) + r(40 M) + 2 r(4 (C + 1)) + r(4 Ms) + r(4 Md) + r(16 B)
//!     + r(48 U) + r(32 I) + r(24 O) + r(assets and info) + 16 G
//! ```
//!
//! bytes, for A addresses, T transaction ids, C accounts, M account movements
//! (Ms with a sender, Md with a recipient), B blocks, U UTXO transactions, I
//! inputs and O outputs, and G = T when any transaction has a gas price (G = 0
//! otherwise, as for UTXO and native-format ledgers). So an account movement takes at most 48 bytes (40
//! for itself, 4 in each of the two indexes), a UTXO input 32 and an output
//! 24; an account 16, a block 16, an address or hash 8 plus its text; the
//! fixed overhead is the 544-byte header, 24 bytes of index offsets, the
//! assets-and-info section and at most 15 bytes of padding per section. Gas
//! prices (account-model exports) add 16 bytes per transaction hash.
//!
//! # Opening
//!
//! [`open`] does, in order: O(1) checks of the magic, version, table
//! checksum, flags and the layout (every section where the counts put it,
//! the file exactly as long as the table says, zero padding); then O(n) work
//! at memory speed, in parallel and side by side: the xxh3 checksum of
//! every section (a task per section), and, after making each column over
//! the map (`Column::mapped`, no copy) and decoding the assets-and-info
//! section, validation of every id and range (in parallel over runs of
//! elements, the first problem in order reported), so that later code can
//! index without checks (a checksum mismatch is reported before anything
//! the checks found):
//!
//! - accounts: address and asset in range;
//! - movements: `from`/`to` an account or `NONE`, asset in range, `tx` in
//!   range or `NONE`, kind 0..=3, a fee (1) has no recipient, a mint (3) no
//!   sender;
//! - by-source and by-destination indexes: one offset per account plus one
//!   (or none at all in a ledger without accounts), from 0, non-decreasing,
//!   ending at the number of entries; every entry a movement;
//! - UTXO transactions: txid and asset in range, input and output ranges
//!   within bounds, `start <= end`, each after the previous transaction's;
//!   every linked input spends an output of an earlier transaction;
//! - inputs: `spent` an output or `NO_OUTPUT`, owner an address or `NONE`;
//!   outputs: owner an address;
//! - string tables: offsets from 0, non-decreasing, ending at the byte count,
//!   every string valid UTF-8 (checked a run of strings at a time: each
//!   offset at a character's start and the run's text valid UTF-8; a table
//!   that fails is then checked string by string to name the first bad
//!   one);
//! - gas prices: none, or one per transaction id.
//!
//! Not checked (a mistake there changes results, it cannot crash): that the
//! address and transaction tables are sorted, that the accounts are sorted,
//! that the indexes list each account's movements, block time order.
//!
//! The map assumes the file is not changed while the ledger is in use;
//! [`write()`] never changes a store in place (it renames a new file over it).

use std::fs::File;
use std::io::{self, Read};
use std::mem::{align_of, offset_of, size_of};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytemuck::Pod;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::column::{Column, Map, StringTable};
use crate::ledger::{Csr, Ledger, LedgerInfo, SourceFile};
use crate::model::{
    Account, AcctId, Amt, AssetInfo, BlockTime, ChainModel, MoveKind, Movement, TxId, TxInput,
    TxOutput, UtxoTx, NO_OUTPUT,
};

/// The first bytes of every store.
pub const MAGIC: [u8; 8] = *b"FTLEDGER";
/// The format version this build writes and reads.
pub const VERSION: u32 = 3;
/// Number of sections.
const N_SECTIONS: usize = 16;
/// Bytes before the section table: magic, version, flags, section count.
const PREFIX_LEN: usize = 24;
/// Bytes per section record.
const RECORD_LEN: usize = 32;
/// Where the header checksum is, and how many bytes it covers.
const HEADER_SUM_AT: usize = PREFIX_LEN + N_SECTIONS * RECORD_LEN;
/// Bytes before the first section.
pub const HEADER_LEN: usize = HEADER_SUM_AT + 8;
/// Sections start at multiples of this.
const ALIGN: u64 = 16;

// Section indexes (kind id = index + 1).
const ADDR_OFFSETS: usize = 0;
const ADDR_BYTES: usize = 1;
const TXID_OFFSETS: usize = 2;
const TXID_BYTES: usize = 3;
const ACCOUNTS: usize = 4;
const MOVEMENTS: usize = 5;
const SRC_OFFSETS: usize = 6;
const SRC_MOVES: usize = 7;
const DST_OFFSETS: usize = 8;
const DST_MOVES: usize = 9;
const BLOCK_TIMES: usize = 10;
const UTXO_TXS: usize = 11;
const INPUTS: usize = 12;
const OUTPUTS: usize = 13;
const META: usize = 14;
const GAS_PRICES: usize = 15;

/// Name (for messages) and element size of each section, in file order.
const SECTIONS: [(&str, usize); N_SECTIONS] = [
    ("address offsets", size_of::<u64>()),
    ("address bytes", 1),
    ("transaction id offsets", size_of::<u64>()),
    ("transaction id bytes", 1),
    ("accounts", size_of::<Account>()),
    ("movements", size_of::<Movement>()),
    ("by-source offsets", size_of::<u32>()),
    ("by-source movements", size_of::<u32>()),
    ("by-destination offsets", size_of::<u32>()),
    ("by-destination movements", size_of::<u32>()),
    ("block times", size_of::<BlockTime>()),
    ("UTXO transactions", size_of::<UtxoTx>()),
    ("UTXO inputs", size_of::<TxInput>()),
    ("UTXO outputs", size_of::<TxOutput>()),
    ("assets and info", 1),
    ("gas prices", size_of::<Amt>()),
];

// The element layouts are the file format: if one of these fails, the model
// changed, and so must `VERSION` (and the table in the module doc).
const _: () = {
    assert!(HEADER_LEN == 544 && HEADER_LEN as u64 % ALIGN == 0);
    assert!(size_of::<Amt>() == 16);
    assert!(size_of::<Account>() == 8);
    assert!(offset_of!(Account, addr) == 0 && offset_of!(Account, asset) == 4);
    assert!(size_of::<Movement>() == 40);
    assert!(offset_of!(Movement, amount) == 0 && offset_of!(Movement, block) == 16);
    assert!(offset_of!(Movement, tx) == 20 && offset_of!(Movement, from) == 24);
    assert!(offset_of!(Movement, to) == 28 && offset_of!(Movement, asset) == 32);
    assert!(offset_of!(Movement, kind) == 36);
    assert!(size_of::<BlockTime>() == 16);
    assert!(offset_of!(BlockTime, block) == 0 && offset_of!(BlockTime, time) == 8);
    assert!(size_of::<UtxoTx>() == 48);
    assert!(offset_of!(UtxoTx, time) == 0 && offset_of!(UtxoTx, block) == 8);
    assert!(offset_of!(UtxoTx, index) == 12 && offset_of!(UtxoTx, txid) == 16);
    assert!(offset_of!(UtxoTx, asset) == 20 && offset_of!(UtxoTx, coinbase) == 24);
    assert!(offset_of!(UtxoTx, inputs) == 28 && offset_of!(UtxoTx, outputs) == 36);
    assert!(size_of::<TxInput>() == 32);
    assert!(offset_of!(TxInput, value) == 0 && offset_of!(TxInput, spent) == 16);
    assert!(offset_of!(TxInput, owner) == 20 && offset_of!(TxInput, has_value) == 24);
    assert!(size_of::<TxOutput>() == 24);
    assert!(offset_of!(TxOutput, value) == 0 && offset_of!(TxOutput, owner) == 16);
    assert!(align_of::<Movement>() <= ALIGN as usize && align_of::<UtxoTx>() <= ALIGN as usize);
    assert!(align_of::<TxInput>() <= ALIGN as usize && align_of::<BlockTime>() <= ALIGN as usize);
};

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

/// Stores hold the in-memory layout, which is little-endian.
fn little_endian_host(path: &Path) -> Result<(), StoreError> {
    if cfg!(target_endian = "big") {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "fundtrail stores are little-endian and this machine is big-endian; \
                 give the ledger exports instead of a store",
            ),
        });
    }
    Ok(())
}

/// `x` rounded up to a multiple of `ALIGN`, if that fits.
fn align_up(x: u64) -> Option<u64> {
    x.checked_add(ALIGN - 1).map(|v| v & !(ALIGN - 1))
}

/// One record of the section table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Record {
    kind: u32,
    size: u32,
    offset: u64,
    count: u64,
    hash: u64,
}

impl Record {
    fn read(b: &[u8]) -> Record {
        Record {
            kind: le_u32(b, 0),
            size: le_u32(b, 4),
            offset: le_u64(b, 8),
            count: le_u64(b, 16),
            hash: le_u64(b, 24),
        }
    }

    fn bytes(&self) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        r[0..4].copy_from_slice(&self.kind.to_le_bytes());
        r[4..8].copy_from_slice(&self.size.to_le_bytes());
        r[8..16].copy_from_slice(&self.offset.to_le_bytes());
        r[16..24].copy_from_slice(&self.count.to_le_bytes());
        r[24..32].copy_from_slice(&self.hash.to_le_bytes());
        r
    }
}

/// The `u32` at `at`; callers have checked the length.
fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// The `u64` at `at`; callers have checked the length.
fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

// ---------------------------------------------------------------------------
// Writing

/// Write `ledger` to `path`, atomically: the file is written under a
/// temporary name in the same directory, synced and then renamed over
/// `path`, so a crash or an error leaves either the old file or the complete
/// new one.
pub fn write(ledger: &Ledger, path: &Path) -> Result<(), StoreError> {
    little_endian_host(path)?;
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

    let meta = encode_meta(ledger);
    let sections = sections_of(ledger, &meta);
    let (table, len) = table_of(&sections);
    let head = header(&table);
    let pieces = pieces_of(&head, &table, &sections);
    let file = tmp.as_file_mut();
    let written = write_image(file, &pieces, len).and_then(|()| file.sync_all());
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

/// A column's bytes and element count.
fn raw<T: Pod>(c: &[T]) -> (&[u8], u64) {
    (bytemuck::cast_slice(c), c.len() as u64)
}

/// Every section's bytes and element count, in file order.
fn sections_of<'a>(l: &'a Ledger, meta: &'a [u8]) -> [(&'a [u8], u64); N_SECTIONS] {
    [
        raw(l.addresses.offsets().as_slice()),
        raw(l.addresses.bytes().as_slice()),
        raw(l.txids.offsets().as_slice()),
        raw(l.txids.bytes().as_slice()),
        raw(l.accounts.as_slice()),
        raw(l.movements.as_slice()),
        raw(l.by_source.offsets.as_slice()),
        raw(l.by_source.moves.as_slice()),
        raw(l.by_dest.offsets.as_slice()),
        raw(l.by_dest.moves.as_slice()),
        raw(l.block_times.as_slice()),
        raw(l.utxo_txs.as_slice()),
        raw(l.inputs.as_slice()),
        raw(l.outputs.as_slice()),
        raw(meta),
        raw(l.gas_prices.as_slice()),
    ]
}

/// The section table of `sections` laid out after a header of
/// `HEADER_LEN` bytes, each at an aligned offset, with its checksum
/// (sections hashed in parallel); and the file's length.
fn table_of(sections: &[(&[u8], u64); N_SECTIONS]) -> (Vec<Record>, u64) {
    let hashes: Vec<u64> = sections.par_iter().map(|(b, _)| xxh3_64(b)).collect();
    let mut pos = HEADER_LEN as u64;
    let mut table = Vec::with_capacity(N_SECTIONS);
    for (i, ((bytes, count), hash)) in sections.iter().zip(hashes).enumerate() {
        table.push(Record {
            kind: i as u32 + 1,
            size: SECTIONS[i].1 as u32,
            offset: pos,
            count: *count,
            hash,
        });
        pos = align_up(pos + bytes.len() as u64).expect("a file that fits in memory");
    }
    (table, pos)
}

/// The file's non-zero parts in file order, each with its offset: the
/// header, then every section where the table puts it. Everything between
/// them is zero padding.
fn pieces_of<'a>(
    head: &'a [u8],
    table: &[Record],
    sections: &[(&'a [u8], u64); N_SECTIONS],
) -> Vec<(u64, &'a [u8])> {
    let mut pieces = vec![(0, head)];
    pieces.extend(table.iter().zip(sections).map(|(r, (b, _))| (r.offset, *b)));
    pieces
}

/// Fill `out` with the bytes of the file from offset `at` on (zeros past
/// the end): the parts of `pieces` it overlaps, zeros between them.
fn fill(out: &mut [u8], at: u64, pieces: &[(u64, &[u8])]) {
    let end = at + out.len() as u64;
    // pieces never overlap, so their ends are in order too
    let first = pieces.partition_point(|(o, b)| o + b.len() as u64 <= at);
    let mut done = 0;
    for (o, b) in &pieces[first..] {
        if *o >= end {
            break;
        }
        let (lo, hi) = ((*o).max(at), (o + b.len() as u64).min(end));
        let dst = (lo - at) as usize;
        out[done..dst].fill(0);
        out[dst..(hi - at) as usize].copy_from_slice(&b[(lo - o) as usize..(hi - o) as usize]);
        done = (hi - at) as usize;
    }
    out[done..].fill(0);
}

/// The store file is written a window of this many bytes at a time, each
/// window filled in a buffer of its own (one per thread) and written with
/// one positioned write.
const WINDOW: usize = 16 << 20;

/// Direct writes (no page cache) need buffers, offsets and lengths aligned
/// to the device's logical block: 4096 covers every common one.
const BLOCK: usize = 4096;

/// Write a file of `len` bytes made of `pieces` (see [`pieces_of`]) to
/// `file`, which is empty.
///
/// On Linux the file is first written with `O_DIRECT`, straight from the
/// buffers to the disk: through the page cache, writing the 913 MB store
/// of 10 M movements took 2.0-2.9 s on the bench machine, directly
/// 0.6-0.9 s (the throughput bench's "store write" row). A file system that
/// refuses direct I/O (`EINVAL`) gets the same windows through the page
/// cache.
fn write_image(file: &File, pieces: &[(u64, &[u8])], len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match direct::write(file, pieces, len) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => file.set_len(0)?,
        other => return other,
    }
    write_windows(file, pieces, len, 1)
}

/// [`write_image`]'s windows, in parallel, each written rounded up to a
/// multiple of `round` bytes (the caller cuts the file back to `len`).
#[cfg(unix)]
fn write_windows(file: &File, pieces: &[(u64, &[u8])], len: u64, round: usize) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    (0..len.div_ceil(WINDOW as u64))
        .into_par_iter()
        .try_for_each_init(
            || vec![0u8; WINDOW + BLOCK],
            |buf, w| {
                let at = w * WINDOW as u64;
                let n = (len - at).min(WINDOW as u64) as usize;
                // a buffer address aligned to BLOCK, for direct writes
                let addr = buf.as_ptr() as usize;
                let from = addr.next_multiple_of(BLOCK) - addr;
                let out = &mut buf[from..from + n.next_multiple_of(round)];
                fill(out, at, pieces);
                file.write_all_at(out, at)
            },
        )
}

/// [`write_windows`] where positioned writes are not at hand: one window
/// after another, in order.
#[cfg(not(unix))]
fn write_windows(file: &File, pieces: &[(u64, &[u8])], len: u64, _round: usize) -> io::Result<()> {
    use std::io::Write;
    let mut out = file;
    let mut buf = vec![0u8; WINDOW];
    let mut at = 0u64;
    while at < len {
        let n = (len - at).min(WINDOW as u64) as usize;
        fill(&mut buf[..n], at, pieces);
        out.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
mod direct {
    use super::{write_windows, BLOCK};
    use std::fs::File;
    use std::io;
    use std::os::unix::io::AsRawFd;

    /// Turn `O_DIRECT` on or off for `file`.
    fn set(file: &File, on: bool) -> io::Result<()> {
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a descriptor `file` owns, with the flag commands
        // only; no memory is passed.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if on {
            flags | libc::O_DIRECT
        } else {
            flags & !libc::O_DIRECT
        };
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The windows written with `O_DIRECT`, the last one rounded up to a
    /// whole block and the file then cut back to `len`. `EINVAL` (from the
    /// flag or a write) means this file system or device will not take
    /// direct writes like these.
    pub(super) fn write(file: &File, pieces: &[(u64, &[u8])], len: u64) -> io::Result<()> {
        set(file, true)?;
        let written = write_windows(file, pieces, len, BLOCK);
        set(file, false)?;
        written?;
        file.set_len(len)
    }
}

/// The header and section table, with its checksum.
fn header(table: &[Record]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&0u32.to_le_bytes());
    h[16..24].copy_from_slice(&(table.len() as u64).to_le_bytes());
    for (i, r) in table.iter().enumerate() {
        let at = PREFIX_LEN + i * RECORD_LEN;
        h[at..at + RECORD_LEN].copy_from_slice(&r.bytes());
    }
    let sum = xxh3_64(&h[..HEADER_SUM_AT]);
    h[HEADER_SUM_AT..].copy_from_slice(&sum.to_le_bytes());
    h
}

/// Appends the assets-and-info encoding.
struct MetaWriter(Vec<u8>);

impl MetaWriter {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// The assets-and-info section (see the module doc).
fn encode_meta(l: &Ledger) -> Vec<u8> {
    let mut w = MetaWriter(Vec::new());
    w.u64(l.assets.len() as u64);
    for a in &l.assets {
        w.str(&a.name);
        w.u8(match a.model {
            ChainModel::Account => 0,
            ChainModel::Utxo => 1,
        });
        match &a.symbol {
            Some(s) => {
                w.u8(1);
                w.str(s);
            }
            None => w.u8(0),
        }
        match a.decimals {
            Some(d) => {
                w.u8(1);
                w.u8(d);
            }
            None => w.u8(0),
        }
    }
    let info = &l.info;
    w.u64(info.records.len() as u64);
    for (format, n) in &info.records {
        w.str(format);
        w.u64(*n);
    }
    w.u64(info.duplicates);
    w.u64(info.rejected);
    w.u64(info.unknown_fee_txs);
    w.u64(info.unknown_value_inputs);
    w.u64(info.files.len() as u64);
    for f in &info.files {
        w.str(&f.path);
        w.str(&f.format);
        w.u64(f.records);
    }
    w.0
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

/// Open the store at `path`: map it, check it completely (see the module
/// doc) and return a ledger whose columns are in the map.
pub fn open(path: &Path) -> Result<Ledger, StoreError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    // Look at the magic first, so a file of something else is not mapped.
    let mut head = Vec::with_capacity(MAGIC.len());
    (&mut file)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(io_error(path))?;
    if head[..] != MAGIC[..] {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    little_endian_host(path)?;
    // SAFETY: the map is read-only and private to this process; the file
    // must not be truncated or changed while the ledger lives, which
    // fundtrail never does (`write` renames a new file over the old one, so
    // an open store keeps its old contents).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_error(path))?;
    from_map(path, Arc::new(map))
}

/// Check the map and build the ledger over it (`path` only names it in
/// errors).
fn from_map(path: &Path, map: Map) -> Result<Ledger, StoreError> {
    let bytes: &[u8] = &map;
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
    let version = le_u32(bytes, 8);
    if version != VERSION {
        return Err(StoreError::Version {
            path: path.to_path_buf(),
            found: version,
            supported: VERSION,
        });
    }
    if bytes.len() < PREFIX_LEN {
        return Err(corrupt("truncated inside the header".into()));
    }
    let count = le_u64(bytes, 16);
    if count != N_SECTIONS as u64 {
        return Err(corrupt(format!(
            "the header gives {count} sections, format {VERSION} has {N_SECTIONS}"
        )));
    }
    if bytes.len() < HEADER_LEN {
        return Err(corrupt("truncated inside the section table".into()));
    }
    let (stored, found) = (
        le_u64(bytes, HEADER_SUM_AT),
        xxh3_64(&bytes[..HEADER_SUM_AT]),
    );
    if stored != found {
        return Err(corrupt(format!(
            "header checksum mismatch: stored {stored:016x}, computed {found:016x}"
        )));
    }
    let flags = le_u32(bytes, 12);
    if flags != 0 {
        return Err(corrupt(format!("unknown header flags {flags:#x}")));
    }
    let table: Vec<Record> = (0..N_SECTIONS)
        .map(|i| Record::read(&bytes[PREFIX_LEN + i * RECORD_LEN..]))
        .collect();
    let ranges = layout(&table, bytes.len() as u64).map_err(corrupt)?;
    for (i, r) in ranges.iter().enumerate() {
        let pad_end = ranges.get(i + 1).map_or(bytes.len(), |n| n.start);
        if bytes[r.end..pad_end].iter().any(|&b| b != 0) {
            return Err(corrupt(format!(
                "non-zero padding after section {}",
                SECTIONS[i].0
            )));
        }
    }

    // The checksums and the checks of every id and range, side by side
    // (the largest section's checksum alone would keep one thread busy
    // while the other idles). Both take any bytes without panicking; a
    // checksum mismatch is what a damaged file reports first.
    let (sums, checked) = rayon::join(
        || -> Vec<u64> {
            ranges
                .par_iter()
                .map(|r| xxh3_64(&bytes[r.clone()]))
                .collect()
        },
        || build(&map, &ranges).and_then(|l| validate(&l).map(|()| l)),
    );
    for (i, (r, sum)) in table.iter().zip(&sums).enumerate() {
        if r.hash != *sum {
            return Err(corrupt(format!(
                "checksum mismatch in section {}: stored {:016x}, computed {sum:016x}",
                SECTIONS[i].0, r.hash
            )));
        }
    }
    checked.map_err(corrupt)
}

/// Check the table against the layout the counts imply and the file length;
/// the byte range of every section.
fn layout(table: &[Record], file_len: u64) -> Result<Vec<Range<usize>>, String> {
    let mut ranges = Vec::with_capacity(N_SECTIONS);
    let mut end = HEADER_LEN as u64;
    for (i, r) in table.iter().enumerate() {
        let (name, size) = SECTIONS[i];
        if r.kind != i as u32 + 1 {
            return Err(format!(
                "section table entry {i} is of kind {}, expected {} ({name})",
                r.kind,
                i + 1
            ));
        }
        if r.size as usize != size {
            return Err(format!(
                "section {name}: element size {}, expected {size}",
                r.size
            ));
        }
        let start = align_up(end).ok_or_else(|| format!("section {name}: too large"))?;
        if r.offset != start {
            return Err(format!(
                "section {name} at offset {}, expected {start}",
                r.offset
            ));
        }
        end = r
            .count
            .checked_mul(size as u64)
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= file_len)
            .ok_or_else(|| {
                format!(
                    "truncated: section {name} of {} elements at offset {start} does not fit \
                     in the file's {file_len} bytes",
                    r.count
                )
            })?;
        // Both fit in the file, which fits in memory.
        ranges.push(start as usize..end as usize);
    }
    let total = align_up(end).ok_or("the last section is too large")?;
    if file_len < total {
        return Err(format!(
            "truncated: the section table describes {total} bytes, the file has {file_len}"
        ));
    }
    if file_len > total {
        return Err(format!(
            "{} unexpected bytes after the last section",
            file_len - total
        ));
    }
    Ok(ranges)
}

/// A column over section `r` of the map.
fn column<T: Pod>(map: &Map, r: &Range<usize>, section: usize) -> Result<Column<T>, String> {
    let len = (r.end - r.start) / size_of::<T>();
    Column::mapped(map, r.start, len)
        .ok_or_else(|| format!("section {} is misaligned", SECTIONS[section].0))
}

/// The ledger over the map: columns in place, the assets and info decoded.
fn build(map: &Map, s: &[Range<usize>]) -> Result<Ledger, String> {
    let (assets, info) = decode_meta(&map[s[META].clone()])?;
    // SAFETY: the ledger made here leaves `from_map` only once `validate`
    // has accepted it, and its string checks are the only readers of the
    // tables until then; they check every string's bytes as UTF-8 (and its
    // offsets) without `StringTable::get`.
    let strings = |offsets, bytes| -> Result<StringTable, String> {
        Ok(unsafe {
            StringTable::from_parts_unchecked(
                column(map, &s[offsets], offsets)?,
                column(map, &s[bytes], bytes)?,
            )
        })
    };
    Ok(Ledger {
        addresses: strings(ADDR_OFFSETS, ADDR_BYTES)?,
        assets,
        txids: strings(TXID_OFFSETS, TXID_BYTES)?,
        accounts: column(map, &s[ACCOUNTS], ACCOUNTS)?,
        movements: column(map, &s[MOVEMENTS], MOVEMENTS)?,
        by_source: Csr {
            offsets: column(map, &s[SRC_OFFSETS], SRC_OFFSETS)?,
            moves: column(map, &s[SRC_MOVES], SRC_MOVES)?,
        },
        by_dest: Csr {
            offsets: column(map, &s[DST_OFFSETS], DST_OFFSETS)?,
            moves: column(map, &s[DST_MOVES], DST_MOVES)?,
        },
        block_times: column(map, &s[BLOCK_TIMES], BLOCK_TIMES)?,
        utxo_txs: column(map, &s[UTXO_TXS], UTXO_TXS)?,
        inputs: column(map, &s[INPUTS], INPUTS)?,
        outputs: column(map, &s[OUTPUTS], OUTPUTS)?,
        gas_prices: column(map, &s[GAS_PRICES], GAS_PRICES)?,
        info,
    })
}

/// Reads the assets-and-info section, checking each length against what is
/// left.
struct MetaReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> MetaReader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(format!(
                "assets and info: {what} truncated (needs {n} bytes at offset {}, {left} left)",
                self.pos
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(le_u64(self.take(8, what)?, 0))
    }

    /// A length or count: anything beyond what is left fails in `take`.
    fn len(&mut self, what: &str) -> Result<usize, String> {
        let n = self.u64(what)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn str(&mut self, what: &str) -> Result<String, String> {
        let n = self.len(what)?;
        let b = self.take(n, what)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| format!("assets and info: {what} is not valid UTF-8"))
    }

    fn flag(&mut self, what: &str) -> Result<bool, String> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!(
                "assets and info: {what} flag byte {b} is neither 0 nor 1"
            )),
        }
    }
}

/// Decode the assets-and-info section (see the module doc).
fn decode_meta(buf: &[u8]) -> Result<(Vec<AssetInfo>, LedgerInfo), String> {
    let mut r = MetaReader { buf, pos: 0 };
    let n = r.len("asset count")?;
    // Every entry takes at least one byte: counts are bounded by the bytes.
    let mut assets = Vec::with_capacity(n.min(buf.len()));
    for i in 0..n {
        let what = format!("asset {i}");
        let name = r.str(&what)?;
        let model = match r.u8(&what)? {
            0 => ChainModel::Account,
            1 => ChainModel::Utxo,
            b => return Err(format!("asset {i}: unknown chain model byte {b}")),
        };
        let symbol = if r.flag(&format!("asset {i} symbol"))? {
            Some(r.str(&what)?)
        } else {
            None
        };
        let decimals = if r.flag(&format!("asset {i} decimals"))? {
            Some(r.u8(&what)?)
        } else {
            None
        };
        assets.push(AssetInfo {
            name,
            model,
            symbol,
            decimals,
        });
    }
    if assets.len() > u32::MAX as usize {
        return Err(format!("{} assets: more than ids can name", assets.len()));
    }
    let n = r.len("record count entries")?;
    let mut records = Vec::with_capacity(n.min(buf.len()));
    for i in 0..n {
        let what = format!("record count {i}");
        records.push((r.str(&what)?, r.u64(&what)?));
    }
    let duplicates = r.u64("counters")?;
    let rejected = r.u64("counters")?;
    let unknown_fee_txs = r.u64("counters")?;
    let unknown_value_inputs = r.u64("counters")?;
    let n = r.len("file count")?;
    let mut files = Vec::with_capacity(n.min(buf.len()));
    for i in 0..n {
        let what = format!("source file {i}");
        files.push(SourceFile {
            path: r.str(&what)?,
            format: r.str(&what)?,
            records: r.u64(&what)?,
        });
    }
    if r.pos != buf.len() {
        return Err(format!(
            "assets and info: {} unexpected bytes after the end",
            buf.len() - r.pos
        ));
    }
    let info = LedgerInfo {
        records,
        duplicates,
        rejected,
        unknown_fee_txs,
        unknown_value_inputs,
        files,
    };
    Ok((assets, info))
}

// ---------------------------------------------------------------------------
// Validation

type Check<'a> = &'a (dyn Fn() -> Result<(), String> + Sync);

/// Check every id and range of `l` (see the module doc), in parallel; the
/// first problem in a fixed order, so messages do not depend on timing.
fn validate(l: &Ledger) -> Result<(), String> {
    let checks: [Check; 10] = [
        &|| check_strings(&l.addresses, "addresses"),
        &|| check_strings(&l.txids, "transaction ids"),
        &|| check_accounts(l),
        &|| check_movements(l),
        &|| check_csr(&l.by_source, "by-source index", l),
        &|| check_csr(&l.by_dest, "by-destination index", l),
        &|| check_inputs(l),
        &|| check_utxo_txs(l),
        &|| check_outputs(l),
        &|| {
            let (g, t) = (l.gas_prices.len(), l.txids.len());
            if g == 0 || g == t {
                Ok(())
            } else {
                Err(format!("gas prices: {g} of them for {t} transaction ids"))
            }
        },
    ];
    let results: Vec<Result<(), String>> = checks.par_iter().map(|c| c()).collect();
    results.into_iter().collect()
}

fn check_strings(t: &StringTable, what: &str) -> Result<(), String> {
    check_string_parts(t.offsets(), t.bytes(), what)
}

/// [`check_strings`] of a table's offsets and bytes.
fn check_string_parts(offsets: &[u64], bytes: &[u8], what: &str) -> Result<(), String> {
    let (Some(&first), Some(&last)) = (offsets.first(), offsets.last()) else {
        return Err(format!("{what}: no string offsets"));
    };
    if first != 0 {
        return Err(format!("{what}: the first string offset is {first}, not 0"));
    }
    if last != bytes.len() as u64 {
        return Err(format!(
            "{what}: the last string offset is {last}, the table has {} bytes",
            bytes.len()
        ));
    }
    if strings_look_right(offsets, bytes, STRING_RUN) {
        return Ok(());
    }
    // something is wrong: find the first string that is, to name it
    let bad = offsets.par_windows(2).enumerate().find_map_first(|(i, w)| {
        if w[0] > w[1] {
            Some(format!("{what} {i}: string offsets out of order"))
        } else {
            // In bounds: non-decreasing up to here and at most `last`
            // everywhere, or an earlier window reports the disorder.
            let s = bytes.get(w[0] as usize..w[1] as usize)?;
            std::str::from_utf8(s)
                .is_err()
                .then(|| format!("{what} {i}: not valid UTF-8"))
        }
    });
    bad.map_or(Ok(()), Err)
}

/// Strings per task of [`strings_look_right`].
const STRING_RUN: usize = 1 << 15;

/// The quick check of a string table whose first and last offsets are
/// right (0 and the text's length): offsets in order, and every string
/// valid UTF-8, which is the same as the whole text valid UTF-8 with every
/// offset at a character's start. Runs of `per_run` strings are checked in
/// parallel, each run's text at once instead of a string at a time; `false`
/// if anything is wrong, and [`check_strings`] then finds what.
fn strings_look_right(offsets: &[u64], bytes: &[u8], per_run: usize) -> bool {
    let at_a_char = |o: u64| {
        bytes
            .get(o as usize)
            .map_or(o as usize == bytes.len(), |b| b & 0xc0 != 0x80)
    };
    offsets[..offsets.len() - 1]
        .par_chunks(per_run)
        .enumerate()
        .all(|(c, run)| {
            let end = offsets[c * per_run + run.len()];
            run.windows(2).all(|w| w[0] <= w[1])
                && run.last().is_some_and(|l| *l <= end)
                && end as usize <= bytes.len()
                && run.iter().all(|o| at_a_char(*o))
                && std::str::from_utf8(&bytes[run[0] as usize..end as usize]).is_ok()
        })
}

/// `Err(first message)` if any element of `items` has one (the first in
/// order).
fn first_problem<T: Sync>(
    items: &[T],
    check: impl Fn(usize, &T) -> Option<String> + Sync,
) -> Result<(), String> {
    crate::runs::find_first(items, check).map_or(Ok(()), Err)
}

fn check_accounts(l: &Ledger) -> Result<(), String> {
    let (n_addr, n_asset) = (l.addresses.len(), l.assets.len());
    first_problem(&l.accounts, |i, a| {
        if a.addr.index() >= n_addr {
            Some(format!(
                "account {i}: address {} out of range ({n_addr} addresses)",
                a.addr.0
            ))
        } else if a.asset.index() >= n_asset {
            Some(format!(
                "account {i}: asset {} out of range ({n_asset} assets)",
                a.asset.0
            ))
        } else {
            None
        }
    })
}

fn check_movements(l: &Ledger) -> Result<(), String> {
    let (n_acct, n_tx, n_asset) = (l.accounts.len(), l.txids.len(), l.assets.len());
    let acct = |a: AcctId| a.is_none() || a.index() < n_acct;
    first_problem(&l.movements, |i, m| {
        if !acct(m.from) {
            Some(format!(
                "movement {i}: from account {} out of range ({n_acct} accounts)",
                m.from.0
            ))
        } else if !acct(m.to) {
            Some(format!(
                "movement {i}: to account {} out of range ({n_acct} accounts)",
                m.to.0
            ))
        } else if m.asset.index() >= n_asset {
            Some(format!(
                "movement {i}: asset {} out of range ({n_asset} assets)",
                m.asset.0
            ))
        } else if m.tx != TxId::NONE && m.tx.index() >= n_tx {
            Some(format!(
                "movement {i}: transaction id {} out of range ({n_tx} transaction ids)",
                m.tx.0
            ))
        } else if m.kind > MoveKind::Mint as u32 {
            Some(format!("movement {i}: unknown kind {}", m.kind))
        } else if m.kind == MoveKind::Fee as u32 && !m.to.is_none() {
            Some(format!("movement {i}: a fee with a recipient"))
        } else if m.kind == MoveKind::Mint as u32 && !m.from.is_none() {
            Some(format!("movement {i}: a mint with a sender"))
        } else {
            None
        }
    })
}

fn check_csr(c: &Csr, what: &str, l: &Ledger) -> Result<(), String> {
    let (n_acct, n_moves) = (l.accounts.len(), l.movements.len());
    let offsets = c.offsets.as_slice();
    // `Csr::default()` (of `Ledger::default()`) has no offsets at all.
    if offsets.is_empty() && n_acct == 0 && c.moves.is_empty() {
        return Ok(());
    }
    if offsets.len() != n_acct + 1 {
        return Err(format!(
            "{what}: {} offsets for {n_acct} accounts",
            offsets.len()
        ));
    }
    // Not empty: n_acct + 1 offsets.
    let (first, last) = (offsets[0], offsets[n_acct]);
    if first != 0 {
        return Err(format!("{what}: the first offset is {first}, not 0"));
    }
    if last as usize != c.moves.len() {
        return Err(format!(
            "{what}: the last offset is {last}, the index has {} entries",
            c.moves.len()
        ));
    }
    if let Some(a) = offsets.par_windows(2).position_first(|w| w[0] > w[1]) {
        return Err(format!("{what}: offsets out of order at account {a}"));
    }
    first_problem(&c.moves, |i, &m| {
        (m as usize >= n_moves).then(|| {
            format!("{what}: entry {i} names movement {m}, out of range ({n_moves} movements)")
        })
    })
}

fn check_utxo_txs(l: &Ledger) -> Result<(), String> {
    let (n_tx, n_asset) = (l.txids.len(), l.assets.len());
    let (n_in, n_out) = (l.inputs.len(), l.outputs.len());
    let txs = l.utxo_txs.as_slice();
    first_problem(txs, |i, t| {
        if t.txid.index() >= n_tx {
            return Some(format!(
                "UTXO tx {i}: transaction id {} out of range ({n_tx} transaction ids)",
                t.txid.0
            ));
        }
        if t.asset.index() >= n_asset {
            return Some(format!(
                "UTXO tx {i}: asset {} out of range ({n_asset} assets)",
                t.asset.0
            ));
        }
        let prev = i.checked_sub(1).map(|p| &txs[p]);
        for (what, [start, end], len, prev_end) in [
            ("inputs", t.inputs, n_in, prev.map(|p| p.inputs[1])),
            ("outputs", t.outputs, n_out, prev.map(|p| p.outputs[1])),
        ] {
            if start > end || end as usize > len {
                return Some(format!(
                    "UTXO tx {i}: {what} range {start}..{end} out of range ({len} {what})"
                ));
            }
            if prev_end.is_some_and(|p| start < p) {
                return Some(format!(
                    "UTXO tx {i}: {what} range {start}..{end} out of order (the previous \
                     transaction's ends at {})",
                    prev_end.unwrap_or(0)
                ));
            }
        }
        // In range: checked above.
        let ins = &l.inputs[t.inputs[0] as usize..t.inputs[1] as usize];
        ins.iter().enumerate().find_map(|(k, input)| {
            (input.spent != NO_OUTPUT && input.spent >= t.outputs[0]).then(|| {
                format!(
                    "UTXO tx {i}: input {} spends output {}, not one of an earlier transaction",
                    t.inputs[0] as usize + k,
                    input.spent
                )
            })
        })
    })
}

fn check_inputs(l: &Ledger) -> Result<(), String> {
    let (n_addr, n_out) = (l.addresses.len(), l.outputs.len());
    first_problem(&l.inputs, |i, input| {
        if input.spent != NO_OUTPUT && input.spent as usize >= n_out {
            Some(format!(
                "input {i}: spends output {}, out of range ({n_out} outputs)",
                input.spent
            ))
        } else if !input.owner.is_none() && input.owner.index() >= n_addr {
            Some(format!(
                "input {i}: owner {} out of range ({n_addr} addresses)",
                input.owner.0
            ))
        } else {
            None
        }
    })
}

fn check_outputs(l: &Ledger) -> Result<(), String> {
    let n_addr = l.addresses.len();
    first_problem(&l.outputs, |i, o| {
        (o.owner.index() >= n_addr).then(|| {
            format!(
                "output {i}: owner {} out of range ({n_addr} addresses)",
                o.owner.0
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{BlockRef, Raw, RawAsset, RawInput, RawMove, RawOutput, RawUtxoTx};
    use crate::model::{AddrId, Amount, AssetId};
    use crate::trace::{run, Policy, TracePlan};
    use proptest::prelude::*;

    const A: &str = "0x1111111111111111111111111111111111111111";
    const B: &str = "0x2222222222222222222222222222222222222222";
    const UNICODE: &str = "ünïcödé-label";
    const USDT: &str = "0xdac17f958d2ee523a2206206994597c13d831ec7";
    const BTC1: &str = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT";
    const MULTI: &str = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy";
    const BECH: &str = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";

    #[allow(clippy::too_many_arguments)]
    fn mv(
        tx: Option<&str>,
        block: u64,
        seq: u32,
        from: Option<&str>,
        to: Option<&str>,
        asset: &str,
        kind: MoveKind,
        amount: Amount,
    ) -> Raw {
        Raw::Move(RawMove {
            tx_hash: tx.map(String::from),
            block,
            time: 1_600_000_000 + block,
            tx_index: 0,
            seq,
            from: from.map(String::from),
            to: to.map(String::from),
            asset: asset.into(),
            amount,
            kind,
        })
    }

    /// A UTXO transaction; inputs are (previous txid, vout, owner, value).
    #[allow(clippy::type_complexity)]
    fn utx(
        txid: &str,
        block: u64,
        inputs: &[(&str, u32, Option<&str>, Option<Amount>)],
        outputs: &[(&str, Amount)],
    ) -> Raw {
        Raw::Utxo(RawUtxoTx {
            txid: txid.into(),
            block: BlockRef::Height(block),
            index: Some(0),
            time: 1_231_006_505 + block,
            coinbase: inputs.is_empty(),
            asset: "BTC".into(),
            inputs: inputs
                .iter()
                .map(|(t, n, owner, value)| RawInput {
                    prev_txid: t.to_string(),
                    vout: *n,
                    owner: owner.map(String::from),
                    value: *value,
                })
                .collect(),
            outputs: outputs
                .iter()
                .map(|(o, v)| RawOutput {
                    owner: o.to_string(),
                    value: *v,
                })
                .collect(),
        })
    }

    fn ledger(raws: Vec<Raw>) -> Ledger {
        crate::ingest::build::ledger_of(raws)
    }

    /// Both models: a native transfer above 2^64 with its fee, a token
    /// transfer of u128::MAX with symbol and decimals, a mint, a non-ASCII
    /// address; a coinbase, a linked input, an input of unknown value, an
    /// enriched one, a multi-address owner.
    fn sample() -> Ledger {
        let mut l = ledger(vec![
            mv(
                Some("aa01"),
                10,
                0,
                Some(A),
                Some(B),
                "ETH",
                MoveKind::Native,
                (1u128 << 64) + 7,
            ),
            mv(
                Some("aa01"),
                10,
                1,
                Some(A),
                None,
                "ETH",
                MoveKind::Fee,
                21_000,
            ),
            mv(
                Some("aa02"),
                11,
                0,
                Some(B),
                Some(A),
                USDT,
                MoveKind::Token,
                u128::MAX,
            ),
            Raw::Asset(RawAsset {
                asset: USDT.into(),
                symbol: Some("USDT".into()),
                decimals: Some(6),
            }),
            mv(
                None,
                12,
                0,
                None,
                Some(B),
                "ETH",
                MoveKind::Mint,
                2 * 10u128.pow(18),
            ),
            mv(
                Some("aa03"),
                13,
                0,
                Some(B),
                Some(UNICODE),
                "ETH",
                MoveKind::Native,
                5,
            ),
            utx(
                "cc01",
                100,
                &[],
                &[(BTC1, 50_0000_0000), ("nonstandard:cc01:1", 0)],
            ),
            utx(
                "cc02",
                101,
                &[
                    ("cc01", 0, None, None),
                    ("gone", 3, None, None),
                    ("gone2", 1, Some(BECH), Some(u64::MAX as u128 + 1)),
                ],
                &[(MULTI, 30_0000_0000), (BECH, 19_9999_0000)],
            ),
        ]);
        l.info.records = vec![("native".into(), 8)];
        l.info.files = vec![SourceFile {
            path: "exports/moves.jsonl.gz".into(),
            format: "native".into(),
            records: 8,
        }];
        l.info.duplicates = 3;
        // the account transactions' gas prices (the UTXO ones have none)
        let mut g = vec![Amt::new(0); l.txids.len()];
        g[0] = Amt::new(31_415_926_535);
        g[1] = Amt::new(u128::MAX);
        l.gas_prices = g.into();
        l
    }

    fn encode(l: &Ledger) -> Vec<u8> {
        let meta = encode_meta(l);
        let sections = sections_of(l, &meta);
        let (table, len) = super::table_of(&sections);
        let head = header(&table);
        let mut b = vec![1u8; len as usize];
        fill(&mut b, 0, &pieces_of(&head, &table, &sections));
        b
    }

    /// Open bytes from memory, as `open` does from a file after its magic.
    fn decode(bytes: &[u8]) -> Result<Ledger, StoreError> {
        let mut m = memmap2::MmapMut::map_anon(bytes.len()).unwrap();
        m.copy_from_slice(bytes);
        from_map(Path::new("case.ftl"), Arc::new(m.make_read_only().unwrap()))
    }

    /// The table, read without checks.
    fn table_of(b: &[u8]) -> Vec<Record> {
        (0..N_SECTIONS)
            .map(|i| Record::read(&b[PREFIX_LEN + i * RECORD_LEN..]))
            .collect()
    }

    /// Recompute every section checksum the table lets us find, then the
    /// header checksum, so that what follows them is exercised.
    fn reseal(mut b: Vec<u8>) -> Vec<u8> {
        if b.len() < HEADER_LEN {
            return b;
        }
        for (i, r) in table_of(&b).iter().enumerate() {
            let range = r
                .count
                .checked_mul(r.size as u64)
                .and_then(|n| r.offset.checked_add(n))
                .filter(|&e| e <= b.len() as u64)
                .map(|e| r.offset as usize..e as usize);
            if let Some(range) = range {
                let sum = xxh3_64(&b[range]);
                let at = PREFIX_LEN + i * RECORD_LEN + 24;
                b[at..at + 8].copy_from_slice(&sum.to_le_bytes());
            }
        }
        let sum = xxh3_64(&b[..HEADER_SUM_AT]);
        b[HEADER_SUM_AT..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
        b
    }

    fn corrupt_what(r: Result<Ledger, StoreError>) -> String {
        match r {
            Err(StoreError::Corrupt { what, .. }) => what,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    /// Byte range of section `i` in a good file.
    fn section(b: &[u8], i: usize) -> Range<usize> {
        let r = table_of(b)[i];
        r.offset as usize..(r.offset + r.count * r.size as u64) as usize
    }

    /// Touch everything code indexes without checks: must not panic on an
    /// opened ledger.
    fn exercise(l: &Ledger) {
        for (i, s) in l.addresses.iter().enumerate() {
            let o = l.addresses.offsets();
            assert_eq!(s.len() as u64, o[i + 1] - o[i]);
        }
        for (i, s) in l.txids.iter().enumerate() {
            let o = l.txids.offsets();
            assert_eq!(s.len() as u64, o[i + 1] - o[i]);
        }
        for m in l.movements.iter() {
            let _ = (l.account_addr(m.from), l.account_addr(m.to));
            let _ = (l.asset(m.asset), l.txid(m.tx), l.time_of(m.block), m.kind());
            for a in [m.from, m.to] {
                if !a.is_none() {
                    let acc = l.accounts[a.index()];
                    let _ = (l.address(acc.addr), l.asset(acc.asset));
                }
            }
        }
        for (a, acc) in l.accounts.iter().enumerate() {
            let _ = (l.address(acc.addr), l.asset(acc.asset));
            let id = AcctId(a as u32);
            for &k in l.by_source.of(id).iter().chain(l.by_dest.of(id)) {
                let _ = l.movements[k as usize];
            }
        }
        for t in l.utxo_txs.iter() {
            let _ = (l.txid(t.txid), l.asset(t.asset), l.model_of(t.asset));
            for i in l.tx_inputs(t) {
                if i.spent != NO_OUTPUT {
                    let _ = l.address(l.outputs[i.spent as usize].owner);
                }
                let _ = (l.address(i.owner), i.value());
            }
            for o in l.tx_outputs(t) {
                let _ = (l.address(o.owner), o.value());
            }
        }
        for i in l.inputs.iter() {
            if i.spent != NO_OUTPUT {
                let _ = l.outputs[i.spent as usize];
            }
        }
    }

    /// Replace a column by an owned copy changed by `f`.
    fn edit<T: Pod>(c: &mut Column<T>, f: impl FnOnce(&mut Vec<T>)) {
        let mut v = c.to_vec();
        f(&mut v);
        *c = v.into();
    }

    #[test]
    fn the_sample_covers_what_it_claims() {
        let l = sample();
        let kinds: Vec<u32> = l.movements.iter().map(|m| m.kind).collect();
        for k in [
            MoveKind::Native,
            MoveKind::Fee,
            MoveKind::Token,
            MoveKind::Mint,
        ] {
            assert!(kinds.contains(&(k as u32)), "{k:?}");
        }
        let amounts: Vec<Amount> = l.movements.iter().map(|m| m.amount()).collect();
        assert!(amounts.contains(&u128::MAX));
        assert!(amounts.contains(&((1u128 << 64) + 7)));
        let usdt = l.asset(l.asset_id(USDT).unwrap());
        assert_eq!(
            (usdt.symbol.as_deref(), usdt.decimals),
            (Some("USDT"), Some(6))
        );
        assert_eq!(l.model_of(l.asset_id("BTC").unwrap()), ChainModel::Utxo);
        assert!(l.addr_id(UNICODE).is_some() && l.addr_id(MULTI).is_some());
        // The coinbase, then the spend with a linked, an unknown and an
        // enriched input (the break cases below rely on this shape).
        assert_eq!(l.utxo_txs.len(), 2);
        assert!(l.utxo_txs[0].is_coinbase());
        assert_eq!(
            (l.utxo_txs[0].inputs, l.utxo_txs[0].outputs),
            ([0, 0], [0, 2])
        );
        assert_eq!(
            (l.utxo_txs[1].inputs, l.utxo_txs[1].outputs),
            ([0, 3], [2, 4])
        );
        assert_eq!(l.inputs[0].spent, 0);
        assert_eq!((l.inputs[1].spent, l.inputs[1].value()), (NO_OUTPUT, None));
        assert_eq!(l.inputs[2].value(), Some(u64::MAX as u128 + 1));
        assert_eq!(l.info.unknown_value_inputs, 1);
        assert!(l.movements.iter().any(|m| m.tx == TxId::NONE));
    }

    #[test]
    fn round_trip_gives_an_equal_ledger_over_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        let l = sample();
        write(&l, &path).unwrap();
        let back = open(&path).unwrap();
        assert_eq!(back, l);
        // No copy: the columns are in the map.
        assert!(matches!(back.movements, Column::Mapped { .. }));
        assert!(matches!(back.addresses.bytes(), Column::Mapped { .. }));
        assert!(matches!(back.inputs, Column::Mapped { .. }));
        exercise(&back);
        // Every section on a 16-byte boundary, in order, as the doc says.
        let b = std::fs::read(&path).unwrap();
        assert_eq!(b.len() % 16, 0);
        let mut end = HEADER_LEN as u64;
        for (i, r) in table_of(&b).iter().enumerate() {
            assert_eq!((r.kind, r.size as usize), (i as u32 + 1, SECTIONS[i].1));
            assert_eq!(r.offset, align_up(end).unwrap());
            end = r.offset + r.count * r.size as u64;
        }
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
        let (p1, p2, p3) = (
            dir.path().join("a.ftl"),
            dir.path().join("b.ftl"),
            dir.path().join("c.ftl"),
        );
        write(&sample(), &p1).unwrap();
        write(&sample(), &p2).unwrap();
        let (b1, b2) = (std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        assert_eq!(b1, b2);
        // The file writer and the in-memory encoder agree, and a mapped
        // ledger writes back the same bytes.
        assert_eq!(b1, encode(&sample()));
        write(&open(&p1).unwrap(), &p3).unwrap();
        assert_eq!(std::fs::read(&p3).unwrap(), b1);
        assert_eq!(&b1[0..8], b"FTLEDGER");
        assert_eq!(le_u32(&b1, 8), 3);
        assert_eq!(le_u32(&b1, 12), 0);
        assert_eq!(le_u64(&b1, 16), 16);
        assert_eq!(le_u64(&b1, 536), xxh3_64(&b1[..536]));
        for (i, r) in table_of(&b1).iter().enumerate() {
            assert_eq!(r.hash, xxh3_64(&b1[section(&b1, i)]));
        }
    }

    /// `n` account movements among 97 senders and 89 recipients, in 100
    /// blocks, each with its own 64-digit hash.
    fn many(n: u64) -> Ledger {
        ledger(
            (0..n)
                .map(|i| {
                    Raw::Move(RawMove {
                        tx_hash: Some(format!("{i:064x}")),
                        block: 1 + i / 100,
                        time: 1_600_000_000 + i / 100,
                        tx_index: (i % 100) as u32,
                        seq: 0,
                        from: Some(format!("0x{:040x}", i % 97)),
                        to: Some(format!("0x{:040x}", 1000 + i % 89)),
                        asset: "ETH".into(),
                        amount: i as u128 + 1,
                        kind: MoveKind::Native,
                    })
                })
                .collect(),
        )
    }

    #[test]
    fn a_mapped_ledger_traces_like_the_owned_one() {
        let dir = tempfile::tempdir().unwrap();
        for (l, seeds) in [
            (sample(), vec![A, BTC1, BECH]),
            (
                many(2_000),
                vec!["0x0000000000000000000000000000000000000003"],
            ),
        ] {
            let path = dir.path().join("case.ftl");
            write(&l, &path).unwrap();
            let mapped = open(&path).unwrap();
            let plan = TracePlan {
                policy: Some(Policy::Haircut),
                seeds: seeds.iter().map(|s| l.addr_id(s).unwrap()).collect(),
                ..Default::default()
            };
            let (owned, from_map) = (run(&l, &plan), run(&mapped, &plan));
            assert!(!owned.endpoints.is_empty());
            assert_eq!(owned, from_map);
        }
    }

    /// The documented size formula, exactly, and its per-movement bound.
    #[test]
    fn size_per_movement_is_as_documented() {
        let l = many(10_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        write(&l, &path).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();

        let r = |x: usize| x.div_ceil(16) * 16;
        let (a, t, c, m) = (
            l.addresses.len(),
            l.txids.len(),
            l.accounts.len(),
            l.movements.len(),
        );
        let (b, u, i, o) = (
            l.block_times.len(),
            l.utxo_txs.len(),
            l.inputs.len(),
            l.outputs.len(),
        );
        let ms = l.movements.iter().filter(|m| !m.from.is_none()).count();
        let md = l.movements.iter().filter(|m| !m.to.is_none()).count();
        let (a_text, t_text) = (l.addresses.bytes().len(), l.txids.bytes().len());
        let meta = encode_meta(&l).len();
        let exact = 544
            + r(8 * (a + 1))
            + r(a_text)
            + r(8 * (t + 1))
            + r(t_text)
            + r(8 * c)
            + r(40 * m)
            + 2 * r(4 * (c + 1))
            + r(4 * ms)
            + r(4 * md)
            + r(16 * b)
            + r(48 * u)
            + r(32 * i)
            + r(24 * o)
            + r(meta)
            + 16 * l.gas_prices.len();
        assert_eq!(size as usize, exact);
        assert_eq!((m, t, a, b), (10_000, 10_000, 186, 100));

        // At most 48 bytes per movement once addresses and hashes (8 bytes
        // of offset plus the text each), accounts (16 each), blocks (16
        // each) and the fixed overhead are set aside.
        let strings = 8 * a + a_text + 8 * t + t_text;
        let fixed = 544 + 24 + 15 * 16 + meta;
        let rest = size as usize - strings - 16 * c - 16 * b - fixed;
        assert!(rest <= 48 * m, "{rest} > 48 * {m}");
        eprintln!(
            "{m} movements: {size} bytes; {:.2} bytes per movement beyond \
             {strings} bytes of addresses and hashes, {} of accounts and blocks and \
             {fixed} fixed",
            rest as f64 / m as f64,
            16 * (c + b)
        );
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
        for short in [&b""[..], b"FTLED"] {
            std::fs::write(&path, short).unwrap();
            assert!(!is_store(&path));
            assert!(matches!(open(&path), Err(StoreError::NotAStore { .. })));
        }
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
        b[8..12].copy_from_slice(&4u32.to_le_bytes());
        let err = decode(&b).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Version {
                    found: 4,
                    supported: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("a newer fundtrail"), "{err}");
        assert!(
            err.to_string().contains("re-run `fundtrail ingest`"),
            "{err}"
        );
        b[8..12].copy_from_slice(&1u32.to_le_bytes());
        assert!(decode(&b).unwrap_err().to_string().contains("an older"));
        // The version is read before the rest of the header is required.
        assert!(matches!(
            decode(&b[..12]),
            Err(StoreError::Version { found: 1, .. })
        ));
        // Through the file path too.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.ftl");
        std::fs::write(&path, &b).unwrap();
        assert!(matches!(
            open(&path),
            Err(StoreError::Version { found: 1, .. })
        ));
    }

    #[test]
    fn a_flipped_byte_in_any_section_is_a_checksum_mismatch() {
        let good = encode(&sample());
        let mut seen = 0;
        for (i, (name, _)) in SECTIONS.iter().enumerate() {
            let r = section(&good, i);
            if r.is_empty() {
                continue;
            }
            seen += 1;
            for at in [r.start, (r.start + r.end) / 2, r.end - 1] {
                let mut b = good.clone();
                b[at] ^= 0x20;
                let what = corrupt_what(decode(&b));
                assert!(
                    what.contains(&format!("checksum mismatch in section {name}:")),
                    "{at}: {what}"
                );
            }
        }
        // The sample has something in every section.
        assert_eq!(seen, N_SECTIONS);
    }

    #[test]
    fn a_flipped_byte_in_the_header_or_table_is_refused() {
        let good = encode(&sample());
        for at in 0..HEADER_LEN {
            for x in [0x01, 0x80] {
                let mut b = good.clone();
                b[at] ^= x;
                match decode(&b) {
                    Err(StoreError::NotAStore { .. }) => assert!(at < 8),
                    Err(StoreError::Version { .. }) => assert!((8..12).contains(&at)),
                    Err(StoreError::Corrupt { .. }) => assert!(at >= 12),
                    other => panic!("byte {at} ^ {x}: {other:?}"),
                }
            }
        }
        // With the header checksum recomputed, the table is still checked
        // against the layout (and the section checksums).
        for at in PREFIX_LEN..HEADER_SUM_AT {
            let mut b = good.clone();
            b[at] ^= 0x01;
            let b = reseal_header_only(b);
            let what = corrupt_what(decode(&b));
            assert!(
                what.contains("checksum mismatch in section")
                    || what.contains("kind")
                    || what.contains("element size")
                    || what.contains("offset")
                    || what.contains("truncated")
                    || what.contains("unexpected bytes"),
                "{at}: {what}"
            );
        }
    }

    fn reseal_header_only(mut b: Vec<u8>) -> Vec<u8> {
        let sum = xxh3_64(&b[..HEADER_SUM_AT]);
        b[HEADER_SUM_AT..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
        b
    }

    #[test]
    fn unknown_flags_padding_and_trailing_bytes_are_corrupt() {
        let good = encode(&sample());
        let mut b = good.clone();
        b[12] = 1;
        assert!(corrupt_what(decode(&reseal(b))).contains("unknown header flags 0x1"));
        let mut b = good.clone();
        b[16] = 17;
        assert!(corrupt_what(decode(&reseal(b))).contains("17 sections"));
        for extra in [1, 16] {
            let mut b = good.clone();
            b.extend(std::iter::repeat(0).take(extra));
            let what = corrupt_what(decode(&b));
            assert!(
                what.contains(&format!("{extra} unexpected bytes")),
                "{what}"
            );
        }
        // A section whose length is not a multiple of 16 is followed by
        // zero padding, which is checked.
        let (i, r) = (0..N_SECTIONS)
            .map(|i| (i, section(&good, i)))
            .find(|(_, r)| r.end % 16 != 0)
            .unwrap();
        let mut b = good.clone();
        b[r.end] = 1;
        let what = corrupt_what(decode(&b));
        assert!(
            what.contains(&format!("non-zero padding after section {}", SECTIONS[i].0)),
            "{what}"
        );
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
            // Resealing cannot make a truncated file acceptable.
            assert!(decode(&reseal(b[..len].to_vec())).is_err());
        }
        // And through the file path too.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.ftl");
        std::fs::write(&path, &b[..b.len() - 3]).unwrap();
        assert!(matches!(open(&path), Err(StoreError::Corrupt { .. })));
    }

    /// A ledger that breaks one rule is written as is (the writer does not
    /// check) and refused on open, with a description of what is wrong.
    #[test]
    fn out_of_range_ids_and_ranges_are_corrupt() {
        type Break = fn(&mut Ledger);
        let cases: &[(Break, &str)] = &[
            (
                |l| {
                    let n = l.accounts.len() as u32;
                    edit(&mut l.movements, |m| m[0].from = AcctId(n))
                },
                "movement 0: from account",
            ),
            (
                |l| edit(&mut l.movements, |m| m[0].to = AcctId(999)),
                "movement 0: to account 999 out of range",
            ),
            (
                |l| edit(&mut l.movements, |m| m[1].asset = AssetId(9)),
                "movement 1: asset 9 out of range",
            ),
            (
                |l| edit(&mut l.movements, |m| m[0].tx = TxId(99)),
                "movement 0: transaction id 99",
            ),
            (
                |l| edit(&mut l.movements, |m| m[0].kind = 4),
                "movement 0: unknown kind 4",
            ),
            (
                |l| {
                    edit(&mut l.movements, |m| {
                        let i = m.iter().position(|m| m.kind == 1).unwrap();
                        m[i].to = AcctId(0);
                    })
                },
                "a fee with a recipient",
            ),
            (
                |l| {
                    edit(&mut l.movements, |m| {
                        let i = m.iter().position(|m| m.kind == 3).unwrap();
                        m[i].from = AcctId(0);
                    })
                },
                "a mint with a sender",
            ),
            (
                |l| edit(&mut l.accounts, |a| a[0].addr = AddrId(999)),
                "account 0: address 999",
            ),
            (
                |l| edit(&mut l.accounts, |a| a[1].asset = AssetId(9)),
                "account 1: asset 9",
            ),
            (
                |l| edit(&mut l.by_source.moves, |m| m[0] = 999),
                "by-source index: entry 0 names movement 999",
            ),
            (
                |l| edit(&mut l.by_dest.offsets, |o| o.truncate(o.len() - 1)),
                "by-destination index: ",
            ),
            (
                |l| edit(&mut l.by_dest.offsets, |o| o[0] = 1),
                "by-destination index: the first offset is 1",
            ),
            (
                |l| edit(&mut l.by_source.offsets, |o| *o.last_mut().unwrap() += 1),
                "by-source index: the last offset",
            ),
            (
                |l| edit(&mut l.by_source.offsets, |o| o[1] = 99),
                "by-source index: offsets out of order at account 1",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[0].txid = TxId::NONE),
                "UTXO tx 0: transaction id",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[1].asset = AssetId(9)),
                "UTXO tx 1: asset 9",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[1].inputs = [0, 4]),
                "UTXO tx 1: inputs range 0..4 out of range",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[1].inputs = [2, 1]),
                "UTXO tx 1: inputs range 2..1",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[1].outputs = [2, 5]),
                "UTXO tx 1: outputs range 2..5",
            ),
            (
                |l| edit(&mut l.utxo_txs, |t| t[1].outputs = [1, 4]),
                "UTXO tx 1: outputs range 1..4 out of order",
            ),
            (
                |l| edit(&mut l.inputs, |i| i[0].spent = 2),
                "UTXO tx 1: input 0 spends output 2, not one of an earlier",
            ),
            (
                |l| edit(&mut l.inputs, |i| i[0].spent = 4),
                "input 0: spends output 4, out of range",
            ),
            (
                |l| edit(&mut l.inputs, |i| i[1].owner = AddrId(999)),
                "input 1: owner 999",
            ),
            (
                |l| edit(&mut l.outputs, |o| o[1].owner = AddrId::NONE),
                "output 1: owner 4294967295",
            ),
            (
                |l| edit(l.addresses.columns_mut().0, |o| o[0] = 1),
                "addresses: the first string offset is 1",
            ),
            (
                |l| edit(l.txids.columns_mut().0, |o| *o.last_mut().unwrap() -= 1),
                "transaction ids: the last string offset",
            ),
            (
                |l| edit(l.txids.columns_mut().0, |o| o.clear()),
                "transaction ids: no string offsets",
            ),
            (
                |l| edit(l.txids.columns_mut().0, |o| o[1] = 1000),
                "transaction ids 1: string offsets out of order",
            ),
            (
                |l| edit(l.txids.columns_mut().1, |b| b[0] = 0xff),
                "transaction ids 0: not valid UTF-8",
            ),
            (
                // Valid UTF-8 as a whole, but a boundary splits the `ü`.
                |l| {
                    let k = l.addr_id(UNICODE).unwrap().index();
                    edit(l.addresses.columns_mut().0, |o| o[k] += 1)
                },
                "not valid UTF-8",
            ),
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
    fn bad_bytes_in_the_assets_and_info_section_are_corrupt() {
        let l = sample();
        let meta = encode_meta(&l);
        assert_eq!(
            decode_meta(&meta).unwrap(),
            (l.assets.clone(), l.info.clone())
        );
        for len in 0..meta.len() {
            let err = decode_meta(&meta[..len]).unwrap_err();
            assert!(err.contains("truncated"), "{len}: {err}");
        }
        let mut longer = meta.clone();
        longer.push(0);
        assert!(decode_meta(&longer)
            .unwrap_err()
            .contains("1 unexpected bytes"));

        // Asset 0 is the USDT contract (names sort before "BTC" and "ETH"):
        // count, name length, name, then the model byte and the symbol flag.
        assert_eq!(l.assets[0].name, USDT);
        let model_at = 8 + 8 + USDT.len();
        let mut b = meta.clone();
        b[model_at] = 7;
        assert!(decode_meta(&b)
            .unwrap_err()
            .contains("asset 0: unknown chain model byte 7"));
        let mut b = meta.clone();
        b[model_at + 1] = 2;
        assert!(decode_meta(&b).unwrap_err().contains("neither 0 nor 1"));
        let mut b = meta.clone();
        b[16] = 0xff;
        assert!(decode_meta(&b).unwrap_err().contains("not valid UTF-8"));
        let mut b = meta.clone();
        b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_meta(&b).unwrap_err().contains("truncated"));

        // Through the whole file, resealed.
        let mut f = encode(&l);
        let r = section(&f, META);
        f[r.start + model_at] = 7;
        assert!(corrupt_what(decode(&reseal(f))).contains("unknown chain model byte 7"));
    }

    #[test]
    fn writing_over_an_existing_store_replaces_it_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.ftl");
        write(&sample(), &path).unwrap();
        let old = open(&path).unwrap();
        let mut other = many(50);
        other.info.duplicates = 99;
        write(&other, &path).unwrap();
        assert_eq!(open(&path).unwrap(), other);
        // A ledger opened before the rewrite still reads its own file.
        assert_eq!(old, sample());
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

    /// Pieces laid out like a store's (a header, then sections at 16-byte
    /// offsets after it, some empty), and the file's length.
    fn laid_out(sections: &[Vec<u8>]) -> (Vec<(u64, &[u8])>, u64) {
        let head: &[u8] = &[0xAB; HEADER_LEN];
        let mut pieces = vec![(0, head)];
        let mut at = HEADER_LEN as u64;
        for b in sections {
            at = align_up(at).unwrap();
            pieces.push((at, b.as_slice()));
            at += b.len() as u64;
        }
        (pieces, at)
    }

    /// The file the plain way: every piece copied to its offset.
    fn naive_image(pieces: &[(u64, &[u8])], len: u64) -> Vec<u8> {
        let mut f = vec![0u8; len as usize];
        for (at, b) in pieces {
            f[*at as usize..*at as usize + b.len()].copy_from_slice(b);
        }
        f
    }

    #[test]
    fn direct_and_page_cache_writes_give_the_same_file() {
        // sections across window boundaries, an empty one, a last block
        // that is not whole
        let sizes = [WINDOW + 3, 0, 5, WINDOW - 1, 1234, 7];
        let sections: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(k, &n)| (0..n).map(|i| (i * 31 + k * 7 + 1) as u8).collect())
            .collect();
        let (pieces, len) = laid_out(&sections);
        assert!(len % BLOCK as u64 != 0 && len > 2 * WINDOW as u64);
        let want = naive_image(&pieces, len);
        let dir = tempfile::tempdir().unwrap();
        let windowed = dir.path().join("windowed");
        write_windows(&File::create(&windowed).unwrap(), &pieces, len, 1).unwrap();
        assert!(std::fs::read(&windowed).unwrap() == want);
        let chosen = dir.path().join("chosen");
        write_image(&File::create(&chosen).unwrap(), &pieces, len).unwrap();
        assert!(std::fs::read(&chosen).unwrap() == want);
        #[cfg(target_os = "linux")]
        {
            let direct = dir.path().join("direct");
            let file = File::create(&direct).unwrap();
            match direct::write(&file, &pieces, len) {
                Ok(()) => assert!(std::fs::read(&direct).unwrap() == want),
                // this file system takes no direct writes (write_image fell
                // back above)
                Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "{e}"),
            }
        }
    }

    #[test]
    fn writing_into_a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/case.ftl");
        let err = write(&sample(), &path).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    }

    /// A string table's offsets (from 0 to the text's length) and text.
    fn table_of_words(words: &[String]) -> (Vec<u64>, Vec<u8>) {
        let mut offsets = vec![0u64];
        let mut bytes = Vec::new();
        for w in words {
            bytes.extend_from_slice(w.as_bytes());
            offsets.push(bytes.len() as u64);
        }
        (offsets, bytes)
    }

    /// Values that make interesting ids, counts and offsets.
    fn planted() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..20,
            Just(u32::MAX as u64),
            Just(u32::MAX as u64 - 1),
            Just(u64::MAX),
            Just(u64::MAX - 15),
            any::<u64>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The quick string check, over runs of any length, accepts a table
        /// exactly when checking each string on its own does: offsets in
        /// order and in bounds, every string valid UTF-8 (an offset moved
        /// into a character, or a byte changed, must be caught).
        #[test]
        fn the_quick_string_check_agrees_with_each_string_checked(
            words in proptest::collection::vec("[a-z\u{e9}\u{20ac}\u{1d11e}]{0,3}", 1..60),
            per_run in 1usize..8,
            moved in proptest::option::of((any::<prop::sample::Index>(), -3i64..=3)),
            changed in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
        ) {
            let (mut offsets, mut bytes) = table_of_words(&words);
            let n = offsets.len();
            if let Some((i, d)) = moved {
                // an inner offset: the first and last are checked before
                let k = 1 + i.index(n - 1);
                if k < n - 1 {
                    offsets[k] = offsets[k].saturating_add_signed(d);
                }
            }
            if let (Some((i, b)), false) = (changed, bytes.is_empty()) {
                let k = i.index(bytes.len());
                bytes[k] = b;
            }
            let each = offsets.windows(2).all(|w| {
                w[0] <= w[1]
                    && bytes
                        .get(w[0] as usize..w[1] as usize)
                        .is_some_and(|s| std::str::from_utf8(s).is_ok())
            });
            prop_assert_eq!(strings_look_right(&offsets, &bytes, per_run), each);
            prop_assert_eq!(check_string_parts(&offsets, &bytes, "words").is_ok(), each);
        }

        #[test]
        fn every_window_of_the_file_is_its_pieces_then_zeros(
            sizes in proptest::collection::vec(0usize..70, 0..6),
            at in 0u64..700,
            n in 0usize..300,
        ) {
            let sections: Vec<Vec<u8>> = sizes
                .iter()
                .map(|&k| (0..k).map(|i| i as u8 | 1).collect())
                .collect();
            let (pieces, len) = laid_out(&sections);
            let mut want = naive_image(&pieces, len);
            want.resize(len.max(at + n as u64) as usize, 0);
            let mut got = vec![7u8; n];
            fill(&mut got, at, &pieces);
            prop_assert_eq!(&got[..], &want[at as usize..at as usize + n]);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
            prop_assert!(decode(&bytes).is_err());
            // Behind a valid prefix and resealed, the table checks see them.
            let mut b = header(&table_of(&encode(&Ledger::default()))).to_vec();
            b.truncate(PREFIX_LEN);
            b.extend_from_slice(&bytes);
            let _ = decode(&reseal(b));
        }

        /// Flipped section bytes with every checksum recomputed: validation
        /// refuses them, or the ledger is safe to index and writes back the
        /// same bytes.
        #[test]
        fn resealed_flips_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
        ) {
            let good = encode(&sample());
            let mut b = good.clone();
            for (i, x) in &flips {
                let i = HEADER_LEN + i.index(b.len() - HEADER_LEN);
                b[i] ^= x;
            }
            prop_assert!(decode(&b).is_err());
            let b = reseal(b);
            if let Ok(l) = decode(&b) {
                exercise(&l);
                prop_assert_eq!(encode(&l), b);
            }
        }

        /// A chosen value planted on a 4-byte boundary of the sections (ids,
        /// ranges, offsets) or an 8-byte boundary of the table, resealed.
        #[test]
        fn resealed_planted_values_never_panic(
            at in any::<prop::sample::Index>(),
            v in planted(),
            wide in any::<bool>(),
            in_table in any::<bool>(),
        ) {
            let mut b = encode(&sample());
            let i = if in_table {
                PREFIX_LEN + at.index((HEADER_SUM_AT - PREFIX_LEN) / 8) * 8
            } else {
                // a 4-byte plant may sit in either half of an 8-byte word
                let half = if wide { 0 } else { 4 * (v as usize & 1) };
                HEADER_LEN + at.index((b.len() - HEADER_LEN) / 8) * 8 + half
            };
            if wide || in_table {
                b[i..i + 8].copy_from_slice(&v.to_le_bytes());
            } else {
                b[i..i + 4].copy_from_slice(&(v as u32).to_le_bytes());
            }
            let b = reseal(b);
            if let Ok(l) = decode(&b) {
                exercise(&l);
                prop_assert_eq!(encode(&l), b);
            }
        }

        #[test]
        fn open_never_panics_on_spoiled_files(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
            resealed in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("case.ftl");
            let mut b = encode(&sample());
            for (i, x) in &flips {
                let i = i.index(b.len());
                b[i] ^= x;
            }
            b.truncate(cut.index(b.len() + 1));
            if resealed {
                b = reseal(b);
            }
            std::fs::write(&path, &b).unwrap();
            if let Ok(l) = open(&path) {
                exercise(&l);
            }
        }
    }
}
