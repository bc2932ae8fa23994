//! Field rules the record parsers share: how a field's JSON text becomes a
//! value, and what the user is told when it cannot.
//!
//! - Decoding: zero-copy strings ([`Text`]), decoding a record with the path
//!   of the field that is wrong ([`decode`], [`decode_object`]), null kept
//!   apart from absent ([`keep_null`]).
//! - Messages: offending text cut short ([`short`]), amount errors in words
//!   ([`amount_message`]).
//! - Bitcoin family (`bitcoin_etl`, `bitcoin_rpc`): addresses, txids, output
//!   order.
//! - EVM family (`ethereum_etl`, `etherscan`): present/absent values, EVM
//!   addresses, whole numbers, fees, block times, token metadata.
//!
//! No IO and no state: each function reads one field.

use super::raw::FieldError;
use crate::amount::{self, AmountError};
use crate::model::{is_evm_address, Amount};
use serde::de::{Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// A JSON string, borrowed from the record's text (owned only when the JSON
/// string holds escape sequences, e.g. Python's `json.dumps` writes non-ASCII
/// token symbols as `\u` escapes, so valid JSON is never refused for that).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// A JSON value's text, borrowed from the record: what serde_json's
/// `RawValue` holds (read through it), or what the plain reader
/// ([`super::plain`]) found. Numbers are kept so because exports write
/// them as integers or strings, and amounts exceed 2^64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RawJson<'a>(pub(super) &'a str);

impl<'a> RawJson<'a> {
    /// The value's JSON text (a string with its quotes).
    pub(super) fn get(self) -> &'a str {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(|v| RawJson(v.get()))
    }
}

/// For `#[serde(default, deserialize_with = "keep_null")]`: absent is `None`,
/// `null` is `Some(None)`, so a record's key shape can be read.
pub(super) fn keep_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// How a value of the wrong JSON type is described. Each family's parsers
/// (and their tests) use their own wording; everything else is common.
#[derive(Copy, Clone)]
enum TypeWording {
    /// `expected a whole number (0 or more), found string "x"`: the Bitcoin
    /// family and the native format, whose records have typed numbers.
    ExpectedFound,
    /// `wrong type: integer `17`, expected a string`: the EVM family.
    WrongType,
}

/// Deserialise one record. Only when that fails is the text decoded again,
/// tracking the path, to name the field that is wrong.
pub(super) fn decode<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, FieldError> {
    serde_json::from_str(text).map_err(|e| locate::<T>(text, e, TypeWording::ExpectedFound))
}

/// [`decode`] a record that must be a JSON object, `what` naming it for the
/// user.
pub(super) fn decode_object<'a, T: Deserialize<'a>>(
    text: &'a str,
    what: &str,
) -> Result<T, FieldError> {
    // serde would also read a struct from a JSON array, by position: refuse.
    if !text.trim_start().starts_with('{') {
        return Err(FieldError::new(
            "",
            format!(
                "not a JSON object: expected {what}, found {}",
                short(text.trim())
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| locate::<T>(text, e, TypeWording::WrongType))
}

/// The second, slower pass that only failing records pay for.
#[cold]
fn locate<'a, T: Deserialize<'a>>(
    text: &'a str,
    first: serde_json::Error,
    wording: TypeWording,
) -> FieldError {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => field_error(&e.path().to_string(), e.inner(), wording),
        // Only trailing text can fail the first pass and not this one.
        Ok(_) => field_error("", &first, wording),
    }
}

/// Turn a serde error at `path` into a field and a message a user can act on.
fn field_error(path: &str, e: &serde_json::Error, wording: TypeWording) -> FieldError {
    use serde_json::error::Category;
    // `.` is the record itself, `?` a key not yet read (cut-off text).
    let path = if path == "." || path == "?" { "" } else { path };
    let full = e.to_string();
    let msg = strip_position(&full);
    let message = match e.classify() {
        Category::Eof => "the record ends too early: it is cut off or not closed".to_string(),
        Category::Syntax => format!("not valid JSON: {msg} (column {})", e.column()),
        Category::Io => msg.to_string(),
        Category::Data => {
            if let Some(rest) = msg.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or("");
                let field = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                return FieldError::new(field, "required field is missing");
            }
            match wording {
                TypeWording::ExpectedFound => expected_found(msg),
                TypeWording::WrongType => match msg.strip_prefix("invalid type: ") {
                    Some(rest) => format!("wrong type: {rest}"),
                    None => msg.to_string(),
                },
            }
        }
    };
    FieldError::new(path, short_message(&message))
}

/// `invalid type: string "x", expected u64` as `expected a whole number (0 or
/// more), found string "x"`.
fn expected_found(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                return format!(
                    "expected {}, found {}",
                    expected_words(expected),
                    short(&found.replace('`', ""))
                );
            }
        }
    }
    msg.to_string()
}

