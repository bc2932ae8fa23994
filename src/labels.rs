//! Labels: who an address is (category and name), from label files.
//!
//! Reads CSV files `address,category,label` with a header line. Addresses are
//! normalised like the ledger's (`model::canonical_address`), categories
//! lower-cased; every source of a label is kept.

use crate::model::canonical_address;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One label of an address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label {
    pub category: String,
    pub name: String,
    /// The file it came from.
    pub source: String,
}

/// Labels by canonical address.
#[derive(Clone, Debug, Default)]
pub struct LabelSet {
    pub by_address: BTreeMap<String, Vec<Label>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: field `{field}`: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        field: String,
        message: String,
    },
}

impl LabelSet {
    pub fn load(paths: &[PathBuf]) -> Result<LabelSet, LabelError> {
        let mut set = LabelSet::default();
        for p in paths {
            set.load_csv(p)?;
        }
        for v in set.by_address.values_mut() {
            v.sort();
            v.dedup();
        }
        Ok(set)
    }

    fn load_csv(&mut self, path: &Path) -> Result<(), LabelError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let source = path.display().to_string();
        let mut cols: Option<(usize, Option<usize>, Option<usize>)> = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_csv(line);
            let Some((ai, ci, li)) = cols else {
                let find = |n: &[&str]| {
                    fields
                        .iter()
                        .position(|f| n.contains(&f.trim().to_ascii_lowercase().as_str()))
                };
                let ai = find(&["address"]).ok_or_else(|| LabelError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    field: "address".into(),
                    message: "the header must name an `address` column (expected `address,category,label`)".into(),
                })?;
                cols = Some((ai, find(&["category"]), find(&["label", "name", "nametag"])));
                continue;
            };
            let get = |k: Option<usize>| {
                k.and_then(|k| fields.get(k))
                    .map(|s| s.trim())
                    .unwrap_or("")
            };
            let addr = get(Some(ai));
            if addr.is_empty() {
                return Err(LabelError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    field: "address".into(),
                    message: "empty address".into(),
                });
            }
            self.add(addr, get(ci), get(li), &source);
        }
        Ok(())
    }

    pub fn add(&mut self, address: &str, category: &str, name: &str, source: &str) {
        self.by_address
            .entry(canonical_address(address))
            .or_default()
            .push(Label {
                category: category.trim().to_ascii_lowercase(),
                name: name.trim().to_string(),
                source: source.to_string(),
            });
    }

    pub fn get(&self, address: &str) -> &[Label] {
        self.by_address
            .get(address)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// Whether any label of the address has one of these categories.
    pub fn has_category(&self, address: &str, cats: &[String]) -> bool {
        self.get(address).iter().any(|l| cats.contains(&l.category))
    }
}

/// Split one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_case() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(
            &p,
            "address,category,label\n0xAB00000000000000000000000000000000000001, Exchange ,\"Binance, hot\"\n",
        )
        .unwrap();
        let s = LabelSet::load(&[p]).unwrap();
        let l = s.get("0xab00000000000000000000000000000000000001");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].category, "exchange");
        assert_eq!(l[0].name, "Binance, hot");
    }
}
