//! Exact amount arithmetic: parsing amount text, 256-bit `mul_div`, and
//! formatting base units as whole units. Never routes money through `f64`.

use crate::model::Amount;
use ethnum::U256;

/// Why an amount's text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("empty amount")]
    Empty,
    #[error("not an integer amount: {0:?}")]
    NotInteger(String),
    #[error("amount {0} exceeds the largest supported amount (2^128-1)")]
    TooLarge(String),
    #[error("negative amount: {0}")]
    Negative(String),
    #[error("amount {0:?} has more than {1} decimal places")]
    TooPrecise(String, u32),
}

/// Strip one level of JSON string quotes, if present.
fn unquote(raw: &str) -> &str {
    let t = raw.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// Parse an integer amount from its JSON text: a bare integer (`123`), a
/// decimal string (`"123"`), or a hex string (`"0x7b"`). An integral value
/// written in exponent form (`1e+21`, as some exports do) is accepted when it
/// is exact.
pub fn parse_integer(raw: &str) -> Result<Amount, AmountError> {
    // the common case, a run of digits (quoted or not) that fits, in one pass
    let b = raw.as_bytes();
    if let Some(v) = plain_digits(match b {
        [b'"', d @ .., b'"'] => d,
        d => d,
    }) {
        return Ok(v);
    }
    let s = unquote(raw).trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    if let Some(neg) = s.strip_prefix('-') {
        if !neg.is_empty() && neg.bytes().all(|c| c == b'0') {
            return Ok(0);
        }
        return Err(AmountError::Negative(s.to_string()));
    }
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(AmountError::NotInteger(s.to_string()));
        }
        let digits = hex.trim_start_matches('0');
        if digits.len() > 32 {
            return Err(AmountError::TooLarge(s.to_string()));
        }
        return u128::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
            .map_err(|_| AmountError::NotInteger(s.to_string()));
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return plain_digits(s.as_bytes()).ok_or_else(|| AmountError::TooLarge(s.to_string()));
    }
    // Exponent or fractional form: accept only exact integers.
    parse_decimal_scaled(s, 0).map_err(|e| match e {
        AmountError::TooPrecise(..) => AmountError::NotInteger(s.to_string()),
        other => other,
    })
}

/// The value of `b` when it is one or more ASCII digits and fits in a
/// `u128` (else `None`), the digits checked as they are read: 16 digits at
/// a time in a `u64` (which cannot overflow), eight of them at once where
/// there are eight, each run then shifted into the `u128` with one checked
/// multiplication.
#[inline]
fn plain_digits(b: &[u8]) -> Option<u128> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    if b.is_empty() {
        return None;
    }
    let mut v: u128 = 0;
    for run in b.chunks(16) {
        let mut eights = run.chunks_exact(8);
        let mut w = 0u64;
        for e in &mut eights {
            let x = u64::from_le_bytes(e.try_into().ok()?);
            // each byte 0x30-0x3f, and still so plus 6: '0'-'9' (no
            // byte's sum carries into the next)
            if x & HIGH != ZEROS || x.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
                return None;
            }
            w = w * 100_000_000 + eight_digits(x);
        }
        for c in eights.remainder() {
            if !c.is_ascii_digit() {
                return None;
            }
            w = w * 10 + (c - b'0') as u64;
        }
        v = v
            .checked_mul(POW10[run.len()] as u128)?
            .checked_add(w as u128)?;
    }
    Some(v)
}