fn expected_words(expected: &str) -> String {
    match expected {
        "u64" | "u128" => "a whole number (0 or more)".to_string(),
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "u8" => "a whole number from 0 to 255".to_string(),
        "a sequence" => "a list".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e => e.to_string(),
    }
}

/// serde_json appends ` at line L column C`, which is relative to the record,
/// not the file: drop it (the reject already names the file line).
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    }
}

// ---------------------------------------------------------------------------
// Canonical text in one pass, borrowed when it already is canonical
// ---------------------------------------------------------------------------

/// Byte classes for checking names, hashes and addresses in one pass.
pub(super) const HEX: u8 = 1;
/// `A`-`Z`: what lower-casing changes.
pub(super) const UPPER: u8 = 2;
pub(super) const ALNUM: u8 = 4;
/// Not allowed in a plain name: ASCII whitespace, `,`, control characters.
pub(super) const BAD: u8 = 8;
/// Not ASCII: such text takes the general (`char`) path.
pub(super) const NONASCII: u8 = 16;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut k = 0;
        if c.is_ascii_hexdigit() {
            k |= HEX;
        }
        if c.is_ascii_uppercase() {
            k |= UPPER;
        }
        if c.is_ascii_alphanumeric() {
            k |= ALNUM;
        }
        if c.is_ascii_whitespace() || c == b',' || c.is_ascii_control() {
            k |= BAD;
        }
        if !c.is_ascii() {
            k |= NONASCII;
        }
        t[i] = k;
        i += 1;
    }
    t
};

/// The classes every byte of a text has (`all`) and some byte has (`any`).
#[derive(Copy, Clone)]
pub(super) struct Scan {
    pub(super) all: u8,
    pub(super) any: u8,
}

#[inline]
pub(super) fn scan(b: &[u8]) -> Scan {
    #[cfg(target_arch = "x86_64")]
    if b.len() >= 16 {
        // SAFETY: SSE2 is part of x86_64; the text is at least one block.
        return unsafe { scan_blocks(b) };
    }
    scan_bytes(b)
}

/// [`scan`] a byte at a time, through the class table.
#[inline]
fn scan_bytes(b: &[u8]) -> Scan {
    let (mut all, mut any) = (0xffu8, 0u8);
    for &c in b {
        let k = CLASS[c as usize];
        all &= k;
        any |= k;
    }
    Scan { all, any }
}

