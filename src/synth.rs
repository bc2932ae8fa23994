//! Synthetic ledgers: deterministic generators of ledger exports for
//! benchmarks and tests. Same arguments, same bytes; written as a stream, so
//! memory does not grow with the ledger.

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
