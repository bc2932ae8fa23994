//! `--format json`: SPEC.md §5, amounts as decimal strings.

use super::{Exporter, TraceReport};

pub struct Json;

impl Exporter for Json {
    fn render(&self, report: &TraceReport) -> String {
        let mut s = serde_json::to_string_pretty(report)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        s.push('\n');
        s
    }
}
