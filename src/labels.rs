//! Labels: who an address is (category and name), from the sources analysts
//! use, each detected by its shape:
//!
//! - CSV `address,category,label` with a header line;
//! - GraphSense TagPack YAML (`.yaml`/`.yml`): header fields (`category`,
//!   `abuse`, `label`, `actor`, `confidence`) are inherited by every tag unless
//!   the tag overrides them; `abuse` becomes a label of its own;
//! - OFAC sanctioned-address lists (`sanctioned_addresses_<ASSET>.txt`, one
//!   address per line, or `.json`, an array of strings): category `sanctioned`;
//! - Etherscan label folders (`<label>/accounts.json`, an array of
//!   `{"address", "nameTag"}`): the folder name gives the category.
//!
//! A directory means every label file in it (recursively). Addresses are
//! normalised like the ledger's (`model::canonical_address`: trimmed, EVM
//! lower-case), categories to a common vocabulary (`exchange`, `mixer`,
//! `bridge`, `dex`, `sanctioned`, `hack`, or the source's own word); every
//! source of a label is kept, exact duplicates are dropped.

use crate::model::canonical_address;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// One label of an address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label {
    pub category: String,
    pub name: String,
    /// The file it came from.
    pub source: String,
    /// The source's confidence, where it gives one (TagPack `confidence`).
    pub confidence: Option<String>,
    /// The actor it names, where it does (TagPack `actor`).
    pub actor: Option<String>,
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
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// The common name of a category, whatever the source calls it.
pub fn normalise_category(raw: &str) -> String {
    let c = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let known = match c.as_str() {
        "exchange" | "exchanges" | "centralized_exchange" | "cex" => "exchange",
        "mixer" | "mixing_service" | "mixers" | "tornado_cash" | "ethereum_mixer" | "coinjoin" => {
            "mixer"
        }
        "bridge" | "defi_bridge" | "cross_chain_bridge" => "bridge",
        "dex" | "defi_dex" | "decentralized_exchange" => "dex",
        "sanctioned" | "sanction" | "sanctions" | "ofac" | "ofac_sanctions_lists" => "sanctioned",
        "hack" | "service_hack" | "hacker" | "exploit" | "exploiter" | "heist" | "blocked"
        | "phish_hack" => "hack",
        _ => "",
    };
    if known.is_empty() {
        c
    } else {
        known.to_string()
    }
}

/// Etherscan label folders that name an exchange.
const EXCHANGES: &[&str] = &[
    "binance",
    "bitfinex",
    "bithumb",
    "bitstamp",
    "bittrex",
    "bybit",
    "coinbase",
    "crypto-com",
    "ftx",
    "gate-io",
    "gemini",
    "huobi",
    "kraken",
    "kucoin",
    "okx",
    "okex",
    "poloniex",
    "upbit",
    "bitmex",
    "hitbtc",
    "mexc",
];

