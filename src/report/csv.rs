//! `--format csv`: one row per endpoint (RFC 4180), for spreadsheets and
//! scripts. Amounts are exact base units; strings from the data (labels,
//! addresses) are quoted when needed and never start a cell with `=`, `+`,
//! `-` or `@` (which spreadsheets would run as a formula).

use super::{human, Exporter, TraceReport};

/// The CSV; `top` keeps only the first N endpoints.
pub struct Csv {
    pub top: Option<usize>,
}

pub const HEADER: [&str; 33] = [
    "rank",
    "address",
    "asset",
    "tainted",
    "tainted_units",
    "kind",
    "score",
    "share",
    "confidence",
    "purity",
    "received",
    "hops",
    "actionable",
    "weight_passage",
    "weight_agreement",
    "weight_hops",
    "weight_purity",
    "weight_category",
    "policies_listing",
    "categories",
    "labels",
    "mixer_pool",
    "mixer_via",
    "mixer_confidence",
    "mixer_tainted",
    "mixer_share",
    "coinjoin_tx",
    "coinjoin_confidence",
    "coinjoin_tainted",
    "coinjoin_share",
    "peel_chain",
    "policy",
    "fundtrail",
];

/// One cell: neutralised if a spreadsheet would read it as a formula, and
/// quoted if it holds a comma, quote or line break.
pub fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl Exporter for Csv {
    fn render(&self, r: &TraceReport) -> String {
        let mut o = HEADER.join(",");
        o.push_str("\r\n");
        let shown = self.top.unwrap_or(usize::MAX).min(r.endpoints.len());
        for e in &r.endpoints[..shown] {
            let mut cats: Vec<&str> = e.labels.iter().map(|l| l.category.as_str()).collect();
            cats.sort_unstable();
            cats.dedup();
            let labels: Vec<String> = e
                .labels
                .iter()
                .map(|l| format!("{}: {} ({})", l.category, l.label, l.source))
                .collect();
            let opt = |v: Option<String>| v.unwrap_or_default();
            let row = [
                e.rank.to_string(),
                e.address.clone(),
                e.asset.clone(),
                e.tainted.to_string(),
                human(e.tainted, e.symbol.as_deref(), e.decimals, &e.asset),
                e.kind.to_string(),
                format!("{}", e.score),
                format!("{}", e.share),
                format!("{}", e.confidence),
                format!("{}", e.purity),
                e.received.to_string(),
                e.hops.to_string(),
                e.actionable.to_string(),
                format!("{}", e.weights.passage),
                format!("{}", e.weights.agreement),
                format!("{}", e.weights.hops),
                format!("{}", e.weights.purity),
                format!("{}", e.weights.category),
                opt(e.agreement.as_ref().map(|a| a.listed_by.join(";"))),
                cats.join(";"),
                labels.join("; "),
                opt(e.mixer.as_ref().map(|m| m.pool.clone())),
                opt(e.mixer.as_ref().map(|m| m.via.to_string())),
                opt(e
                    .mixer
                    .as_ref()
                    .and_then(|m| m.confidence)
                    .map(|c| c.to_string())),
                opt(e.mixer.as_ref().map(|m| m.tainted.to_string())),
                opt(e.mixer.as_ref().map(|m| m.share.to_string())),
                opt(e.coinjoin.as_ref().map(|c| c.tx.clone())),
                opt(e.coinjoin.as_ref().map(|c| c.confidence.to_string())),
                opt(e.coinjoin.as_ref().map(|c| c.tainted.to_string())),
                opt(e.coinjoin.as_ref().map(|c| c.share.to_string())),
                opt(e.peel_chain.map(|k| k.to_string())),
                r.policy.clone(),
                r.fundtrail.to_string(),
            ];
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            o.push_str(&cells.join(","));
            o.push_str("\r\n");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }
}
