//! `--format table`: what an analyst reads first. Ranked endpoints with
//! amounts in whole units, then the totals and the conservation identity.

use super::{human, short, Exporter, TraceReport};
use std::fmt::Write;

/// The table; `top` lists only the first N endpoints (the totals cover all).
pub struct Table {
    pub top: Option<usize>,
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

impl Exporter for Table {
    fn render(&self, r: &TraceReport) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "fundtrail trace: policy {}{}, seeds {}{}, min taint {}",
            r.policy,
            match (r.mixer.as_str(), r.coinjoin.as_str()) {
                ("pass", "pass") => String::new(),
                (m, "pass") => format!(", mixers {m}"),
                ("pass", c) => format!(", CoinJoins {c}"),
                (m, c) => format!(", mixers {m}, CoinJoins {c}"),
            },
            if r.seeds.is_empty() {
                "-".to_string()
            } else {
                r.seeds.join(", ")
            },
            if r.seed_txs.is_empty() {
                String::new()
            } else {
                format!(", seed txs {}", r.seed_txs.join(", "))
            },
            r.min_taint
        );
        let _ = writeln!(o);
        if r.endpoints.is_empty() {
            let _ = writeln!(o, "No endpoints: no taint reached any address.");
        } else {
            let shown = self.top.unwrap_or(usize::MAX).min(r.endpoints.len());
            let rows: Vec<[String; 8]> = r.endpoints[..shown]
                .iter()
                .map(|e| {
                    let mut labels: Vec<String> = e
                        .labels
                        .iter()
                        .map(|l| {
                            if l.label.is_empty() {
                                l.category.clone()
                            } else {
                                format!("{}: {}", l.category, l.label)
                            }
                        })
                        .collect();
                    labels.extend(e.notes());
                    if let Some(k) = e.peel_chain {
                        labels.push(format!("peel chain [{k}]"));
                    }
                    [
                        e.rank.to_string(),
                        e.address.clone(),
                        human(e.tainted, e.symbol.as_deref(), e.decimals, &e.asset),
                        format!("{:.2}%", e.share * 100.0),
                        format!("{:.3}", e.score),
                        e.hops.to_string(),
                        e.kind.to_string(),
                        labels.join("; "),
                    ]
                })
                .collect();
            let head = [
                "rank", "address", "tainted", "share", "score", "hops", "kind", "labels",
            ];
            let mut w = head.map(|h| h.chars().count());
            for row in &rows {
                for (k, c) in row.iter().enumerate() {
                    w[k] = w[k].max(c.chars().count());
                }
            }
            let line = |cells: &[String]| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(k, c)| pad(c, w[k]))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let _ = writeln!(o, "{}", line(&head.map(String::from)));
            for row in &rows {
                let _ = writeln!(o, "{}", line(row));
            }
            if shown < r.endpoints.len() {
                let _ = writeln!(
                    o,
                    "... and {} more endpoints (--top {shown}; --format json lists all)",
                    r.endpoints.len() - shown
                );
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Totals (seeded = held + absorbed + fees + below threshold):"
        );
        for (asset, t) in &r.totals {
            let h = |v| human(v, t.symbol.as_deref(), t.decimals, asset);
            let _ = writeln!(
                o,
                "  {}: seeded {}, held {}, absorbed {}, fees {}, below threshold {}{}",
                t.symbol.as_deref().unwrap_or(asset),
                h(t.seeded),
                h(t.held),
                h(t.absorbed),
                h(t.fees),
                h(t.below_threshold),
                if t.conserved {
                    "  [conserved]"
                } else if r.policy == "poison" {
                    "  [poison does not conserve]"
                } else {
                    "  [NOT CONSERVED]"
                }
            );
        }
        if !r.peel_chains.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "Peel chains on the trail:");
            for c in &r.peel_chains {
                let _ = writeln!(
                    o,
                    "  [{}] {} (from {}, tx {} .. {})",
                    c.id,
                    c.summary,
                    short(&c.first_owner),
                    short(&c.first_tx),
                    short(&c.last_tx)
                );
            }
        }
        for w in &r.warnings {
            let _ = writeln!(o, "warning: {w}");
        }
        if !r.manifest.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "Run manifest (to reproduce):");
            for l in r.manifest.text_lines() {
                let _ = writeln!(o, "  {l}");
            }
        }
        o
    }
}