/// [`scan`] of at least 16 bytes, 16 at a time: each byte's classes are
/// worked out by comparisons, as the class table has them. The last block
/// is the text's last 16 bytes, which may overlap the one before: a byte
/// seen twice changes neither what all bytes have nor what some byte has.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn scan_blocks(b: &[u8]) -> Scan {
    use std::arch::x86_64::*;
    let splat = |c: u8| _mm_set1_epi8(c as i8);
    // signed compares: a byte from 0x80 up is negative, so it is in no
    // ASCII range, and is what NONASCII marks
    let within = |v: __m128i, lo: u8, hi: u8| {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, splat(lo - 1)),
            _mm_cmplt_epi8(v, splat(hi + 1)),
        )
    };
    let classes = |v: __m128i| {
        let digit = within(v, b'0', b'9');
        let upper = within(v, b'A', b'Z');
        let lower = within(v, b'a', b'z');
        let hex = _mm_or_si128(
            digit,
            _mm_or_si128(within(v, b'a', b'f'), within(v, b'A', b'F')),
        );
        let alnum = _mm_or_si128(digit, _mm_or_si128(upper, lower));
        // whitespace and control characters are 0x00-0x20 and 0x7f
        let bad = _mm_or_si128(
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)),
                _mm_cmplt_epi8(v, splat(0x21)),
            ),
            _mm_or_si128(
                _mm_cmpeq_epi8(v, splat(0x7f)),
                _mm_cmpeq_epi8(v, splat(b',')),
            ),
        );
        let nonascii = _mm_cmplt_epi8(v, _mm_setzero_si128());
        let k = _mm_or_si128(
            _mm_and_si128(hex, splat(HEX)),
            _mm_or_si128(
                _mm_and_si128(upper, splat(UPPER)),
                _mm_and_si128(alnum, splat(ALNUM)),
            ),
        );
        _mm_or_si128(
            k,
            _mm_or_si128(
                _mm_and_si128(bad, splat(BAD)),
                _mm_and_si128(nonascii, splat(NONASCII)),
            ),
        )
    };
    let load = |at: usize| _mm_loadu_si128(b.as_ptr().add(at).cast());
    let mut all = _mm_set1_epi8(-1);
    let mut any = _mm_setzero_si128();
    let mut at = 0;
    while at + 16 < b.len() {
        let k = classes(load(at));
        all = _mm_and_si128(all, k);
        any = _mm_or_si128(any, k);
        at += 16;
    }
    let k = classes(load(b.len() - 16));
    all = _mm_and_si128(all, k);
    any = _mm_or_si128(any, k);
    // fold the 16 lanes into one
    let mut a = [0u8; 16];
    let mut o = [0u8; 16];
    _mm_storeu_si128(a.as_mut_ptr().cast(), all);
    _mm_storeu_si128(o.as_mut_ptr().cast(), any);
    let fold = |x: [u8; 16], f: fn(u64, u64) -> u64| {
        let w = f(
            u64::from_le_bytes(x[..8].try_into().unwrap_or_default()),
            u64::from_le_bytes(x[8..].try_into().unwrap_or_default()),
        );
        let w = f(w, w >> 32);
        let w = f(w, w >> 16);
        f(w, w >> 8) as u8
    };
    Scan {
        all: fold(a, |x, y| x & y),
        any: fold(o, |x, y| x | y),
    }
}

/// Whether `b` is one or more lower-case hex digits (`0`-`9`, `a`-`f`):
/// the digits of a canonical address or hash, checked 16 at a time.
#[inline]
pub(super) fn lower_hex(b: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if b.len() >= 16 {
        // SAFETY: SSE2 is part of x86_64; the text is at least one block.
        return unsafe { lower_hex_blocks(b) };
    }
    !b.is_empty() && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// [`lower_hex`] of at least 16 bytes, 16 at a time (the last block may
/// overlap the one before).
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn lower_hex_blocks(b: &[u8]) -> bool {
    use std::arch::x86_64::*;
    let splat = |c: u8| _mm_set1_epi8(c as i8);
    let hex = |at: usize| {
        let v = _mm_loadu_si128(b.as_ptr().add(at).cast());
        // (signed compares: bytes from 0x80 up are below both ranges)
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(v, splat(b'0' - 1)),
            _mm_cmplt_epi8(v, splat(b'9' + 1)),
        );
        let letter = _mm_and_si128(
            _mm_cmpgt_epi8(v, splat(b'a' - 1)),
            _mm_cmplt_epi8(v, splat(b'f' + 1)),
        );
        _mm_or_si128(digit, letter)
    };
    let mut all = hex(b.len() - 16);
    let mut at = 0;
    while at + 16 < b.len() {
        all = _mm_and_si128(all, hex(at));
        at += 16;
    }
    _mm_movemask_epi8(all) == 0xffff
}

