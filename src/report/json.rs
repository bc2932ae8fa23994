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

    /// Streamed: with evidence paths a large trace's JSON runs to hundreds
    /// of megabytes, which need not be held in memory. The serializer's
    /// many small writes go to a buffer of a known type (inlined), which
    /// passes them on in large ones.
    fn write_to(&self, report: &TraceReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        use std::io::Write;
        let mut b = std::io::BufWriter::with_capacity(1 << 16, w);
        serde_json::to_writer_pretty(&mut b, report)?;
        b.write_all(b"\n")?;
        b.flush()
    }
}
