//! A strict reader for the common shape of a record: one JSON object whose
//! strings hold no escapes (its values may be arrays and objects, as a
//! bitcoin-etl transaction's inputs and outputs are).
//!
//! It reads only what it can read exactly as serde_json would, and steps
//! aside (`None`) at anything else: an escape or a control character in a
//! string, a malformed number or literal, a value of another type than the
//! field wants, an integer field of 20 digits or more, values nested more
//! than 16 deep, a repeated key, an empty object, a trailing comma or
//! trailing text. The caller then reads the record with serde, which gives
//! the answer or the error, so a line gives the same result either way.
//! Values of keys the caller does not read are passed over but checked, as
//! serde checks what it ignores. Lines in the shape fundtrail and
//! ethereum-etl write (most lines of a large ledger) are so read without
//! serde's per-field machinery; so are bitcoin-etl's.

/// Eight copies of a byte's lowest bit, and of its highest.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` below `n` (`n` at most 128), exact for
/// the lowest such byte (borrows only carry upwards).
#[inline]
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
}

/// The high bit of each byte of `x` equal to `c` (exact for the lowest).
#[inline]
fn equal(x: u64, c: u8) -> u64 {
    below(x ^ (ONES * u64::from(c)), 1)
}

/// The position of the first byte at or after `at` that ends a plain
/// string's contents: a quote, a backslash or a control character.
#[inline(always)]
fn stop(b: &[u8], mut at: usize) -> Option<usize> {
    while let Some(word) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let m = equal(w, b'"') | equal(w, b'\\') | below(w, 0x20);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|k| at + k)
}