/// Powers of ten up to 10^16.
const POW10: [u64; 17] = {
    let mut p = [1u64; 17];
    let mut i = 1;
    while i < p.len() {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// The value of eight ASCII digits read as a little-endian word (the first
/// digit in the lowest byte): neighbours joined into pairs, pairs into
/// fours, fours into the eight, one multiplication each.
#[inline]
fn eight_digits(w: u64) -> u64 {
    let w = w.wrapping_sub(0x3030_3030_3030_3030);
    let w = (w.wrapping_mul(10) + (w >> 8)) & 0x00ff_00ff_00ff_00ff;
    let w = (w.wrapping_mul(100) + (w >> 16)) & 0x0000_ffff_0000_ffff;
    (w.wrapping_mul(10_000) + (w >> 32)) & 0xffff_ffff
}

/// Convert a decimal literal (`50.00000000`, `0.01`, `1e-05`, `"12.5"`) to an
/// integer of base units with `decimals` places, exactly, from its text.
/// More significant fractional digits than `decimals` is an error (trailing
/// zeros are fine).
pub fn parse_decimal_scaled(raw: &str, decimals: u32) -> Result<Amount, AmountError> {
    let s = unquote(raw).trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let bad = || AmountError::NotInteger(s.to_string());
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i64 = body[i + 1..].parse().map_err(|_| bad())?;
            (&body[..i], e)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|c| c.is_ascii_digit())
        || !frac_part.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    // value = digits * 10^(shift) where digits = int_part ++ frac_part
    let mut digits: String = format!("{int_part}{frac_part}");
    let shift: i64 = exp - frac_part.len() as i64 + decimals as i64;
    if shift >= 0 {
        if digits.trim_start_matches('0').is_empty() {
            return Ok(0);
        }
        if shift > 80 {
            return Err(AmountError::TooLarge(s.to_string()));
        }
        digits.extend(std::iter::repeat('0').take(shift as usize));
    } else {
        let cut = (-shift) as usize;
        let keep = digits.len().saturating_sub(cut);
        let (head, tail) = digits.split_at(keep.min(digits.len()));
        if !tail.bytes().all(|c| c == b'0') {
            return Err(AmountError::TooPrecise(s.to_string(), decimals));
        }
        digits = head.to_string();
        if digits.is_empty() {
            return Ok(0);
        }
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        return Ok(0);
    }
    if neg {
        return Err(AmountError::Negative(s.to_string()));
    }
    plain_digits(trimmed.as_bytes()).ok_or_else(|| AmountError::TooLarge(s.to_string()))
}

/// `floor(a * b / c)` with a 256-bit intermediate. Requires `c > 0` and a
/// result that fits in 128 bits (true whenever `b <= c`, as for a haircut's
/// `x * T / B` with `T <= B`); returns `None` otherwise.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some(p / c);
    }
    let q = U256::from(a) * U256::from(b) / U256::from(c);
    u128::try_from(q).ok()
}

