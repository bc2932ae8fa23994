//! Lowering: parsed records (`Raw`, with strings) to numeric records, chunk
//! by chunk, each chunk (a [`Lowered`] part) with its own string tables and
//! local ids, so that no per-record strings outlive their chunk and no table
//! is shared while parsing. [`rank`] then deduplicates the strings of all
//! parts and ranks the distinct ones in sorted order, which makes the final
//! ids independent of chunking, input order and thread count.

use super::raw::{BlockRef, Raw, RawAsset, RawRef, Str, TraceSource};
use super::Loc;
use crate::column::StringTable;
use crate::model::{Amount, MoveKind};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::hash::BuildHasher;

/// Temporary or final id meaning "none".
pub const NONE: u32 = u32::MAX;
/// Append-only storage for interned text, in blocks that never move or grow
/// once allocated: a string's bytes stay where they are while the arena
/// lives, and a whole interner's strings are freed a few blocks at a time
/// rather than one allocation per string.
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<u8>>,
}

impl Arena {
    fn alloc(&mut self, s: &str) -> Key {
        let fits = |b: &Vec<u8>| b.capacity() - b.len() >= s.len();
        if !self.blocks.last().is_some_and(fits) {
            let last = self.blocks.last().map_or(0, |b| b.capacity());
            let cap = (last * 2).clamp(4 << 10, 1 << 20).max(s.len());
            self.blocks.push(Vec::with_capacity(cap));
        }
        let b = self.blocks.last_mut().expect("a block was just pushed");
        let start = b.len();
        // within capacity: the block does not reallocate, earlier keys stay valid
        b.extend_from_slice(s.as_bytes());
        Key {
            ptr: b[start..].as_ptr(),
            len: s.len(),
        }
    }
}

/// Interned text: a string in an [`Arena`]. Only read while that arena
/// lives (both belong to one [`Table`]), and never handed out of this
/// module.
#[derive(Copy, Clone)]
struct Key {
    ptr: *const u8,
    len: usize,
}

// SAFETY: a key is a shared reference to immutable bytes in an arena that is
// moved and dropped together with it.
unsafe impl Send for Key {}
unsafe impl Sync for Key {}

impl Key {
    #[inline]
    fn as_str(&self) -> &str {
        // SAFETY: the bytes were copied from a `&str` into an arena block that
        // is still alive and never written again where they lie.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }
}

impl std::hash::Hash for Key {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // as `str` hashes, so that lookups by `&str` find it
        self.as_str().hash(h)
    }
}

impl PartialEq for Key {
    #[inline]
    fn eq(&self, o: &Key) -> bool {
        self.as_str() == o.as_str()
    }
}

impl Eq for Key {}

impl std::borrow::Borrow<str> for Key {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// One part's string table: local ids in first-use order, each with its
/// sort key, and the text of those whose key does not spell it in an arena
/// owned by the table.
#[derive(Default)]
pub struct Table {
    /// Lookup by text (strings interned with [`Table::intern`] only).
    map: FxHashMap<Key, u32>,
    /// Each local id's sort key for [`rank`]: its [`prefix`] as two words,
    /// then its [`tail`]. Computed while the text is in cache; where the
    /// tail is exact (an address in hex) the key is the whole text.
    sort: Vec<[u64; 4]>,
    /// Where each local id's text starts in the arena (its length is in
    /// the tail); for a long hex key, the digits its tail has no room for
    /// ([`SortKey::digits`]); or 0 for an exact key pushed without its
    /// text. Ids past the end have none (a table of addresses keeps no text
    /// at all).
    text: Vec<u64>,
    /// [`SortKey::more`] of each long hex key, 0 for any other (ids past
    /// the end: 0).
    more: Vec<u32>,
    arena: Arena,
}

impl Table {
    /// The id of `s`, the same for every call with the same text.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.map.get(s) {
            return *id;
        }
        let id = self.sort.len() as u32;
        let key = self.arena.alloc(s);
        let sort = sort_key(s);
        self.sort.push(sort.words);
        if sort.long() {
            self.long_at(id, sort);
        } else {
            self.text_at(id, key.ptr as u64);
        }
        self.map.insert(key, id);
        id
    }

    /// A new id for `s`, without looking it up: for callers that keep their
    /// own map (the same text under two ids of a part is merged by [`rank`]).
    /// The text is copied only when its sort key does not spell it.
    #[inline]
    fn push(&mut self, s: &str) -> u32 {
        self.push_key(s, sort_key(s))
    }

    /// [`Table::push`] of `s` whose [`sort_key`] is `key`.
    #[inline]
    fn push_key(&mut self, s: &str, key: SortKey) -> u32 {
        let id = self.sort.len() as u32;
        self.sort.push(key.words);
        if key.long() {
            self.long_at(id, key);
        } else if key.words[3] & EXACT == 0 {
            let text = self.arena.alloc(s).ptr as u64;
            self.text_at(id, text);
        }
        id
    }

    /// Record that the text of `id`, the newest id, is at `text`.
    fn text_at(&mut self, id: u32, text: u64) {
        self.text.resize(id as usize, 0);
        self.text.push(text);
    }

    /// Record the digits of the long hex key of `id`, the newest id, that
    /// its four words have no room for.
    fn long_at(&mut self, id: u32, key: SortKey) {
        self.text_at(id, key.digits);
        self.more.resize(id as usize, 0);
        self.more.push(key.more);
    }

    pub fn opt(&mut self, s: &Option<String>) -> u32 {
        s.as_deref().map_or(NONE, |s| self.intern(s))
    }

    /// Room for `n` strings, so that the keys are written once instead of
    /// copied at every doubling (room never used costs no memory).
    pub fn reserve(&mut self, n: usize) {
        self.sort.reserve(n);
        self.text.reserve(n);
    }

    /// How many local ids were handed out.
    pub fn len(&self) -> usize {
        self.sort.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sort.is_empty()
    }

    /// The entry of local id `local`, for [`rank`].
    #[inline]
    fn entry(&self, local: usize, kept: bool) -> Entry {
        let k = self.sort[local];
        Entry {
            hi: k[0],
            lo: k[1],
            tail: [k[2], k[3]],
            text: self.text.get(local).copied().unwrap_or(0),
            at: if kept { KEPT } else { 0 },
            more: self.more.get(local).copied().unwrap_or(0),
        }
    }
}

/// A part's three string tables.
#[derive(Default)]
pub struct Ids {
    pub addr: Table,
    pub tx: Table,
    pub asset: Table,
}

/// A string of one part's table while ranking: its sort key (its prefix
/// as two words and its [`tail`], made when the part met the string), where
/// it was in its bucket before the sort, and where its text is. Small (48
/// bytes); its text is read only to tell apart strings whose tail is a
/// hash, and to write those into the final table.
#[derive(Copy, Clone, Default)]
struct Entry {
    hi: u64,
    lo: u64,
    /// The rest of the text after the prefix, see [`tail`].
    tail: [u64; 2],
    /// Where the text starts in its table's arena (its length is in the
    /// tail); for a long hex tail, [`SortKey::digits`]; or 0 where the
    /// key spells the text.
    text: u64,
    /// Its place in its bucket as gathered (before the sort), and [`KEPT`]
    /// if `keep` accepts its local id.
    at: u32,
    /// [`SortKey::more`] for a long hex tail, else 0.
    more: u32,
}

// Ranking moves every string of every part through entries: keep them small.
const _: () = assert!(std::mem::size_of::<Entry>() == 48);