/// `s` with ASCII letters lower-cased; borrowed when `upper` (whether `s`
/// has an upper-case letter) is false.
#[inline]
pub(super) fn lowered(s: &str, upper: bool) -> Cow<'_, str> {
    if upper {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `s` as a canonical (lower-case) EVM address if it is one (`0x` and 40 hex
/// digits, any case, nothing around them): `is_evm_address` and the
/// lower-casing of `canonical_address` in one pass.
#[inline]
pub(super) fn evm_canonical(s: &str) -> Option<Cow<'_, str>> {
    let b = s.as_bytes();
    if b.len() != 42 || b[0] != b'0' || (b[1] != b'x' && b[1] != b'X') {
        return None;
    }
    let k = scan(&b[2..]);
    (k.all & HEX != 0).then(|| lowered(s, b[1] == b'X' || k.any & UPPER != 0))
}

/// Whether `b`, whose [`scan`] is `k`, is an address that
/// `model::canonical_address` lower-cases as bech32 (`bc1…` and the like,
/// letters and digits only).
#[inline]
pub(super) fn bech32_like(b: &[u8], k: Scan) -> bool {
    b.len() >= 8
        && ["bc1", "tb1", "ltc1", "bcrt1"]
            .iter()
            .any(|p| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
        && k.all & ALNUM != 0
}

/// Run `f` on the text of `t`, keeping what it borrows borrowed from the
/// record (when `t` is: a JSON string without escapes).
#[inline]
pub(super) fn lift<'a, E>(
    t: &Text<'a>,
    f: impl for<'s> FnOnce(&'s str) -> Result<Cow<'s, str>, E>,
) -> Result<Cow<'a, str>, E> {
    match &t.0 {
        Cow::Borrowed(s) => f(s),
        Cow::Owned(s) => f(s).map(|c| Cow::Owned(c.into_owned())),
    }
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// Offending text for a message, cut to a readable length (its start, its
/// end and how long it is).
pub(super) fn short(s: &str) -> Cow<'_, str> {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        return Cow::Borrowed(s);
    }
    let head: String = s.chars().take(MAX - 20).collect();
    let tail_start = s.char_indices().rev().nth(15).map(|(i, _)| i).unwrap_or(0);
    Cow::Owned(format!(
        "{head}…{} ({} characters)",
        &s[tail_start..],
        s.chars().count()
    ))
}

/// A whole message, cut when very long.
fn short_message(s: &str) -> String {
    const MAX: usize = 240;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX).collect();
    format!("{head}…")
}

/// What is wrong with an amount's text, in words; `unit` names the base unit
/// (`satoshis`, `wei`).
pub(super) fn amount_message(raw: &str, e: &AmountError, unit: &str) -> String {
    let shown = short(raw.trim());
    match e {
        AmountError::Empty => "empty amount".to_string(),
        AmountError::Negative(_) => {
            format!("negative amount {shown}: an amount cannot be below zero")
        }
        AmountError::TooLarge(_) => {
            format!("amount {shown} is too large (the largest supported is 2^128-1 {unit})")
        }
        AmountError::TooPrecise(_, d) => format!(
            "amount {shown} has more than {d} decimal places: it is not a whole number of {unit}"
        ),
        AmountError::NotInteger(_) if raw.trim() == "null" => {
            "the amount is missing (null)".to_string()
        }
        AmountError::NotInteger(_) => {
            format!("not an amount: {shown} (expected a whole number of {unit})")
        }
    }
}

/// An exact whole number of `unit`, from a JSON integer or string (which may
/// exceed 2^64).
pub(super) fn amount(
    v: RawJson,
    unit: &str,
    field: impl FnOnce() -> String,
) -> Result<Amount, FieldError> {
    let raw = v.get();
    amount::parse_integer(raw).map_err(|e| FieldError::new(field(), amount_message(raw, &e, unit)))
}