/// A place in the object's text, where a value starts.
pub(super) struct Value<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Value<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    #[inline]
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// A string without escapes or control characters, unquoted.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = stop(b, start)?;
        if b[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        // (the quotes are ASCII, so these are character boundaries)
        self.text.get(start..end)
    }

    /// An unsigned JSON integer (no sign, no leading zero) of at most 19
    /// digits, which cannot overflow (any u64 of 20 digits steps aside; a
    /// fraction or an exponent is refused by what may follow a value).
    #[inline]
    pub(super) fn uint(&mut self) -> Option<u64> {
        let b = self.text.as_bytes();
        let start = self.at;
        let mut v: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(self.at) {
            v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            self.at += 1;
        }
        let n = self.at - start;
        (n > 0 && n <= 19 && (n == 1 || b[start] != b'0')).then_some(v)
    }

    /// [`Value::uint`], when it fits in 32 bits.
    #[inline]
    pub(super) fn uint32(&mut self) -> Option<u32> {
        u32::try_from(self.uint()?).ok()
    }

    /// A JSON `null`, read if it is one.
    #[inline]
    pub(super) fn null(&mut self) -> bool {
        let is = self.text.as_bytes()[self.at..].starts_with(b"null");
        if is {
            self.at += 4;
        }
        is
    }

    /// `true` or `false`.
    #[inline]
    pub(super) fn boolean(&mut self) -> Option<bool> {
        let b = &self.text.as_bytes()[self.at..];
        if b.starts_with(b"true") {
            self.at += 4;
            Some(true)
        } else if b.starts_with(b"false") {
            self.at += 5;
            Some(false)
        } else {
            None
        }
    }

    /// `null` as `Some(None)`; else what `read` reads, as `Some(Some(_))`,
    /// or `None` to step aside.
    #[inline]
    pub(super) fn or_null<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.null() {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A JSON array, each element read by `read` (`None`: step aside).
    pub(super) fn list<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut items = Vec::new();
        self.array(|v| {
            items.push(read(v)?);
            Some(())
        })?;
        Some(items)
    }

    /// A JSON array: `each` reads every element, from where it starts, and
    /// says `Some(())`, or `None` to step aside.
    pub(super) fn array(
        &mut self,
        mut each: impl FnMut(&mut Value<'a>) -> Option<()>,
    ) -> Option<()> {
        if self.peek()? != b'[' {
            return None;
        }
        self.at += 1;
        self.skip_space();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            each(self)?;
            if !self.more(b']')? {
                return Some(());
            }
        }
    }

    /// After an element or member: `Some(true)` past a comma (another
    /// follows), `Some(false)` past `close` (the end), else `None`.
    #[inline]
    fn more(&mut self, close: u8) -> Option<bool> {
        self.skip_space();
        match self.peek()? {
            b',' => {
                self.at += 1;
                self.skip_space();
                Some(true)
            }
            c if c == close => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A JSON object of at least one member: `each` is given every key and
    /// the place its value starts, reads the value and says `Some(())`, or
    /// `None` to step aside.
    pub(super) fn members(
        &mut self,
        mut each: impl FnMut(&'a str, &mut Value<'a>) -> Option<()>,
    ) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.at += 1;
        self.skip_space();
        loop {
            let key = self.string()?;
            self.skip_space();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.skip_space();
            each(key, self)?;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// Any value but `null`, in the plain shape, as its JSON text (a string
    /// with its quotes): what serde_json's `RawValue` would hold.
    #[inline]
    pub(super) fn raw(&mut self) -> Option<&'a str> {
        let start = self.at;
        if self.peek()? == b'n' {
            return None;
        }
        self.skip(0)?;
        Some(&self.text[start..self.at])
    }

    /// Pass over one value, checking it as serde_json would (a value it
    /// ignores must still be valid JSON): plain strings, numbers, `true`,
    /// `false`, `null`, and arrays and objects of them up to 16 deep.
    pub(super) fn skip(&mut self, depth: u32) -> Option<()> {
        let b = self.text.as_bytes();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number(),
            b'n' | b't' | b'f' => {
                let word: &[u8] = match b[self.at] {
                    b'n' => b"null",
                    b't' => b"true",
                    _ => b"false",
                };
                b[self.at..]
                    .starts_with(word)
                    .then(|| self.at += word.len())
            }
            open @ (b'[' | b'{') if depth < 16 => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.at += 1;
                self.skip_space();
                if self.peek()? == close {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.skip_space();
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.at += 1;
                        self.skip_space();
                    }
                    self.skip(depth + 1)?;
                    if !self.more(close)? {
                        return Some(());
                    }
                }
            }
            _ => None,
        }
    }

    /// A JSON number: `-`, an integer part without a leading zero, a
    /// fraction, an exponent.
    fn number(&mut self) -> Option<()> {
        let b = self.text.as_bytes();
        let digits = |at: &mut usize| {
            let start = *at;
            while let Some(b'0'..=b'9') = b.get(*at) {
                *at += 1;
            }
            *at - start
        };
        let mut at = self.at;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        let first = at;
        let n = digits(&mut at);
        if n == 0 || (n > 1 && b[first] == b'0') {
            return None;
        }
        if b.get(at) == Some(&b'.') {
            at += 1;
            if digits(&mut at) == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = b.get(at) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return None;
            }
        }
        self.at = at;
        Some(())
    }
}

/// Read `text` as one JSON object: `each` is given every key and the
/// place its value starts, reads the value and says `Some(())`, or `None`
/// to step aside. `None` when the text is not in the plain shape.
#[inline]
pub(super) fn object<'a>(
    text: &'a str,
    each: impl FnMut(&'a str, &mut Value<'a>) -> Option<()>,
) -> Option<()> {
    let mut v = Value { text, at: 0 };
    v.skip_space();
    v.members(each)?;
    v.skip_space();
    (v.at == text.len()).then_some(())
}