/// The top bit of a tail's last byte: the tail is the text itself.
const EXACT: u64 = 0x80;

/// A tail's last byte for a long hex tail: its first [`LONG_HEAD`] digits,
/// the others in [`SortKey::digits`] and [`SortKey::more`].
const LONG: u64 = 0x40;

/// The digits of a long hex tail that its two words hold.
const LONG_HEAD: usize = 30;

/// The most digits a long hex tail can have (a transaction hash in hex,
/// 0x and 64 digits, has 50 after its prefix).
const LONG_DIGITS: usize = 52;

/// The sort key of a string for [`rank`]: its [`prefix`] as two words,
/// then its [`tail`], and for a long hex tail the digits that do not fit.
#[derive(Copy, Clone)]
struct SortKey {
    words: [u64; 4],
    /// A long hex tail's digits 31 to 46 (else 0).
    digits: u64,
    /// A long hex tail's digits 47 to 52 above its digit count (else 0).
    more: u32,
}

impl SortKey {
    /// The key spells a long hex tail.
    #[inline]
    fn long(&self) -> bool {
        self.words[3] & LONG != 0
    }
}

#[inline]
fn sort_key(s: &str) -> SortKey {
    let p = prefix(s);
    let ([t0, t1], digits, more) = tail(s);
    SortKey {
        words: [(p >> 64) as u64, p as u64, t0, t1],
        digits,
        more,
    }
}

/// The text of `s` after its 16-byte prefix, as two words that sort like
/// it, and for a long hex tail two more parts. Exact when the prefix is 16
/// real bytes and the rest is at most 30 lower-case hex digits (a 20-byte
/// address in hex is 42 characters): the digits as nibbles from the top,
/// then [`EXACT`] with the digit count, so equal tails mean equal strings,
/// tails order like the text, and prefix and tail spell the text. Long
/// when the rest is 31 to [`LONG_DIGITS`] lower-case hex digits (a
/// transaction hash): the first 30 as nibbles from the top, then [`LONG`];
/// the next 16 as the second part; the last ones as nibbles from the top of
/// the third, then the digit count in its last byte — the three parts
/// together equal for equal strings, ordered like the text among long
/// tails, and spelling it. Any other string gets a hash of the whole text,
/// then its length above a last byte of 0: equal strings still have equal
/// tails, but equal tails must be confirmed on the text, and ordered by it.
#[inline]
fn tail(s: &str) -> ([u64; 2], u64, u32) {
    let b = s.as_bytes();
    if b.len() >= 16 && b.len() - 16 <= LONG_HEAD {
        if let Some([a, c]) = hex_blocks::<2>(b) {
            let v = ((a as u128) << 64 | c as u128) | (EXACT | (b.len() - 16) as u64) as u128;
            return ([(v >> 64) as u64, v as u64], 0, 0);
        }
    } else if b.len() >= 16 && b.len() - 16 <= LONG_DIGITS {
        if let Some([a, c, d, e]) = hex_blocks::<4>(b) {
            // digits 1-32 and 33-64 (those past the string's end are 0)
            let h = (a as u128) << 64 | c as u128;
            let l = (d as u128) << 64 | e as u128;
            let t1 = (h as u64 & !0xff) | LONG;
            let digits = (h as u64 & 0xff) << 56 | (l >> 72) as u64;
            let more = ((l >> 48) as u32 & 0x00ff_ffff) << 8 | (b.len() - 16) as u32;
            return ([(h >> 64) as u64, t1], digits, more);
        }
    }
    (
        [rustc_hash::FxBuildHasher.hash_one(s), (b.len() as u64) << 8],
        0,
        0,
    )
}

/// The digits of `b` after its 16-byte prefix, 16 to a block (the first
/// digit highest), in `W` blocks padded with '0' (whose value is 0); `None`
/// if any is not a lower-case hex digit. `b` is at least 16 bytes long, and
/// has at most `16 * W` after them.
#[inline(always)]
fn hex_blocks<const W: usize>(b: &[u8]) -> Option<[u64; W]> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let r = b.len() - 16;
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    // the j-th 8 digits of a block cut short: read where they lie
    let part = |j: usize| {
        if 8 * j + 8 <= r {
            word(16 + 8 * j)
        } else if 8 * j < r {
            // the last k digits, from the string's last 8 bytes
            let k = r - 8 * j;
            word(b.len() - 8) >> (8 * (8 - k)) | ZEROS << (8 * k)
        } else {
            ZEROS
        }
    };
    let mut out = [0u64; W];
    let mut ok = true;
    for (i, o) in out.iter_mut().enumerate() {
        let at = 16 + 16 * i;
        let (value, hex) = if at + 16 <= b.len() {
            hex16_value(b[at..at + 16].try_into().expect("16 bytes"))
        } else if at < b.len() {
            hex16_of_words(part(2 * i), part(2 * i + 1))
        } else {
            (0, true)
        };
        *o = value;
        ok &= hex;
    }
    ok.then_some(out)
}

/// Sixteen lower-case hex digits as their 64-bit value (the first
/// highest), and whether all sixteen are such digits: all at once in one
/// SSE2 register, or as two words of [`hex8`] where there is none.
#[inline(always)]
fn hex16_value(d: &[u8; 16]) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of every x86_64; the load reads the 16 bytes of
    // `d`, unaligned.
    unsafe {
        use std::arch::x86_64::*;
        let c = _mm_loadu_si128(d.as_ptr().cast());
        // `c` in lo..=lo+span, unsigned: c - lo (wrapping) saturates to 0
        // when span is taken off
        let within = |lo: u8, span: u8| {
            let t = _mm_sub_epi8(c, _mm_set1_epi8(lo as i8));
            _mm_cmpeq_epi8(
                _mm_subs_epu8(t, _mm_set1_epi8(span as i8)),
                _mm_setzero_si128(),
            )
        };
        let digit = within(b'0', 9);
        let letter = within(b'a', 5);
        let hex = _mm_movemask_epi8(_mm_or_si128(digit, letter)) == 0xffff;
        // values: the low four bits, plus 9 for a letter
        let v = _mm_add_epi8(
            _mm_and_si128(c, _mm_set1_epi8(0x0f)),
            _mm_and_si128(letter, _mm_set1_epi8(9)),
        );
        // pairs of digits (first, second) to bytes first << 4 | second
        let pairs = _mm_or_si128(
            _mm_slli_epi16::<4>(_mm_and_si128(v, _mm_set1_epi16(0x00ff))),
            _mm_srli_epi16::<8>(v),
        );
        let bytes = _mm_cvtsi128_si64(_mm_packus_epi16(pairs, pairs)) as u64;
        (bytes.swap_bytes(), hex)
    }
    #[cfg(not(target_arch = "x86_64"))]
    hex16_value_by_words(d)
}

/// [`hex16_value`] as two words of [`hex8`] (where there is no SSE2).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn hex16_value_by_words(d: &[u8; 16]) -> (u64, bool) {
    let word = |at: usize| u64::from_le_bytes(d[at..at + 8].try_into().expect("8 bytes"));
    hex16_of_words(word(0), word(8))
}

/// Sixteen digits given as two words of eight (each as [`hex8`] reads it,
/// the first word's digits first): their value and whether all are
/// lower-case hex digits.
#[inline(always)]
fn hex16_of_words(first: u64, second: u64) -> (u64, bool) {
    let (a, x) = hex8(first);
    let (c, y) = hex8(second);
    ((a as u64) << 32 | c as u64, x & y)
}