// ---------------------------------------------------------------------------
// Bitcoin family
// ---------------------------------------------------------------------------

/// Validate a Bitcoin-family address: ASCII letters and digits (base58,
/// bech32; bech32 is stored lower-case), or a CashAddr with its prefix
/// (`bitcoincash:q…`, stored lower-case).
pub(super) fn btc_address(raw: &str, field: impl FnOnce() -> String) -> Result<String, FieldError> {
    btc_address_cow(raw, field).map(Cow::into_owned)
}

/// [`btc_address`], borrowed from `raw` when already canonical.
pub(super) fn btc_address_cow<'s>(
    raw: &'s str,
    field: impl FnOnce() -> String,
) -> Result<Cow<'s, str>, FieldError> {
    let b = raw.as_bytes();
    let k = scan(b);
    if !b.is_empty() && k.all & ALNUM != 0 {
        // `canonical_address` of letters and digits: nothing to trim; an
        // EVM address (0x...) or a bech32 one lower-cased, base58 kept
        let lower = is_evm_address(raw) || bech32_like(b, k);
        return Ok(lowered(raw, lower && k.any & UPPER != 0));
    }
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric());
    if let Some((prefix, payload)) = raw.split_once(':') {
        if !prefix.is_empty()
            && prefix.len() <= 16
            && prefix.bytes().all(|c| c.is_ascii_alphabetic())
            && alnum(payload)
        {
            return Ok(lowered(raw, k.any & UPPER != 0));
        }
    }
    Err(FieldError::new(
        field(),
        format!(
            "not a valid address: {:?} (a Bitcoin address is letters and digits only)",
            short(raw)
        ),
    ))
}

/// Validate an address list (absent or null means none).
pub(super) fn btc_addresses(
    list: Option<&[Text]>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<String>, FieldError> {
    let addrs = btc_addresses_cow(list, field)?;
    Ok(addrs.into_iter().map(Cow::into_owned).collect())
}

/// [`btc_addresses`], each address borrowed from the record where it
/// already was canonical.
pub(super) fn btc_addresses_cow<'a>(
    list: Option<&[Text<'a>]>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<Cow<'a, str>>, FieldError> {
    list.unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(k, a)| lift(a, |s| btc_address_cow(s, || field(k))))
        .collect()
}

/// A Bitcoin transaction or block hash: 64 hex digits, stored lower-case.
pub(super) fn txid_hex(raw: &str, field: impl FnOnce() -> String) -> Result<String, FieldError> {
    txid_hex_cow(raw, field).map(Cow::into_owned)
}

/// [`txid_hex`], borrowed from `raw` when already lower-case.
pub(super) fn txid_hex_cow<'s>(
    raw: &'s str,
    field: impl FnOnce() -> String,
) -> Result<Cow<'s, str>, FieldError> {
    if raw.len() == 64 && lower_hex(raw.as_bytes()) {
        Ok(Cow::Borrowed(raw))
    } else if raw.len() == 64 && raw.bytes().all(|c| c.is_ascii_hexdigit()) {
        Ok(Cow::Owned(raw.to_ascii_lowercase()))
    } else {
        Err(FieldError::new(
            field(),
            format!(
                "not a hash: {:?} (expected 64 hexadecimal digits)",
                short(raw)
            ),
        ))
    }
}

/// Put outputs given as `(index, position in the list, output)` in index
/// order, requiring the indices to be exactly `0..n`.
pub(super) fn in_index_order<T>(
    mut items: Vec<(u32, usize, T)>,
    index_field: impl Fn(usize) -> String,
) -> Result<Vec<T>, FieldError> {
    items.sort_by_key(|(idx, pos, _)| (*idx, *pos));
    for (k, (idx, pos, _)) in items.iter().enumerate() {
        let k = k as u64;
        let idx64 = *idx as u64;
        if idx64 < k {
            return Err(FieldError::new(
                index_field(*pos),
                format!("output index {idx} appears more than once"),
            ));
        }
        if idx64 > k {
            return Err(FieldError::new(
                index_field(*pos),
                format!(
                    "output index {idx} leaves a gap: no output has index {k} \
                     (indices must run 0, 1, 2, … without gaps)"
                ),
            ));
        }
    }
    Ok(items.into_iter().map(|(_, _, t)| t).collect())
}