/// Set a field read once; `None` (step aside) for a repeated key, which
/// serde refuses.
#[inline]
pub(super) fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::value::RawValue;

    /// What serde reads from a flat object of the keys the tests use.
    #[derive(Deserialize)]
    struct Serde<'a> {
        s: Option<&'a str>,
        n: Option<u64>,
        m: Option<u32>,
        #[serde(borrow)]
        r: Option<&'a RawValue>,
    }

    #[derive(Debug, Default, PartialEq)]
    struct Fields<'a> {
        s: Option<&'a str>,
        n: Option<u64>,
        m: Option<u32>,
        r: Option<&'a str>,
    }

    /// `s` may be null, the other keys step aside at null; unknown keys
    /// are passed over, as serde does.
    fn plain(text: &str) -> Option<Fields<'_>> {
        let mut f = Fields::default();
        let mut s_seen = false;
        object(text, |key, v| match key {
            "s" => {
                if std::mem::replace(&mut s_seen, true) {
                    return None;
                }
                f.s = if v.null() { None } else { Some(v.string()?) };
                Some(())
            }
            "n" => once(&mut f.n, v.uint()?),
            "m" => once(&mut f.m, v.uint32()?),
            "r" => once(&mut f.r, v.raw()?),
            _ => v.skip(0),
        })?;
        Some(f)
    }

    fn serde(text: &str) -> Option<Fields<'_>> {
        let s: Serde = serde_json::from_str(text).ok()?;
        Some(Fields {
            s: s.s,
            n: s.n,
            m: s.m,
            r: s.r.map(RawValue::get),
        })
    }

    /// Whenever the plain reader reads a text, serde reads the same.
    fn agrees(text: &str) {
        if let Some(f) = plain(text) {
            assert_eq!(Some(f), serde(text), "{text:?}");
        }
    }

    /// The word-at-a-time search finds what a byte-by-byte one finds, for
    /// every byte value at every place of texts up to three words long.
    #[test]
    fn stop_is_the_first_stopping_byte() {
        let naive = |b: &[u8], at: usize| {
            (at..b.len()).find(|&k| b[k] == b'"' || b[k] == b'\\' || b[k] < 0x20)
        };
        for len in 0..=25 {
            for fill in [b'a', b'0', 0x7f, 0x80, 0xff, b' '] {
                for place in 0..len {
                    for c in 0..=255u8 {
                        let mut b = vec![fill; len];
                        b[place] = c;
                        for at in [0, 1, place] {
                            if at <= len {
                                assert_eq!(stop(&b, at), naive(&b, at), "{b:?} from {at}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reads_the_plain_shape() {
        let t = r#"{"s":"0xab","n":7,"m":4294967295,"r":"12"}"#;
        let f = plain(t).unwrap();
        assert_eq!(
            f,
            Fields {
                s: Some("0xab"),
                n: Some(7),
                m: Some(u32::MAX),
                r: Some(r#""12""#)
            }
        );
        agrees(t);
        let t = " {\t\"r\" : 1000 ,\r\n\"n\":0 , \"s\":\"é\u{7f}\" } \n";
        assert_eq!(
            plain(t).unwrap(),
            Fields {
                s: Some("é\u{7f}"),
                n: Some(0),
                m: None,
                r: Some("1000")
            }
        );
        agrees(t);
        assert_eq!(
            plain(r#"{"n":9999999999999999999}"#).unwrap().n,
            Some(9_999_999_999_999_999_999)
        );
        // null where allowed, any value as raw text, unknown keys passed over
        let t = r#"{"s":null,"x":{"a":[1,-2.5e+3,true,false,null,{}],"b":[]},"r":[1, {"c":"d"}],"x":0}"#;
        assert_eq!(
            plain(t).unwrap(),
            Fields {
                r: Some(r#"[1, {"c":"d"}]"#),
                ..Fields::default()
            }
        );
        agrees(t);
        for r in ["-1", "0.5", "1E-7", "-0", "true", r#"{"a":1}"#] {
            let t = format!(r#"{{"r":{r}}}"#);
            assert_eq!(plain(&t).unwrap().r, Some(r), "{t}");
            agrees(&t);
        }
    }

    /// Arrays of objects of booleans, as a bitcoin-etl record nests its
    /// inputs; the same checks inside as at the top.
    #[test]
    fn reads_arrays_of_objects() {
        let read = |text: &str| {
            let mut got = Vec::new();
            object(text, |key, v| match key {
                "a" => v.array(|e| {
                    e.members(|k, v| match k {
                        "k" => {
                            got.push(v.boolean()?);
                            Some(())
                        }
                        _ => v.skip(0),
                    })
                }),
                _ => v.skip(0),
            })
            .map(|()| got)
        };
        assert_eq!(
            read(r#"{"a": [ {"k": true}, {"x": [1, {}], "k": false} ], "b": []}"#),
            Some(vec![true, false])
        );
        assert_eq!(read(r#"{"a": []}"#), Some(vec![]));
        for text in [
            r#"{"a": [{}]}"#,
            r#"{"a": [{"k": true},]}"#,
            r#"{"a": [{"k": true} {"k": true}]}"#,
            r#"{"a": [{"k": tru}]}"#,
            r#"{"a": [{"k": 1}]}"#,
            r#"{"a": {"k": true}}"#,
            r#"{"a": [{"k": true}]"#,
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }

    #[test]
    fn steps_aside_from_everything_else() {
        for t in [
            "",
            "{}",
            "[]",
            r#"["s"]"#,
            r#"{"s":"a\"b"}"#,
            r#"{"s":"a\nb"}"#,
            "{\"s\":\"a\u{1}b\"}",
            "{\"s\":\"abcdefghijklm\u{1f}nop\"}",
            "{\"s\":\"abcdefghijklmnop\u{0}\"}",
            r#"{"s":5}"#,
            r#"{"n":"5"}"#,
            r#"{"n":-0}"#,
            r#"{"n":01}"#,
            r#"{"n":1.0}"#,
            r#"{"n":1e3}"#,
            r#"{"n":10000000000000000000}"#,
            r#"{"m":4294967296}"#,
            r#"{"r":null}"#,
            r#"{"s\u0000":"a"}"#,
            r#"{"n":1,"n":1}"#,
            r#"{"s":null,"s":null}"#,
            r#"{"s":nul}"#,
            r#"{"s":nulls}"#,
            r#"{"x":tru}"#,
            r#"{"x":[1,]}"#,
            r#"{"x":[1 2]}"#,
            r#"{"x":{"a" 1}}"#,
            r#"{"x":{"a":1,}}"#,
            r#"{"x":{1:1}}"#,
            r#"{"x":"\n"}"#,
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":.5}"#,
            r#"{"x":1e}"#,
            r#"{"x":1e+}"#,
            r#"{"x":-}"#,
            r#"{"x":+1}"#,
            r#"{"x":[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]}"#,
            r#"{"n":1,}"#,
            r#"{"n":1 "m":2}"#,
            r#"{"n":1}x"#,
            r#"{"n":1}{}"#,
            r#"{"n":1"#,
            r#"{"n" 1}"#,
        ] {
            assert_eq!(plain(t), None, "{t:?}");
        }
    }

    /// Pieces of texts: the plain shape's tokens and the ones it must not
    /// take for them.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            r#""s""#,
            r#""n""#,
            r#""m""#,
            r#""r""#,
            r#""x""#,
            r#""""#,
            r#""a\"b""#,
            r#""\u0041""#,
            r#""é""#,
            "\"\u{1f}\"",
            r#""0xAB""#,
            "0",
            "7",
            "01",
            "-1",
            "-0",
            "1.5",
            "2e3",
            "1E2",
            "4294967295",
            "4294967296",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "null",
            "nul",
            "true",
            "false",
            "\"12\"",
            "x",
            "-",
            ".",
            "e",
            "E+",
            "5",
            r#""q""#,
            "{}",
            "[]",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Texts from the pieces, most of them near the plain shape: the
        /// plain reader reads none that serde reads otherwise or refuses.
        #[test]
        fn never_disagrees_with_serde(pieces in prop::collection::vec(piece(), 0..24)) {
            agrees(&pieces.concat());
        }

        /// Objects in the plain shape with one thing changed.
        #[test]
        fn near_misses_never_disagree(
            s in "[ -~é]{0,12}",
            n in any::<u64>(),
            m in any::<u64>(),
            r in prop_oneof!["[0-9]{1,24}".prop_map(|d| d), "[0-9]{1,24}".prop_map(|d| format!("{d:?}"))],
            cut in 0usize..80,
            insert in piece(),
        ) {
            let text = format!(r#"{{"s":{s:?},"n":{n},"m":{m},"r":{r}}}"#);
            agrees(&text);
            let at = (0..=cut.min(text.len())).rev().find(|&k| text.is_char_boundary(k)).unwrap_or(0);
            let mut changed = text.clone();
            changed.insert_str(at, insert);
            agrees(&changed);
            agrees(&text[..at]);
            let mut dropped = text.clone();
            if at < text.len() {
                dropped.remove(at);
                agrees(&dropped);
            }
        }
    }
}