/// The 16 nibbles of `v` as lower-case hex digits, the highest first: each
/// nibble moved to a byte of its own, then to its digit, all at once.
#[inline(always)]
fn hex16(v: u64) -> [u8; 16] {
    const fn lanes(width: u32, mask: u128) -> u128 {
        // `mask` repeated every `width` bits
        let mut m = 0u128;
        let mut at = 0;
        while at < 128 {
            m |= mask << at;
            at += width;
        }
        m
    }
    let x = v as u128;
    // halves, quarters, bytes, nibbles: each to the low end of a lane twice
    // its size (nibble k of `v`, from the low end, ends in byte k)
    let x = (x & 0xffff_ffff_0000_0000) << 32 | (x & 0xffff_ffff);
    let x = (x & lanes(64, 0xffff_0000)) << 16 | (x & lanes(64, 0xffff));
    let x = (x & lanes(32, 0xff00)) << 8 | (x & lanes(32, 0xff));
    let x = (x & lanes(16, 0xf0)) << 4 | (x & lanes(16, 0x0f));
    // a byte of 10 or more, plus 0x76, reaches 0x80: a letter
    let letters = ((x + lanes(8, 0x76)) & lanes(8, 0x80)) >> 7;
    (x + lanes(8, b'0' as u128) + letters * (b'a' - b'0' - 10) as u128).to_be_bytes()
}

/// Eight lower-case hex digits (the first in the lowest byte of `x`, as
/// read from memory) as their 32-bit value, and whether all eight are
/// lower-case hex digits; a byte at a time in one word: a digit is in
/// '0'..='9' or 'a'..='f', and its value is its low four bits, plus 9 for
/// a letter.
#[inline(always)]
fn hex8(x: u64) -> (u32, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // each byte plus a constant below 0x80 stays in its byte for ASCII
    let ascii = x & HIGH == 0;
    let at_least = |lo: u64| x.wrapping_add(ONES * (0x80 - lo)) & HIGH;
    let above = |hi: u64| x.wrapping_add(ONES * (0x7f - hi)) & HIGH;
    let digit = at_least(0x30) & !above(0x39);
    let letter = at_least(0x61) & !above(0x66);
    let hex = ascii && (digit | letter) == HIGH;
    // values, byte by byte, then packed: first digit highest
    let n = ((x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9).swap_bytes();
    let n = (n | n >> 4) & 0x00ff_00ff_00ff_00ff;
    let n = (n | n >> 8) & 0x0000_ffff_0000_ffff;
    let n = (n | n >> 16) & 0xffff_ffff;
    (n as u32, hex)
}

/// The bit of [`Entry::at`] that says `keep` accepted the id (the text is
/// ranked if any of its ids is kept).
const KEPT: u32 = 1 << 31;

impl Entry {
    /// Equal for equal strings (and for equal hashed tails, or long hex
    /// tails equal in their first 30 digits); text order for strings with
    /// exact tails, and for long hex tails that differ in those digits.
    #[inline]
    fn order(&self) -> (u64, u64, u64, u64) {
        (self.hi, self.lo, self.tail[0], self.tail[1])
    }

    /// Whether `self` and `o`, of equal [`Entry::order`], are one string:
    /// for a long hex tail by the digits past its 30th, else by the text.
    #[inline]
    fn same(&self, o: &Entry) -> bool {
        if self.long() {
            (self.text, self.more) == (o.text, o.more)
        } else {
            self.cmp_text(o).is_eq()
        }
    }

    /// The tail is the text (at most 30 digits): equal orders mean equal
    /// strings, and they order like the text.
    #[inline]
    fn exact(&self) -> bool {
        self.tail[1] & EXACT != 0
    }

    /// The tail is a long hex tail, spelled with `text` and `more`.
    #[inline]
    fn long(&self) -> bool {
        self.tail[1] & LONG != 0
    }

    /// The key spells the text (exact or long): equal orders mean equal
    /// strings, and the text is never read from an arena.
    #[inline]
    fn spelled(&self) -> bool {
        self.tail[1] & (EXACT | LONG) != 0
    }

    /// Its place in its bucket as gathered.
    #[inline]
    fn at(&self) -> usize {
        (self.at & !KEPT) as usize
    }

    #[inline]
    fn kept(&self) -> bool {
        self.at & KEPT != 0
    }

    /// The length of the text (in the tail, or in `more` for a long hex
    /// tail: see [`tail`]).
    #[inline]
    fn len(&self) -> usize {
        if self.exact() {
            16 + (self.tail[1] & 0x7f) as usize
        } else if self.long() {
            16 + (self.more & 0xff) as usize
        } else {
            (self.tail[1] >> 8) as usize
        }
    }

    /// `f` of the text: spelled from the key where it spells it (exact or
    /// long), else read from the table's arena. Only while the [`Table`] it
    /// came from lives.
    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        if self.spelled() {
            let mut buf = [0u8; 16 + 64];
            buf[..8].copy_from_slice(&self.hi.to_be_bytes());
            buf[8..16].copy_from_slice(&self.lo.to_be_bytes());
            // the digits as nibbles from the top of two numbers
            let (h, l) = if self.exact() {
                ((self.tail[0] as u128) << 64 | self.tail[1] as u128, 0)
            } else {
                (
                    (self.tail[0] as u128) << 64
                        | (self.tail[1] & !0xff) as u128
                        | (self.text >> 56) as u128,
                    (self.text as u128) << 72 | ((self.more >> 8) as u128) << 48,
                )
            };
            for (k, w) in [(h >> 64) as u64, h as u64, (l >> 64) as u64, l as u64]
                .into_iter()
                .enumerate()
            {
                buf[16 + 16 * k..32 + 16 * k].copy_from_slice(&hex16(w));
            }
            f(&buf[..self.len()])
        } else {
            // SAFETY: `text` and the length are those of a string copied
            // into the arena of a table that outlives every entry made of
            // it, and never written again where it lies.
            f(unsafe { std::slice::from_raw_parts(self.text as usize as *const u8, self.len()) })
        }
    }

    /// Text order (and equality) of two entries.
    #[inline]
    fn cmp_text(&self, o: &Entry) -> std::cmp::Ordering {
        self.with_text(|a| o.with_text(|b| a.cmp(b)))
    }
}

/// Distinct strings per bucket while ranking: about this many strings of all
/// parts per bucket keeps a bucket's sort in cache.
const BUCKET: usize = 4096;