/// Format base units as a whole-unit decimal (`1234500000000000000`, 18 ->
/// `1.2345`), trimming trailing zeros. Exact, from the integer.
pub fn format_units(v: Amount, decimals: u8) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    let d = decimals as u32;
    let s = v.to_string();
    let (int, frac) = if s.len() as u32 > d {
        let cut = s.len() - d as usize;
        (s[..cut].to_string(), s[cut..].to_string())
    } else {
        (
            "0".to_string(),
            format!("{}{}", "0".repeat(d as usize - s.len()), s),
        )
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Digits of any length, leading zeros and values past 2^128
        /// included, read like the standard library reads them.
        #[test]
        fn digits_read_like_from_str(s in "0{0,20}[0-9]{1,45}|[0-9]{1,40}") {
            proptest::prop_assert_eq!(plain_digits(s.as_bytes()), s.parse::<u128>().ok());
        }
    }

    /// What [`plain_digits`] must say: the value of one or more digits
    /// that fit, else nothing.
    fn plain_reference(b: &[u8]) -> Option<u128> {
        let digits = !b.is_empty() && b.iter().all(u8::is_ascii_digit);
        digits.then(|| std::str::from_utf8(b).ok()?.parse().ok())?
    }

    proptest::proptest! {
        #[test]
        fn plain_digits_reads_digits_and_nothing_else(
            s in "[0-9]{0,45}|[0-9]{0,20}[^0-9][0-9]{0,20}|[0-9:/ .eE+-]{0,30}"
        ) {
            proptest::prop_assert_eq!(plain_digits(s.as_bytes()), plain_reference(s.as_bytes()));
        }
    }

    #[test]
    fn plain_digits_refuses_any_other_byte_anywhere() {
        // every byte value at every place of runs one word long, longer,
        // and past one 16-digit run (each byte checked in a word or alone)
        for len in [1, 7, 8, 9, 16, 17, 25, 39] {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut b = vec![b'7'; len];
                    b[at] = c;
                    assert_eq!(plain_digits(&b), plain_reference(&b), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn eight_digits_at_once() {
        for d in ["00000000", "12345678", "99999999", "90000009", "00000001"] {
            let w = u64::from_le_bytes(d.as_bytes().try_into().unwrap());
            assert_eq!(eight_digits(w), d.parse::<u64>().unwrap(), "{d}");
        }
    }

    #[test]
    fn digits_at_the_edge_of_128_bits() {
        let max = u128::MAX.to_string();
        assert_eq!(plain_digits(max.as_bytes()), Some(u128::MAX));
        assert_eq!(
            plain_digits(format!("000{max}").as_bytes()),
            Some(u128::MAX)
        );
        assert_eq!(
            plain_digits(b"340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(
            plain_digits(b"70500000000000000000"),
            Some(70_500_000_000_000_000_000)
        );
    }

    #[test]
    fn integers_in_every_spelling() {
        assert_eq!(
            parse_integer("7056176614974947328"),
            Ok(7056176614974947328)
        );
        assert_eq!(parse_integer("\"42\""), Ok(42));
        assert_eq!(parse_integer("\"0x7b\""), Ok(123));
        assert_eq!(parse_integer("1e+21"), Ok(1_000_000_000_000_000_000_000));
        assert_eq!(
            parse_integer("7790000000000000000000000000000"),
            Ok(7_790_000_000_000_000_000_000_000_000_000)
        );
        assert_eq!(parse_integer(&u128::MAX.to_string()), Ok(u128::MAX));
        assert!(matches!(
            parse_integer("340282366920938463463374607431768211456"),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            parse_integer("1.5"),
            Err(AmountError::NotInteger(_))
        ));
        assert!(matches!(parse_integer("-3"), Err(AmountError::Negative(_))));
        assert!(matches!(
            parse_integer("\"abc\""),
            Err(AmountError::NotInteger(_))
        ));
    }

    #[test]
    fn btc_decimals_convert_exactly_from_text() {
        assert_eq!(parse_decimal_scaled("50.00000000", 8), Ok(5_000_000_000));
        assert_eq!(parse_decimal_scaled("0.01", 8), Ok(1_000_000));
        // 0.1 + 0.2 style binary float traps never arise: the text is the value
        assert_eq!(parse_decimal_scaled("0.29", 8), Ok(29_000_000));
        assert_eq!(parse_decimal_scaled("1e-05", 8), Ok(1000));
        assert_eq!(
            parse_decimal_scaled("20999999.97690000", 8),
            Ok(2_099_999_997_690_000)
        );
        assert_eq!(parse_decimal_scaled("50", 8), Ok(5_000_000_000));
        assert!(matches!(
            parse_decimal_scaled("0.000000001", 8),
            Err(AmountError::TooPrecise(..))
        ));
    }

    #[test]
    fn mul_div_is_exact_past_128_bits() {
        let x = 10u128.pow(30);
        assert_eq!(mul_div_floor(x, x / 3, x), Some(x / 3));
        assert_eq!(
            mul_div_floor(u128::MAX, u128::MAX, u128::MAX),
            Some(u128::MAX)
        );
        assert_eq!(mul_div_floor(7, 3, 10), Some(2));
        assert_eq!(mul_div_floor(1, 1, 0), None);
    }

    #[test]
    fn whole_units() {
        assert_eq!(format_units(1_234_500_000_000_000_000, 18), "1.2345");
        assert_eq!(format_units(5_000_000_000, 8), "50");
        assert_eq!(format_units(1, 8), "0.00000001");
        assert_eq!(format_units(0, 8), "0");
    }
}