// ---------------------------------------------------------------------------
// EVM family
// ---------------------------------------------------------------------------

/// A present, non-empty value: JSON `null` is already `None`; `""` (how CSV
/// conversions and Etherscan write "unknown") counts as absent too.
pub(super) fn given(v: Option<RawJson>) -> Option<RawJson> {
    // (only JSON whitespace, which is ASCII, can be around a raw value)
    v.filter(|v| v.get().trim_ascii() != "\"\"")
}

/// `s.trim()`, without its walk through the text's characters when both
/// ends are printable ASCII: there is then nothing to trim (every other
/// whitespace character is outside ASCII).
#[inline]
pub(super) fn trimmed(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

pub(super) fn need<'a>(field: &str, v: Option<RawJson<'a>>) -> Result<RawJson<'a>, FieldError> {
    given(v).ok_or_else(|| missing(field))
}

pub(super) fn opt_text<'a>(v: Option<&'a Text>) -> Option<&'a str> {
    v.map(|t| trimmed(t.as_str())).filter(|t| !t.is_empty())
}

pub(super) fn need_text<'a>(field: &str, v: Option<&'a Text>) -> Result<&'a str, FieldError> {
    opt_text(v).ok_or_else(|| missing(field))
}

fn missing(field: &str) -> FieldError {
    FieldError::new(field, "required field is missing, null or empty")
}

/// A transaction hash, lower-case.
pub(super) fn hash_field(field: &str, v: Option<&Text>) -> Result<String, FieldError> {
    hash_field_cow(field, v).map(Cow::into_owned)
}

/// [`hash_field`], borrowed from the record when already lower-case.
pub(super) fn hash_field_cow<'a>(
    field: &str,
    v: Option<&Text<'a>>,
) -> Result<Cow<'a, str>, FieldError> {
    let t = v.ok_or_else(|| missing(field))?;
    lift(t, |s| {
        let h = trimmed(s);
        if h.is_empty() {
            return Err(missing(field));
        }
        Ok(lowered(h, scan(h.as_bytes()).any & UPPER != 0))
    })
}

/// An EVM address (`0x` + 40 hex digits, any case), stored lower-case.
pub(super) fn evm_address(field: &str, s: &str) -> Result<String, FieldError> {
    evm_address_cow(field, s).map(Cow::into_owned)
}

/// [`evm_address`], borrowed from `s` when already lower-case.
pub(super) fn evm_address_cow<'s>(field: &str, s: &'s str) -> Result<Cow<'s, str>, FieldError> {
    let s = trimmed(s);
    match evm_canonical(s) {
        Some(c) => Ok(c),
        None => Err(bad_evm_address(field, s)),
    }
}

#[cold]
fn bad_evm_address(field: &str, s: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "not a valid EVM address: {:?} (expected 0x and 40 hex digits)",
            short(s)
        ),
    )
}

/// A required EVM address: `evm_address(field, need_text(field, v)?)`,
/// borrowed from the record when already lower-case.
pub(super) fn need_evm_address<'a>(
    field: &str,
    v: Option<&Text<'a>>,
) -> Result<Cow<'a, str>, FieldError> {
    let t = v.ok_or_else(|| missing(field))?;
    lift(t, |s| {
        let s = trimmed(s);
        if s.is_empty() {
            return Err(missing(field));
        }
        evm_address_cow(field, s)
    })
}

/// An EVM address that may be absent, null or empty.
pub(super) fn opt_evm_address(field: &str, v: Option<&Text>) -> Result<Option<String>, FieldError> {
    opt_evm_address_cow(field, v).map(|a| a.map(Cow::into_owned))
}