/// Final ids for the strings of several parts' tables: the distinct strings
/// that `keep(part, local id)` accepts for at least one of their ids, as a
/// table in sorted order, and per part the map from local id to final id
/// (the rank; [`NONE`] for a string not kept).
///
/// The strings are cut into buckets by ranges of their 16-byte prefix
/// (splitters from a sample), so that equal strings meet in one bucket and
/// each bucket's strings sort before the next one's; each bucket is sorted
/// and deduplicated on its own, in parallel, and its ranks offset by the
/// distinct strings of the buckets before it. Neither the splitters nor the
/// parts change the result, only how the work is shared.
pub fn rank(
    tables: &[&Table],
    keep: impl Fn(usize, u32) -> bool + Sync,
) -> (StringTable, Vec<Vec<u32>>) {
    let n: usize = tables.iter().map(|t| t.len()).sum();
    let want = (n / BUCKET).clamp(1, 1 << 16);
    // splitters: evenly spaced prefixes of a deterministic sample
    let step = (n / (want * 16)).max(1);
    let mut sample: Vec<u128> = tables
        .par_iter()
        .flat_map_iter(|t| {
            t.sort
                .iter()
                .step_by(step)
                .map(|k| (k[0] as u128) << 64 | k[1] as u128)
        })
        .collect();
    sample.par_sort_unstable();
    sample.dedup();
    let mut splitters: Vec<u128> = (1..want).map(|i| sample[i * sample.len() / want]).collect();
    splitters.dedup();
    let buckets = splitters.len() + 1;
    let finder = BucketOf::new(&splitters);
    // each part's kept strings, grouped by bucket, and each id's bucket
    let scattered: Vec<(Vec<Entry>, Vec<usize>, Vec<u32>)> = tables
        .par_iter()
        .enumerate()
        .map(|(part, t)| {
            assert!(t.len() < KEPT as usize, "too many strings in one part");
            let mut counts = vec![0usize; buckets + 1];
            let of: Vec<u32> = t
                .sort
                .iter()
                .map(|k| {
                    let b = finder.of((k[0] as u128) << 64 | k[1] as u128);
                    counts[b as usize + 1] += 1;
                    b
                })
                .collect();
            for b in 0..buckets {
                counts[b + 1] += counts[b];
            }
            // a stable counting sort by bucket
            let mut next = counts.clone();
            let mut grouped = vec![Entry::default(); t.len()];
            for (local, b) in of.iter().enumerate() {
                let b = *b as usize;
                grouped[next[b]] = t.entry(local, keep(part, local as u32));
                next[b] += 1;
            }
            (grouped, counts, of)
        })
        .collect();
    // per bucket: gather the parts' entries (each part's in local order),
    // sort, deduplicate, rank within the bucket, keep the first entry of
    // each distinct string kept; and each gathered entry's rank, by its
    // place in the bucket, with where each part's entries start there
    let per_bucket: Vec<Bucket> = (0..buckets)
        .into_par_iter()
        .map(|b| {
            let mut v: Vec<Entry> =
                Vec::with_capacity(scattered.iter().map(|(_, c, _)| c[b + 1] - c[b]).sum());
            let mut starts = Vec::with_capacity(scattered.len());
            for (g, c, _) in &scattered {
                starts.push(v.len() as u32);
                v.extend_from_slice(&g[c[b]..c[b + 1]]);
            }
            assert!(v.len() < KEPT as usize, "too many strings in one bucket");
            for (i, e) in v.iter_mut().enumerate() {
                e.at |= i as u32;
            }
            // Equal strings meet by (prefix, tail), without reading their
            // text; it is read only where the tail is a hash: to confirm,
            // and to order the distinct strings that share a prefix. (Long
            // hex tails equal in the tail are told apart by their other
            // digits, spelled from the key.)
            v.sort_unstable_by_key(Entry::order);
            // runs of equal strings, as ranges of `v`
            let mut groups: Vec<(usize, usize)> = Vec::new();
            let mut i = 0;
            while i < v.len() {
                let mut j = i + 1;
                while j < v.len() && v[j].order() == v[i].order() {
                    j += 1;
                }
                // (an exact tail, or a string met once, is not read here)
                if j == i + 1 || v[i].exact() || v[i + 1..j].iter().all(|e| e.same(&v[i])) {
                    groups.push((i, j));
                } else {
                    // a hash collision, or long tails that differ past their
                    // 30th digit: split the run by text
                    v[i..j].sort_unstable_by(Entry::cmp_text);
                    let mut k = i;
                    while k < j {
                        let mut l = k + 1;
                        while l < j && v[l].cmp_text(&v[k]).is_eq() {
                            l += 1;
                        }
                        groups.push((k, l));
                        k = l;
                    }
                }
                i = j;
            }
            // distinct strings with the same prefix, in text order (already
            // so where every tail is exact, or every tail long)
            let same_prefix = |x: &Entry, y: &Entry| (x.hi, x.lo) == (y.hi, y.lo);
            let mut a = 0;
            while a < groups.len() {
                let mut z = a + 1;
                while z < groups.len() && same_prefix(&v[groups[z].0], &v[groups[a].0]) {
                    z += 1;
                }
                let all = |f: fn(&Entry) -> bool| groups[a..z].iter().all(|g| f(&v[g.0]));
                if z - a > 1 && !all(Entry::exact) && !all(Entry::long) {
                    groups[a..z].sort_unstable_by(|x, y| v[x.0].cmp_text(&v[y.0]));
                }
                a = z;
            }
            let mut out: Vec<Entry> = Vec::new();
            let mut ranks = vec![NONE; v.len()];
            for &(s, e) in &groups {
                let group = &v[s..e];
                if group.iter().any(Entry::kept) {
                    let r = out.len() as u32;
                    out.push(group[0]);
                    for g in group {
                        ranks[g.at()] = r;
                    }
                }
            }
            Bucket {
                strings: out,
                ranks,
                starts,
            }
        })
        .collect();
    let mut base = Vec::with_capacity(buckets);
    let mut total = 0u32;
    for b in &per_bucket {
        base.push(total);
        total += b.strings.len() as u32;
    }
    // A part's final ids: its local ids in order meet each bucket's share
    // of them in the order they were gathered, so a counter per bucket
    // finds each one's rank (read a bucket's run at a time, not written to
    // scattered places while the buckets were ranked).
    let (table, maps) = rayon::join(
        || spell(&per_bucket),
        || {
            scattered
                .into_par_iter()
                .enumerate()
                .map(|(part, (_, _, of))| {
                    let mut next: Vec<u32> = per_bucket.iter().map(|b| b.starts[part]).collect();
                    of.iter()
                        .map(|&b| {
                            let b = b as usize;
                            let at = next[b];
                            next[b] += 1;
                            match per_bucket[b].ranks[at as usize] {
                                NONE => NONE,
                                r => base[b] + r,
                            }
                        })
                        .collect()
                })
                .collect()
        },
    );
    (table, maps)
}

/// One bucket of [`rank`]: its distinct strings kept, in order; the rank of
/// each entry gathered into it (by its place as gathered, [`NONE`] if not
/// kept); and where each part's entries start among those.
struct Bucket {
    strings: Vec<Entry>,
    ranks: Vec<u32>,
    starts: Vec<u32>,
}

/// How many entries ahead [`spell`] asks for a text to be fetched.
const TEXT_AHEAD: usize = 16;

/// The string table of the ranked strings, bucket after bucket: offsets
/// and text are written in place, a bucket per task (an exact string
/// spelled from its key, any other copied from its part's arena).
fn spell(per_bucket: &[Bucket]) -> StringTable {
    let count: usize = per_bucket.iter().map(|b| b.strings.len()).sum();
    let sizes: Vec<usize> = per_bucket
        .par_iter()
        .map(|b| b.strings.iter().map(Entry::len).sum())
        .collect();
    let mut offsets = vec![0u64; count + 1];
    let mut bytes = vec![0u8; sizes.iter().sum()];
    // each bucket's offsets, text, and where its text starts
    let bases = sizes.iter().scan(0u64, |at, n| {
        let base = *at;
        *at += *n as u64;
        Some(base)
    });
    let offs = split_by_sizes(
        &mut offsets[1..],
        per_bucket.iter().map(|b| b.strings.len()),
    );
    let texts = split_by_sizes(&mut bytes, sizes.iter().copied());
    let places: Vec<_> = offs.into_iter().zip(texts).zip(bases).collect();
    per_bucket
        .par_iter()
        .zip(places)
        .for_each(|(b, ((offs, text), base))| {
            let b = &b.strings;
            let mut at = 0;
            for (k, (e, off)) in b.iter().zip(offs).enumerate() {
                // the text of an entry a few ahead (from an arena, anywhere)
                if let Some(f) = b.get(k + TEXT_AHEAD).filter(|f| !f.spelled()) {
                    let p = f.text as usize as *const u8;
                    crate::trace::prefetch_at(p);
                    crate::trace::prefetch_at(p.wrapping_add(f.len() - 1));
                }
                let n = e.len();
                e.with_text(|s| text[at..at + n].copy_from_slice(s));
                at += n;
                *off = base + at as u64;
            }
        });
    // SAFETY: each string is whole: spelled in ASCII from its key (exact or
    // long hex), or copied from an arena that holds whole `&str`s.
    unsafe { StringTable::from_parts_unchecked(offsets.into(), bytes.into()) }
}