impl LabelSet {
    pub fn load(paths: &[PathBuf]) -> Result<LabelSet, LabelError> {
        let mut set = LabelSet::default();
        for p in paths {
            if p.is_dir() {
                let mut files = Vec::new();
                walk(p, &mut files).map_err(|e| LabelError::Io {
                    path: p.clone(),
                    source: e,
                })?;
                files.sort();
                for f in files {
                    set.load_file(&f)?;
                }
            } else {
                set.load_file(p)?;
            }
        }
        for v in set.by_address.values_mut() {
            v.sort();
            v.dedup();
        }
        Ok(set)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), LabelError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let source = path.display().to_string();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            return self.load_tagpack(path, &text, &source);
        }
        if name.starts_with("sanctioned_addresses") {
            return self.load_ofac(path, &text, &source, &name);
        }
        if name == "accounts.json" {
            return self.load_etherscan(path, &text, &source);
        }
        if name.ends_with(".json") {
            return Err(LabelError::File {
                path: path.to_path_buf(),
                message: "not a label file fundtrail knows: label JSON is an OFAC list \
                          (sanctioned_addresses_<ASSET>.json) or an Etherscan folder's accounts.json"
                    .into(),
            });
        }
        self.load_csv(path, &text, &source)
    }

    fn load_csv(&mut self, path: &Path, text: &str, source: &str) -> Result<(), LabelError> {
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
            self.add(addr, get(ci), get(li), source);
        }
        Ok(())
    }

    fn load_tagpack(&mut self, path: &Path, text: &str, source: &str) -> Result<(), LabelError> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| LabelError::File {
            path: path.to_path_buf(),
            message: format!("not valid YAML: {e}"),
        })?;
        let Some(doc) = docs.first() else {
            return Ok(());
        };
        let field = |y: &Yaml, k: &str| -> Option<String> {
            match &y[k] {
                Yaml::String(s) => Some(s.trim().to_string()),
                Yaml::Integer(i) => Some(i.to_string()),
                Yaml::Real(r) => Some(r.clone()),
                Yaml::Boolean(b) => Some(b.to_string()),
                _ => None,
            }
            .filter(|s| !s.is_empty())
        };
        let Yaml::Array(tags) = &doc["tags"] else {
            return Err(LabelError::File {
                path: path.to_path_buf(),
                message: "not a TagPack: no `tags:` list".into(),
            });
        };
        for (k, tag) in tags.iter().enumerate() {
            let Some(addr) = field(tag, "address") else {
                return Err(LabelError::Line {
                    path: path.to_path_buf(),
                    line: 0,
                    field: format!("tags[{k}].address"),
                    message: "a tag without an address".into(),
                });
            };
            let get = |key: &str| field(tag, key).or_else(|| field(doc, key));
            let name = get("label").unwrap_or_default();
            let confidence = get("confidence");
            let actor = get("actor");
            let mut cats = Vec::new();
            if let Some(c) = get("category") {
                cats.push(c);
            }
            if let Some(a) = get("abuse") {
                cats.push(a);
            }
            if cats.is_empty() {
                cats.push("tagged".into());
            }
            for c in cats {
                self.push(
                    &addr,
                    Label {
                        category: normalise_category(&c),
                        name: name.clone(),
                        source: source.to_string(),
                        confidence: confidence.clone(),
                        actor: actor.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    fn load_ofac(
        &mut self,
        path: &Path,
        text: &str,
        source: &str,
        name: &str,
    ) -> Result<(), LabelError> {
        let asset = name
            .trim_start_matches("sanctioned_addresses_")
            .split('.')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let label = format!("OFAC SDN list ({asset})");
        let addresses: Vec<String> = if name.ends_with(".json") {
            serde_json::from_str::<Vec<String>>(text).map_err(|e| LabelError::File {
                path: path.to_path_buf(),
                message: format!("an OFAC list in JSON is an array of address strings: {e}"),
            })?
        } else {
            text.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect()
        };
        for a in addresses {
            self.add(&a, "sanctioned", &label, source);
        }
        Ok(())
    }

    fn load_etherscan(&mut self, path: &Path, text: &str, source: &str) -> Result<(), LabelError> {
        #[derive(serde::Deserialize)]
        struct Account {
            address: String,
            #[serde(rename = "nameTag", default)]
            name_tag: Option<String>,
        }
        let folder = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let category = if EXCHANGES.contains(&folder.as_str()) {
            "exchange".to_string()
        } else {
            normalise_category(&folder)
        };
        let rows: Vec<Account> = serde_json::from_str(text).map_err(|e| LabelError::File {
            path: path.to_path_buf(),
            message: format!(
                "an Etherscan accounts.json is an array of {{\"address\", \"nameTag\"}}: {e}"
            ),
        })?;
        for r in rows {
            let name = r
                .name_tag
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| folder.clone());
            self.add(&r.address, &category, &name, source);
        }
        Ok(())
    }

    pub fn add(&mut self, address: &str, category: &str, name: &str, source: &str) {
        self.push(
            address,
            Label {
                category: normalise_category(category),
                name: name.trim().to_string(),
                source: source.to_string(),
                confidence: None,
                actor: None,
            },
        );
    }

    fn push(&mut self, address: &str, label: Label) {
        let a = canonical_address(address);
        if a.is_empty() {
            return;
        }
        self.by_address.entry(a).or_default().push(label);
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

    /// Addresses per category.
    pub fn category_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for labels in self.by_address.values() {
            let mut cats: Vec<&str> = labels.iter().map(|l| l.category.as_str()).collect();
            cats.sort_unstable();
            cats.dedup();
            for c in cats {
                *m.entry(c.to_string()).or_default() += 1;
            }
        }
        m
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let q = e?.path();
        let name = q
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if name.starts_with('.') {
            continue;
        }
        if q.is_dir() {
            walk(&q, out)?;
        } else if name.ends_with(".csv")
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name == "accounts.json"
            || name.starts_with("sanctioned_addresses")
        {
            out.push(q);
        }
    }
    Ok(())
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

    fn fixture(p: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/labels")
            .join(p)
    }

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

    #[test]
    fn a_tagpack_with_a_trailing_space_duplicate_gives_38_mixer_addresses() {
        // 39 tags, one of them '0x4736dCf1…BA9D ' with a trailing space
        let s = LabelSet::load(&[fixture("graphsense/tornado_cash.yaml")]).unwrap();
        assert_eq!(s.by_address.len(), 38);
        let l = s.get("0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d");
        assert_eq!(l.len(), 1, "the duplicate tag is one label: {l:?}");
        assert_eq!(l[0].category, "mixer");
        assert_eq!(l[0].name, "tornado.cash");
        assert_eq!(l[0].actor.as_deref(), Some("tornado"));
        assert_eq!(l[0].confidence.as_deref(), Some("authority_data"));
    }

    #[test]
    fn tagpack_tags_inherit_the_header_and_abuse_is_a_category() {
        let s = LabelSet::load(&[fixture("graphsense/ronin_bridge.yaml")]).unwrap();
        let l = s.get("0x098b716b8aaf21512996dc57eb0615e2383e2f96");
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].category.as_str(), l[0].name.as_str()),
            ("hack", "Ronin bridge exploiter")
        );
        assert_eq!(l[0].confidence.as_deref(), Some("service_data"));
    }

    #[test]
    fn ofac_lists_load_every_entry_lower_case_ones_included() {
        let eth = LabelSet::load(&[fixture("ofac/sanctioned_addresses_ETH.txt")]).unwrap();
        assert_eq!(eth.by_address.len(), 152);
        let json = LabelSet::load(&[fixture("ofac/sanctioned_addresses_ETH.json")]).unwrap();
        assert_eq!(
            json.by_address.keys().collect::<Vec<_>>(),
            eth.by_address.keys().collect::<Vec<_>>()
        );
        let xbt = LabelSet::load(&[fixture("ofac/sanctioned_addresses_XBT.txt")]).unwrap();
        assert_eq!(xbt.by_address.len(), 435);
        // the Ronin exploiter is on the list, checksummed there
        assert_eq!(
            eth.get("0x098b716b8aaf21512996dc57eb0615e2383e2f96")[0].category,
            "sanctioned"
        );
    }

    #[test]
    fn etherscan_folders_name_their_category() {
        let s = LabelSet::load(&[fixture("etherscan")]).unwrap();
        let counts = s.category_counts();
        assert_eq!(counts.get("mixer"), Some(&63));
        assert_eq!(counts.get("exchange"), Some(&28));
        assert_eq!(counts.get("bridge"), Some(&188));
        let pool = s.get("0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc");
        assert_eq!(pool[0].name, "Tornado.Cash: 0.1 ETH");
    }

    #[test]
    fn all_sources_together_keep_every_source_of_a_label() {
        let s = LabelSet::load(&[fixture("")]).unwrap();
        // the Ronin exploiter: GraphSense (hack) and OFAC (sanctioned)
        let l = s.get("0x098b716b8aaf21512996dc57eb0615e2383e2f96");
        let cats: Vec<&str> = l.iter().map(|x| x.category.as_str()).collect();
        assert!(
            cats.contains(&"hack") && cats.contains(&"sanctioned"),
            "{cats:?}"
        );
    }
}