/// [`opt_evm_address`], borrowed from the record when already lower-case.
pub(super) fn opt_evm_address_cow<'a>(
    field: &str,
    v: Option<&Text<'a>>,
) -> Result<Option<Cow<'a, str>>, FieldError> {
    match v {
        Some(t) if !trimmed(t).is_empty() => lift(t, |s| evm_address_cow(field, s)).map(Some),
        _ => Ok(None),
    }
}

/// A whole number that must fit `T` (block numbers, indexes, flags).
pub(super) fn uint<T: TryFrom<u128>>(field: &str, v: RawJson) -> Result<T, FieldError> {
    let shown = || short(v.get().trim());
    let message = match amount::parse_integer(v.get()).map(T::try_from) {
        Ok(Ok(n)) => return Ok(n),
        Ok(Err(_)) => format!("out of range: {} is too large here", shown()),
        Err(AmountError::Empty) => "empty: expected a whole number".to_string(),
        Err(AmountError::TooLarge(_)) => {
            format!(
                "{} is above the largest supported amount (2^128-1)",
                shown()
            )
        }
        Err(AmountError::Negative(_)) => format!("negative: {} (expected a whole number)", shown()),
        Err(AmountError::NotInteger(_) | AmountError::TooPrecise(..)) => {
            format!("not a whole number: {}", shown())
        }
    };
    Err(FieldError::new(field, message))
}

/// `gas_used * price`, exactly; an overflow of 128 bits is refused.
pub(super) fn fee(field: &str, gas_used: Amount, price: Amount) -> Result<Amount, FieldError> {
    gas_used.checked_mul(price).ok_or_else(|| {
        FieldError::new(
            field,
            format!("the fee {gas_used} * {price} is above the largest supported amount (2^128-1)"),
        )
    })
}

/// A block time: Unix seconds as a number or digit string, or a UTC date-time
/// (`2023-05-02 12:19:59 UTC`, `2023-05-02T12:19:59Z`, as BigQuery writes it).
pub(super) fn timestamp(field: &str, v: RawJson) -> Result<u64, FieldError> {
    let raw = v.get().trim();
    if raw.starts_with('"') {
        if let Ok(Text(s)) = serde_json::from_str::<Text>(raw) {
            if s.as_bytes().get(4) == Some(&b'-') {
                return utc_seconds(&s).ok_or_else(|| {
                    FieldError::new(
                        field,
                        format!(
                            "not a time fundtrail understands: {:?} (expected Unix seconds \
                             or a UTC date-time like 2023-05-02 12:19:59 UTC)",
                            short(&s)
                        ),
                    )
                });
            }
        }
    }
    uint(field, v)
}