/// The bucket of a prefix: how many splitters are at most it. A binary
/// search over a few thousand splitters mispredicts a branch at most of its
/// steps, for every string; instead, the 16 bits that follow the splitters'
/// common leading bits (every hex string starts with "0x") index a table of
/// where splitters with those bits start, and only splitters sharing them
/// are searched.
struct BucketOf<'s> {
    splitters: &'s [u128],
    /// The leading bits every splitter shares, and their value.
    mask: u128,
    top: u128,
    /// Where the 16 bits below the common ones sit.
    shift: u32,
    /// `start[k]`: splitters whose 16 bits are below `k`.
    start: Vec<u32>,
}

impl<'s> BucketOf<'s> {
    fn new(splitters: &'s [u128]) -> Self {
        let (first, last) = match (splitters.first(), splitters.last()) {
            (Some(f), Some(l)) if splitters.len() > 1 => (*f, *l),
            _ => {
                return BucketOf {
                    splitters,
                    mask: 0,
                    top: 0,
                    shift: 0,
                    start: Vec::new(),
                }
            }
        };
        let common = (first ^ last).leading_zeros().min(112);
        let shift = 128 - common - 16;
        let key = |s: u128| ((s >> shift) & 0xffff) as usize;
        let mut start = vec![0u32; (1 << 16) + 1];
        for s in splitters {
            start[key(*s) + 1] += 1;
        }
        for k in 0..1 << 16 {
            start[k + 1] += start[k];
        }
        let mask = !(u128::MAX >> common);
        BucketOf {
            splitters,
            mask,
            top: first & mask,
            shift,
            start,
        }
    }

    #[inline]
    fn of(&self, p: u128) -> u32 {
        let all = || self.splitters.partition_point(|s| *s <= p) as u32;
        if self.start.is_empty() {
            return all();
        }
        // outside the shared leading bits: before or after every splitter
        let top = p & self.mask;
        if top != self.top {
            return if top < self.top {
                0
            } else {
                self.splitters.len() as u32
            };
        }
        let k = ((p >> self.shift) & 0xffff) as usize;
        let (a, b) = (self.start[k] as usize, self.start[k + 1] as usize);
        (a + self.splitters[a..b].partition_point(|s| *s <= p)) as u32
    }
}

/// The first 16 bytes of `s` as a big-endian integer (zero-padded), which
/// orders like the bytes themselves.
#[inline]
fn prefix(s: &str) -> u128 {
    let b = s.as_bytes();
    if let Some(head) = b.first_chunk::<16>() {
        return u128::from_be_bytes(*head);
    }
    let mut p = [0u8; 16];
    p[..b.len()].copy_from_slice(b);
    u128::from_be_bytes(p)
}

/// A chunk's maps to its part's local ids: a string repeated within a chunk
/// (a transaction's hash on each of its movements, a busy address) gets one
/// id, and its text, where the table keeps it, is copied once.
#[derive(Default)]
pub struct Local<'a> {
    /// Addresses whose sort key spells them, by that key (compared as four
    /// words, not as text).
    exact: FxHashMap<[u64; 4], u32>,
    addr: FxHashMap<&'a str, u32>,
    tx: FxHashMap<&'a str, u32>,
    /// The last transaction looked up: a transaction's movements are
    /// usually on consecutive lines.
    last_tx: Option<(&'a str, u32)>,
    /// The last two addresses looked up, the latest first: a transfer's
    /// sender usually pays its fee on the next line.
    last_addr: [Option<(&'a str, u32)>; 2],
}

thread_local! {
    /// The address map of the thread's last chunk, for the next one.
    static EXACT_MAP: std::cell::Cell<FxHashMap<[u64; 4], u32>> = Default::default();
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        // (a record's own empty map, from `Lowered::push`, is not kept)
        if self.exact.capacity() > 0 {
            EXACT_MAP.set(std::mem::take(&mut self.exact));
        }
    }
}

impl<'a> Local<'a> {
    /// For a chunk of about `records` records.
    pub fn with_capacity(records: usize) -> Self {
        let map = || FxHashMap::with_capacity_and_hasher(records, Default::default());
        // the thread's map of its previous chunk: cleared, its memory is
        // already mapped and mostly in cache
        let mut exact = EXACT_MAP.take();
        exact.clear();
        exact.reserve(records);
        Local {
            exact,
            addr: FxHashMap::default(),
            tx: map(),
            last_tx: None,
            last_addr: [None; 2],
        }
    }

    #[inline]
    fn id(map: &mut FxHashMap<&'a str, u32>, table: &mut Table, s: &Str<'a>) -> u32 {
        match s {
            Cow::Borrowed(b) => *map.entry(b).or_insert_with(|| table.push(b)),
            Cow::Owned(o) => table.intern(o),
        }
    }

    #[inline]
    fn addr(&mut self, ids: &mut Ids, s: &Str<'a>) -> u32 {
        let Cow::Borrowed(b) = s else {
            return Self::id(&mut self.addr, &mut ids.addr, s);
        };
        for (last, id) in self.last_addr.iter().flatten() {
            if *b == *last {
                return *id;
            }
        }
        let key = sort_key(b);
        let id = if key.words[3] & EXACT != 0 {
            let table = &mut ids.addr;
            *self
                .exact
                .entry(key.words)
                .or_insert_with(|| table.push_key(b, key))
        } else {
            Self::id(&mut self.addr, &mut ids.addr, s)
        };
        self.last_addr = [Some((b, id)), self.last_addr[0]];
        id
    }

    #[inline]
    fn tx(&mut self, ids: &mut Ids, s: &Str<'a>) -> u32 {
        if let (Cow::Borrowed(b), Some((last, id))) = (s, self.last_tx) {
            if *b == last {
                return id;
            }
        }
        let id = Self::id(&mut self.tx, &mut ids.tx, s);
        if let Cow::Borrowed(b) = s {
            self.last_tx = Some((b, id));
        }
        id
    }

    #[inline]
    fn opt_addr(&mut self, ids: &mut Ids, s: &Option<Str<'a>>) -> u32 {
        s.as_ref().map_or(NONE, |s| self.addr(ids, s))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LTx {
    pub hash: u32,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub fee: Option<Amount>,
    pub failed: bool,
    pub gas_price: Option<Amount>,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LToken {
    pub tx: u32,
    pub log_index: u64,
    pub block: u64,
    pub time: Option<u64>,
    pub token: u32,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LInternal {
    /// 128-bit hash of the record's identity (`trace_id` or equivalent).
    pub id: u128,
    pub source: TraceSource,
    pub tx: u32,
    pub block: u64,
    pub time: Option<u64>,
    pub tx_index: Option<u32>,
    pub trace_address: Vec<u32>,
    pub from: u32,
    pub to: u32,
    pub value: Amount,
    pub reward: bool,
    pub moves: bool,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LMove {
    pub tx: u32,
    pub block: u64,
    pub time: u64,
    pub tx_index: u32,
    pub seq: u32,
    pub from: u32,
    pub to: u32,
    pub asset: u32,
    pub amount: Amount,
    pub kind: MoveKind,
    // No line: the build rejects no single movement, and these are the
    // bulk of a large ledger (64 bytes each, not 80).
}

// A large ledger's movements are held in this form until the build.
const _: () = assert!(std::mem::size_of::<LMove>() == 64);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LInput {
    pub prev: u32,
    pub vout: u32,
    pub owner: u32,
    pub value: Option<Amount>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LUtxo {
    pub txid: u32,
    pub block: BlockRef,
    pub index: Option<u32>,
    pub time: u64,
    pub coinbase: bool,
    pub asset: u32,
    pub inputs: Vec<LInput>,
    /// (owner, value) in output order.
    pub outputs: Vec<(u32, Amount)>,
    pub loc: Loc,
}

/// A chunk's (or a whole build's) lowered records.
#[derive(Default)]
pub struct Lowered {
    pub txs: Vec<LTx>,
    pub tokens: Vec<LToken>,
    pub internals: Vec<LInternal>,
    pub utxos: Vec<LUtxo>,
    pub moves: Vec<LMove>,
    pub assets: Vec<RawAsset>,
    /// Chain-tip heights revealed by `getblock` confirmations.
    pub tips: Vec<u64>,
    /// The part's strings (its records hold their local ids until
    /// [`Lowered::concat_remap`]).
    pub ids: Ids,
    /// The last asset interned: most records of a chunk name the same one.
    last_asset: Option<(String, u32)>,
}

impl Lowered {
    fn asset(&mut self, name: &str) -> u32 {
        match &self.last_asset {
            Some((n, id)) if n == name => *id,
            _ => {
                let id = self.ids.asset.intern(name);
                self.last_asset = Some((name.to_string(), id));
                id
            }
        }
    }

    /// [`Lowered::push`] for a record with borrowed strings, interning
    /// through the chunk's `local` ids.
    /// Room for `n` more records of each kind this part already holds (a
    /// chunk's records are mostly of one kind): its records are then written
    /// once, not copied at every doubling of their vector.
    pub fn reserve_like(&mut self, n: usize) {
        fn more<T>(v: &mut Vec<T>, n: usize) {
            if !v.is_empty() {
                v.reserve(n);
            }
        }
        more(&mut self.txs, n);
        more(&mut self.tokens, n);
        more(&mut self.internals, n);
        more(&mut self.utxos, n);
        more(&mut self.moves, n);
    }

    pub fn push_ref<'a>(&mut self, raw: RawRef<'a>, loc: Loc, local: &mut Local<'a>) {
        let i = &mut self.ids;
        match raw {
            RawRef::AccountTx(t) => self.txs.push(LTx {
                hash: local.tx(i, &t.hash),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                from: local.addr(i, &t.from),
                to: local.opt_addr(i, &t.to),
                value: t.value,
                fee: t.fee,
                failed: t.failed,
                gas_price: t.gas_price,
                loc,
            }),
            RawRef::Token(t) => {
                let token = self.asset(&t.token);
                let i = &mut self.ids;
                self.tokens.push(LToken {
                    tx: local.tx(i, &t.tx_hash),
                    log_index: t.log_index,
                    block: t.block,
                    time: t.time,
                    token,
                    from: local.addr(i, &t.from),
                    to: local.addr(i, &t.to),
                    value: t.value,
                    loc,
                })
            }
            RawRef::Internal(t) => self.internals.push(LInternal {
                id: xxhash_rust::xxh3::xxh3_128(t.id.as_bytes()),
                source: t.source,
                tx: t.tx_hash.as_ref().map_or(NONE, |h| local.tx(i, h)),
                block: t.block,
                time: t.time,
                tx_index: t.tx_index,
                trace_address: t.trace_address,
                from: local.opt_addr(i, &t.from),
                to: local.opt_addr(i, &t.to),
                value: t.value,
                reward: t.reward,
                moves: t.moves,
                loc,
            }),
            RawRef::Move(m) => {
                let asset = self.asset(&m.asset);
                let i = &mut self.ids;
                self.moves.push(LMove {
                    tx: m.tx_hash.as_ref().map_or(NONE, |h| local.tx(i, h)),
                    block: m.block,
                    time: m.time,
                    tx_index: m.tx_index,
                    seq: m.seq,
                    from: local.opt_addr(i, &m.from),
                    to: local.opt_addr(i, &m.to),
                    asset,
                    amount: m.amount,
                    kind: m.kind,
                })
            }
            RawRef::Utxo(u) => {
                let asset = self.asset(&u.asset);
                let i = &mut self.ids;
                self.utxos.push(LUtxo {
                    txid: local.tx(i, &u.txid),
                    block: u.block,
                    index: u.index,
                    time: u.time,
                    coinbase: u.coinbase,
                    asset,
                    inputs: u
                        .inputs
                        .iter()
                        .map(|x| LInput {
                            prev: local.tx(i, &x.prev_txid),
                            vout: x.vout,
                            owner: local.opt_addr(i, &x.owner),
                            value: x.value,
                        })
                        .collect(),
                    outputs: u
                        .outputs
                        .iter()
                        .map(|o| (local.addr(i, &o.owner), o.value))
                        .collect(),
                    loc,
                })
            }
            RawRef::Owned(r) => self.push(r, loc),
        }
    }

    /// Lower an owned record: the kinds the fast parsers borrow go through
    /// [`Lowered::push_ref`] with their strings owned (interned straight
    /// into the part's tables), so there is one lowering of each kind.
    pub fn push(&mut self, raw: Raw, loc: Loc) {
        match raw {
            Raw::AccountTx(_) | Raw::Token(_) | Raw::Internal(_) | Raw::Move(_) | Raw::Utxo(_) => {
                self.push_ref(raw.into_ref(), loc, &mut Local::default())
            }
            Raw::Asset(x) => self.assets.push(x),
            Raw::BlockSeen(b) => self.tips.push(b.height + b.confirmations - 1),
        }
    }

    /// All parts in one with final ids: each part's records are remapped
    /// with its own maps (from [`rank`]) while they are moved into place, in
    /// parallel, and each vector is allocated once at its final size (the
    /// parts of a large file add up to gigabytes). Transactions and
    /// movements, the bulk of a large ledger, are remapped where they lie
    /// and returned per part (`txs` and `moves` of the result are empty):
    /// the build reads them in place instead of copying them all once more.
    pub fn concat_remap(
        parts: Vec<Lowered>,
        addr: &[Vec<u32>],
        tx: &[Vec<u32>],
        asset: &[Vec<u32>],
    ) -> (Lowered, Vec<Vec<LTx>>, Vec<Vec<LMove>>) {
        let m = |map: &[u32], id: u32| if id == NONE { NONE } else { map[id as usize] };
        let mut txs = Vec::with_capacity(parts.len());
        let mut tokens = Vec::with_capacity(parts.len());
        let mut internals = Vec::with_capacity(parts.len());
        let mut utxos = Vec::with_capacity(parts.len());
        let mut moves = Vec::with_capacity(parts.len());
        let mut all = Lowered::default();
        for p in parts {
            txs.push(p.txs);
            tokens.push(p.tokens);
            internals.push(p.internals);
            utxos.push(p.utxos);
            moves.push(p.moves);
            all.assets.extend(p.assets);
            all.tips.extend(p.tips);
        }
        in_place(&mut txs, |k, t| {
            t.hash = m(&tx[k], t.hash);
            t.from = m(&addr[k], t.from);
            t.to = m(&addr[k], t.to);
        });
        all.tokens = gather(tokens, |k, t| {
            t.tx = m(&tx[k], t.tx);
            t.token = m(&asset[k], t.token);
            t.from = m(&addr[k], t.from);
            t.to = m(&addr[k], t.to);
        });
        all.internals = gather(internals, |k, t| {
            t.tx = m(&tx[k], t.tx);
            t.from = m(&addr[k], t.from);
            t.to = m(&addr[k], t.to);
        });
        all.utxos = gather(utxos, |k, u| {
            u.txid = m(&tx[k], u.txid);
            u.asset = m(&asset[k], u.asset);
            for i in &mut u.inputs {
                i.prev = m(&tx[k], i.prev);
                i.owner = m(&addr[k], i.owner);
            }
            for o in &mut u.outputs {
                o.0 = m(&addr[k], o.0);
            }
        });
        in_place(&mut moves, |k, t| {
            t.tx = m(&tx[k], t.tx);
            t.from = m(&addr[k], t.from);
            t.to = m(&addr[k], t.to);
            t.asset = m(&asset[k], t.asset);
        });
        (all, txs, moves)
    }

    /// Add `n` to the line number of every record (a chunk numbered from 1
    /// moved to where it starts in its file).
    pub fn shift_lines(&mut self, n: u64) {
        self.txs.iter_mut().for_each(|t| t.loc.line += n);
        self.tokens.iter_mut().for_each(|t| t.loc.line += n);
        self.internals.iter_mut().for_each(|t| t.loc.line += n);
        self.utxos.iter_mut().for_each(|t| t.loc.line += n);
    }
}

/// `s` cut into consecutive pieces of the given sizes (which must add up
/// to at most its length), for tasks that each fill their own piece.
pub(super) fn split_by_sizes<T>(
    mut s: &mut [T],
    sizes: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    let sizes = sizes.into_iter();
    let mut pieces = Vec::with_capacity(sizes.size_hint().0);
    for n in sizes {
        let (piece, rest) = std::mem::take(&mut s).split_at_mut(n);
        pieces.push(piece);
        s = rest;
    }
    pieces
}

/// Each part's records passed through `f` with its part's index, where
/// they lie, the parts in parallel.
fn in_place<T: Send>(parts: &mut [Vec<T>], f: impl Fn(usize, &mut T) + Sync) {
    parts
        .par_iter_mut()
        .enumerate()
        .for_each(|(k, part)| part.iter_mut().for_each(|t| f(k, t)));
}

/// The parts' records in one vector, in order, each passed through `f` with
/// its part's index on the way; the parts are moved in parallel.
fn gather<T: Send>(parts: Vec<Vec<T>>, f: impl Fn(usize, &mut T) + Sync) -> Vec<T> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut all: Vec<T> = Vec::with_capacity(total);
    let slots = split_by_sizes(
        &mut all.spare_capacity_mut()[..total],
        parts.iter().map(Vec::len),
    );
    parts
        .into_par_iter()
        .zip(slots)
        .enumerate()
        .for_each(|(k, (p, slot))| {
            for (s, mut x) in slot.iter_mut().zip(p) {
                f(k, &mut x);
                s.write(x);
            }
        });
    // SAFETY: the slots cover the first `total` elements, and each was
    // written (a slot is as long as its part; had `f` panicked, this line
    // would not be reached and the written elements would only leak).
    unsafe { all.set_len(total) };
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rank every string of `parts` and check the result against a plain
    /// sort and dedup: the ranked strings, and the final id of each
    /// `(text, part, local id)` in `ids`.
    fn assert_ranks_like_a_sort(parts: &[Table], ids: &[(&str, usize, u32)]) {
        let tables: Vec<&Table> = parts.iter().collect();
        let (strs, maps) = rank(&tables, |_, _| true);
        let mut want: Vec<&str> = ids.iter().map(|(w, _, _)| *w).collect();
        want.sort();
        want.dedup();
        assert_eq!(strs.iter().collect::<Vec<_>>(), want);
        for (w, p, id) in ids {
            assert_eq!(strs.get(maps[*p][*id as usize] as usize), *w);
        }
    }

    #[test]
    fn ids_are_ranks_of_the_sorted_strings() {
        let words = [
            "0xab", "0xAB", "ab", "0x", "z", "0xab", "ETH", "0", "ab\0", "a",
        ];
        // parts of every size, and strings repeated within and across them
        for cut in 0..words.len() {
            let mut parts = [Table::default(), Table::default()];
            let ids: Vec<(usize, u32)> = words
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let p = usize::from(k >= cut);
                    let id = if k % 2 == 0 {
                        parts[p].intern(w)
                    } else {
                        parts[p].push(w)
                    };
                    (p, id)
                })
                .collect();
            let tables: Vec<&Table> = parts.iter().collect();
            let (strs, maps) = rank(&tables, |_, _| true);
            let mut want: Vec<&str> = words.to_vec();
            want.sort();
            want.dedup();
            assert_eq!(strs.iter().collect::<Vec<_>>(), want);
            for (w, (p, id)) in words.iter().zip(&ids) {
                assert_eq!(strs.get(maps[*p][*id as usize] as usize), *w);
            }
            // a string not kept has no final id and no rank
            let text = |p: usize, id: u32| {
                let k = ids
                    .iter()
                    .position(|x| *x == (p, id))
                    .expect("an id handed out");
                words[k]
            };
            let (strs, maps) = rank(&tables, |p, id| text(p, id) != "z");
            assert!(!strs.iter().any(|s| s == "z"));
            assert_eq!(strs.len(), want.len() - 1);
            for (p, m) in maps.iter().enumerate() {
                for (id, f) in m.iter().enumerate() {
                    let w = text(p, id as u32);
                    if w == "z" {
                        assert_eq!(*f, NONE);
                    } else {
                        assert_eq!(strs.get(*f as usize), w);
                    }
                }
            }
        }
    }

    #[test]
    fn tails_order_and_merge_like_the_text() {
        // one 16-byte prefix, tails exact (lower-case hex, up to 30 digits),
        // long (31 to 52 digits) and neither (upper case, other bytes, 53
        // digits, shorter strings), each in two parts, some twice
        let head = "0x00000000000000";
        let tails = [
            "",
            "0",
            "00",
            "000",
            "a",
            "a0",
            "a00",
            "f",
            "g",
            "A",
            "0a",
            "9",
            "\0",
            "0\0",
            "ab",
            "aB",
            "123456789abcdef0123456789abcde",
            "123456789abcdef0123456789abcdf",
            "123456789abcdef0123456789abcde0",
            "123456789abcdef0123456789abcdz",
            "123456789abcdef0123456789abcde00",
            "123456789abcdef0123456789abcdf0",
            "123456789abcdef0123456789abcde1",
            "123456789abcdef0123456789abcdef0123456789abcdef0",
            "123456789abcdef0123456789abcdef0123456789abcdef00",
            "123456789abcdef0123456789abcdef0123456789abcdef0123",
            "123456789abcdef0123456789abcdef0123456789abcdef01230",
            "123456789abcdef0123456789abcdef0123456789abcdef01231",
            "123456789abcdef0123456789abcdef0123456789abcdef012300",
            "123456789abcdef0123456789abcdef0123456789abcdef0123g",
            "fedcba9876543210fedcba9876543210fedcba9876543210fedc",
        ];
        let mut words: Vec<String> = tails.iter().map(|t| format!("{head}{t}")).collect();
        words.extend(["0x0000000000000", "0x000000000000000\0"].map(String::from));
        // a transaction hash: 0x and 64 digits
        words.push(format!("0x{}", "9f".repeat(32)));
        for w in &words {
            let hex = w.len() >= 16
                && w[16..]
                    .bytes()
                    .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
            let digits = w.len().saturating_sub(16);
            let (t, _, _) = tail(w);
            assert_eq!(t[1] & EXACT != 0, hex && digits <= 30, "{w:?}");
            assert_eq!(
                t[1] & LONG != 0,
                hex && (31..=52).contains(&digits),
                "{w:?}"
            );
        }
        let mut parts = [Table::default(), Table::default(), Table::default()];
        let mut ids = Vec::new();
        for (k, w) in words.iter().chain(words.iter().rev()).enumerate() {
            let p = k % 3;
            let id = if k % 2 == 0 {
                parts[p].intern(w)
            } else {
                parts[p].push(w)
            };
            ids.push((w.as_str(), p, id));
        }
        assert_ranks_like_a_sort(&parts, &ids);
    }

    #[test]
    fn hex_hashes_are_spelled_by_their_keys() {
        // transaction hashes (0x and 64 digits, or 64 digits) pushed into a
        // part keep no copy of their text; their keys spell them
        let hashes = [
            format!("0x{}", "0123456789abcdef".repeat(4)),
            "fedcba9876543210".repeat(4),
            format!("0x{}", "0".repeat(64)),
        ];
        let mut t = Table::default();
        let ids: Vec<u32> = hashes.iter().map(|h| t.push(h)).collect();
        assert!(t.arena.blocks.is_empty());
        for (h, id) in hashes.iter().zip(ids) {
            let e = t.entry(id as usize, true);
            assert!(e.long());
            assert_eq!(e.with_text(|b| b.to_vec()), h.as_bytes());
        }
    }

    proptest::proptest! {
        /// Ranking gives the sorted distinct strings whatever mix of exact,
        /// long and hashed tails shares a prefix, and however the strings
        /// are spread over parts.
        #[test]
        fn rank_is_sort_and_dedup(
            words in proptest::collection::vec(
                // hex tails of every kind, and tails of any bytes
                (0usize..3, "[01af9]{0,56}|[01af9gA\\x00]{0,34}", 0usize..4),
                1..200,
            )
        ) {
            let heads = ["0x00000000000000", "0x0000000000000a", "0x00000000000"];
            let texts: Vec<String> = words.iter().map(|(h, t, _)| format!("{}{t}", heads[*h])).collect();
            let mut parts: Vec<Table> = (0..4).map(|_| Table::default()).collect();
            let ids: Vec<(&str, usize, u32)> = texts
                .iter()
                .zip(&words)
                .enumerate()
                .map(|(k, (w, (_, _, p)))| {
                    // interned (text kept) or pushed (text kept only when
                    // the key does not spell it)
                    let id = if k % 2 == 0 { parts[*p].intern(w) } else { parts[*p].push(w) };
                    (w.as_str(), *p, id)
                })
                .collect();
            assert_ranks_like_a_sort(&parts, &ids);
        }
    }

    proptest::proptest! {
        /// Sixteen bytes at a time: hex digits are told from every other
        /// byte, and their value is the digits read one by one.
        #[test]
        fn hex16_value_reads_hex_digits_like_one_at_a_time(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"0123456789abcdef".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                16,
            )
        ) {
            let d: [u8; 16] = bytes.clone().try_into().unwrap();
            let (value, hex) = hex16_value(&d);
            // the same without SSE2 (the value only counts for digits)
            let (words, words_hex) = hex16_value_by_words(&d);
            proptest::prop_assert_eq!(words_hex, hex);
            if hex {
                proptest::prop_assert_eq!(words, value);
            }
            let digit = |c: u8| (c as char).to_digit(16).filter(|_| !c.is_ascii_uppercase());
            let want = bytes.iter().map(|c| digit(*c)).collect::<Option<Vec<u32>>>();
            proptest::prop_assert_eq!(hex, want.is_some());
            if let Some(d) = want {
                proptest::prop_assert_eq!(value, d.iter().fold(0, |v, d| v << 4 | *d as u64));
            }
        }
    }

    proptest::proptest! {
        /// Sixteen digits at a time: spelled like `format!("{:016x}")`.
        #[test]
        fn hex16_spells_like_format(v in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(hex16(v).to_vec(), format!("{v:016x}").into_bytes());
        }
    }

    proptest::proptest! {
        /// Eight bytes at a time: hex digits are told from every other
        /// byte, and their value is the digits read one by one.
        #[test]
        fn hex8_reads_hex_digits_like_one_at_a_time(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"0123456789abcdef".to_vec()),
                    proptest::num::u8::ANY,
                ],
                8,
            )
        ) {
            let w: [u8; 8] = bytes.clone().try_into().unwrap();
            let (value, hex) = hex8(u64::from_le_bytes(w));
            let digit = |c: u8| (c as char).to_digit(16).filter(|_| !c.is_ascii_uppercase());
            let want = bytes.iter().map(|c| digit(*c)).collect::<Option<Vec<u32>>>();
            proptest::prop_assert_eq!(hex, want.is_some());
            if let Some(d) = want {
                proptest::prop_assert_eq!(value, d.iter().fold(0, |v, d| v << 4 | d));
            }
        }
    }

    proptest::proptest! {
        /// The bucket table finds what a binary search over all splitters
        /// finds: for splitters that share leading bits (as "0x" strings
        /// do) or not, and prefixes inside, below and above their range.
        #[test]
        fn bucket_table_is_a_binary_search(
            common in 0u32..128,
            top in proptest::num::u128::ANY,
            low in proptest::collection::vec(proptest::num::u128::ANY, 0..300),
            probes in proptest::collection::vec((proptest::num::u128::ANY, 0usize..3), 0..300),
        ) {
            // splitters: `common` leading bits of `top`, then anything
            let keep = if common == 0 { 0 } else { u128::MAX << (128 - common) };
            let mut splitters: Vec<u128> = low.iter().map(|l| (top & keep) | (l & !keep)).collect();
            splitters.sort_unstable();
            splitters.dedup();
            let finder = BucketOf::new(&splitters);
            for (k, (p, how)) in probes.iter().enumerate() {
                // a splitter itself, a prefix in their range, or any prefix
                let p = match how {
                    0 if !splitters.is_empty() => splitters[k % splitters.len()],
                    1 => (top & keep) | (p & !keep),
                    _ => *p,
                };
                proptest::prop_assert_eq!(
                    finder.of(p),
                    splitters.partition_point(|s| *s <= p) as u32
                );
            }
        }
    }

    #[test]
    fn many_buckets_rank_like_one_sort() {
        // enough strings for several buckets, spread over parts
        let words: Vec<String> = (0..40_000u64)
            .map(|k| {
                format!(
                    "0x{:016x}{}",
                    k.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 7919,
                    k % 3
                )
            })
            .collect();
        let mut parts: Vec<Table> = (0..7).map(|_| Table::default()).collect();
        let ids: Vec<(&str, usize, u32)> = words
            .iter()
            .enumerate()
            .map(|(k, w)| (w.as_str(), k % 7, parts[k % 7].intern(w)))
            .collect();
        assert_ranks_like_a_sort(&parts, &ids);
    }
}