/// Seconds since 1970 of `YYYY-MM-DD[( |T)HH:MM:SS[.frac]][ UTC|Z|+00:00]`.
pub(super) fn utc_seconds(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.is_ascii() {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<u64> {
        let t = s.get(a..b)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let mut rest = &s[10..];
    let (mut h, mut mi, mut se) = (0, 0, 0);
    if rest.len() >= 9 && (rest.starts_with('T') || rest.starts_with(' ')) {
        let r = rest.as_bytes();
        if r[3] != b':' || r[6] != b':' {
            return None;
        }
        (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        rest = &rest[9..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &frac[n..];
        }
    }
    if !matches!(rest.trim(), "" | "Z" | "z" | "UTC" | "+00:00" | "+0000") {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1970 || !(1..=12).contains(&mo) || d == 0 || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if d > month_days[(mo - 1) as usize] {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil, years >= 1970).
    let (y, mo) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3_600 + mi * 60 + se)
}

/// `0,1`, `0_1`, `[0, 1]` or empty, as numbers.
pub(super) fn parse_index_list(s: &str) -> Option<Vec<u32>> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(s)
        .trim();
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split([',', '_'])
        .map(|p| {
            let p = p.trim();
            if p.bytes().all(|c| c.is_ascii_digit()) {
                p.parse::<u32>().ok()
            } else {
                None
            }
        })
        .collect()
}

/// A token symbol, trimmed; anything odd reads as unknown.
pub(super) fn lenient_symbol(v: Option<RawJson>) -> Option<String> {
    let Text(s) = serde_json::from_str::<Text>(v?.get()).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Token decimals as 0..=255; anything odd reads as unknown.
pub(super) fn lenient_decimals(v: Option<RawJson>) -> Option<u8> {
    let n = amount::parse_integer(given(v)?.get()).ok()?;
    u8::try_from(n).ok()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::is_evm_address;

    /// Addresses of every shape the checks tell apart.
    pub(in crate::ingest) const SAMPLES: &[&str] = &[
        "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
        "0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
        "0X098b716b8aaf21512996dc57eb0615e2383e2f96",
        " 0x098b716b8aaf21512996dc57eb0615e2383e2f96 ",
        "0x098b716b8aaf21512996dc57eb0615e2383e2f9",
        "0x098b716b8aaf21512996dc57eb0615e2383e2f9g",
        "1x098b716b8aaf21512996dc57eb0615e2383e2f96",
        "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ",
        "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "bc1q-ar0s",
        "LTC1QABCDEFGH",
        "tb1",
        "bitcoincash:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
        "é0x098b716b8aaf21512996dc57eb0615e2383e2f96",
        "",
        "  ",
    ];

    fn same_scan(b: &[u8]) {
        let (x, y) = (scan(b), scan_bytes(b));
        assert_eq!((x.all, x.any), (y.all, y.any), "{b:?}");
    }

    /// `fast` and `slow`, two ways of reading a record, give the same
    /// records or the same error.
    pub(in crate::ingest) fn same_either_way(
        text: &str,
        fast: super::super::RefParseFn,
        slow: super::super::RefParseFn,
    ) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let x = fast(text, &mut a).map_err(|e| (e.field, e.message));
        let y = slow(text, &mut b).map_err(|e| (e.field, e.message));
        assert_eq!(x, y, "{text}");
        assert_eq!(a, b, "{text}");
    }

    #[test]
    fn scan_by_blocks_is_scan_by_bytes_for_every_byte_anywhere() {
        // each byte value at each place of texts one block long, a block
        // and one (the last block overlaps), and over two blocks, among
        // bytes of every class
        for len in [16, 17, 33, 42, 66] {
            for fill in [b'a', b'F', b'7', b'z', b'Q'] {
                for at in 0..len {
                    for c in 0..=255u8 {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        same_scan(&b);
                    }
                }
            }
        }
        for s in SAMPLES {
            same_scan(s.as_bytes());
        }
    }

    /// What [`lower_hex`] must say, a byte at a time.
    fn lower_hex_reference(b: &[u8]) -> bool {
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }

    #[test]
    fn lower_hex_refuses_any_other_byte_anywhere() {
        for len in [1, 15, 16, 17, 40, 64] {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut b = vec![b'e'; len];
                    b[at] = c;
                    assert_eq!(lower_hex(&b), lower_hex_reference(&b), "{b:?}");
                }
            }
        }
        assert!(!lower_hex(b""));
    }

    proptest::proptest! {
        #[test]
        fn lower_hex_is_its_reference(s in "[0-9a-fA-Fxg/:`@ ]{0,70}") {
            proptest::prop_assert_eq!(lower_hex(s.as_bytes()), lower_hex_reference(s.as_bytes()));
        }

        #[test]
        fn trimmed_is_trim(s in "[ \t\n\u{a0}\u{2003}\u{1}x0é,]{0,6}") {
            proptest::prop_assert_eq!(trimmed(&s), s.trim());
        }

        #[test]
        fn scan_by_blocks_is_scan_by_bytes(b in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            same_scan(&b);
        }
    }

    #[test]
    fn evm_canonical_is_is_evm_address_then_lower_case() {
        for s in SAMPLES {
            assert_eq!(
                evm_canonical(s).map(Cow::into_owned),
                is_evm_address(s).then(|| s.to_ascii_lowercase()),
                "{s:?}"
            );
        }
    }
}
