//! `--format json`: SPEC.md §5, amounts as decimal strings.

use super::{Exporter, TraceReport};
use rayon::prelude::*;
use serde::{Serialize, Serializer};
use std::cell::Cell;
use std::io::Write;

pub struct Json;

impl Exporter for Json {
    fn render(&self, report: &TraceReport) -> String {
        let mut s = serde_json::to_string_pretty(report)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        s.push('\n');
        s
    }

    /// Streamed: with evidence paths a large trace's JSON runs to hundreds
    /// of megabytes, which need not be held in memory. The report's two
    /// long arrays, the endpoints and the flows, are serialized in
    /// parallel, a batch of elements at a time, and written in order
    /// between the rest of the report: the same bytes as [`Json::render`].
    fn write_to(&self, report: &TraceReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut b = std::io::BufWriter::with_capacity(1 << 20, w);
        let skeleton = {
            let _on = SkeletonOn::new();
            serde_json::to_vec_pretty(report)?
        };
        // the endpoints always, the flows unless there are none
        let holes = [
            (Hole::Endpoints, true),
            (Hole::Flows, !report.flows.is_empty()),
        ];
        // Where each long array goes. A marker the report's own text also
        // spells (a label, say) makes the places unsure: then the plain way.
        let mut at: Vec<(usize, usize, Hole)> = Vec::new();
        for (hole, expected) in holes {
            let marker = hole.marker();
            let found: Vec<usize> =
                memchr::memmem::find_iter(&skeleton, marker.as_bytes()).collect();
            match found[..] {
                [p] if expected => at.push((p, p + marker.len(), hole)),
                [] if !expected => {}
                _ => {
                    serde_json::to_writer_pretty(&mut b, report)?;
                    b.write_all(b"\n")?;
                    return b.flush();
                }
            }
        }
        at.sort_unstable_by_key(|h| h.0);
        let mut from = 0;
        for (start, end, hole) in at {
            b.write_all(&skeleton[from..start])?;
            match hole {
                Hole::Endpoints => write_array(&mut b, &report.endpoints)?,
                Hole::Flows => write_array(&mut b, &report.flows)?,
            }
            from = end;
        }
        b.write_all(&skeleton[from..])?;
        b.write_all(b"\n")?;
        b.flush()
    }
}

/// The report's long arrays, which [`Json::write_to`] serializes on its own.
#[derive(Clone, Copy)]
enum Hole {
    Endpoints,
    Flows,
}

impl Hole {
    /// What stands for the array while the rest of the report is laid out
    /// (control characters no export puts in a name).
    fn text(self) -> &'static str {
        match self {
            Hole::Endpoints => "\u{0}fundtrail:endpoints\u{0}",
            Hole::Flows => "\u{0}fundtrail:flows\u{0}",
        }
    }

    /// [`Hole::text`] as the JSON string the printer writes for it.
    fn marker(self) -> String {
        serde_json::to_string(self.text()).expect("a string serializes")
    }
}

thread_local! {
    /// Set while [`Json::write_to`] serializes the report without its long
    /// arrays (on its own thread, so other serializations are unaffected).
    static SKELETON: Cell<bool> = const { Cell::new(false) };
}

/// Sets [`SKELETON`] for its lifetime (also when serialization fails).
struct SkeletonOn;

impl SkeletonOn {
    fn new() -> Self {
        SKELETON.with(|s| s.set(true));
        SkeletonOn
    }
}

impl Drop for SkeletonOn {
    fn drop(&mut self) {
        SKELETON.with(|s| s.set(false));
    }
}

/// `serialize_with` for the endpoints: the array, or its marker while
/// [`Json::write_to`] lays out the rest of the report.
pub(super) fn endpoints<S: Serializer, T: Serialize>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    array_or_marker(v, s, Hole::Endpoints)
}

/// `serialize_with` for the flows, as [`endpoints`].
pub(super) fn flows<S: Serializer, T: Serialize>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    array_or_marker(v, s, Hole::Flows)
}

fn array_or_marker<S: Serializer, T: Serialize>(
    v: &[T],
    s: S,
    hole: Hole,
) -> Result<S::Ok, S::Error> {
    if SKELETON.with(Cell::get) {
        s.serialize_str(hole.text())
    } else {
        v.serialize(s)
    }
}

/// How many elements are serialized (in parallel) before they are written.
const BATCH: usize = 4096;

/// `v` as serde_json's pretty printer writes the value of a top-level key:
/// elements two levels deep, the closing bracket one level deep. While one
/// batch of elements is written, the pool serializes the next.
fn write_array<T: Serialize + Sync>(out: &mut impl Write, v: &[T]) -> std::io::Result<()> {
    if v.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let mut ready: Vec<Vec<u8>> = Vec::new();
    for (b, batch) in v.chunks(BATCH).enumerate() {
        let mut next = None;
        let mut written = Ok(());
        rayon::in_place_scope(|s| {
            s.spawn(|_| next = Some(serialize_batch(batch, b == 0)));
            written = ready.iter().try_for_each(|t| out.write_all(t));
        });
        written?;
        ready = next.expect("the batch was serialized")?;
    }
    for t in &ready {
        out.write_all(t)?;
    }
    out.write_all(b"\n  ]")
}

/// A batch of elements, each after its separator (the very first after a
/// newline only), as pieces written in order.
fn serialize_batch<T: Serialize + Sync>(batch: &[T], first: bool) -> std::io::Result<Vec<Vec<u8>>> {
    batch
        .par_chunks(64)
        .enumerate()
        .map(|(c, run)| {
            let mut text = Vec::new();
            let mut one = Vec::new();
            for (k, e) in run.iter().enumerate() {
                let sep: &[u8] = if first && c == 0 && k == 0 {
                    b"\n"
                } else {
                    b",\n"
                };
                text.extend_from_slice(sep);
                one.clear();
                serde_json::to_writer_pretty(&mut one, e)?;
                indent(&mut text, &one);
            }
            Ok(text)
        })
        .collect()
}

/// Append `value` (serde_json's pretty text of one value, at the top level)
/// indented two levels: four spaces before each line. A JSON string holds
/// no raw newline, so every newline in the text is the printer's.
fn indent(out: &mut Vec<u8>, value: &[u8]) {
    let mut from = 0;
    out.extend_from_slice(b"    ");
    for nl in memchr::memchr_iter(b'\n', value) {
        out.extend_from_slice(&value[from..=nl]);
        out.extend_from_slice(b"    ");
        from = nl + 1;
    }
    out.extend_from_slice(&value[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{Raw, RawMove};
    use crate::model::MoveKind;
    use crate::report::TraceParams;
    use crate::trace::{Policy, TracePlan};

    /// A seed paying 5000 addresses a block each: more endpoints than a
    /// batch, with evidence paths and the flow graph.
    fn fan_out() -> TraceReport {
        let mv = |block: u64, from: &str, to: String, amount: u128| {
            Raw::Move(RawMove {
                tx_hash: Some(format!("0x{block:064x}")),
                block,
                time: 1_600_000_000 + block,
                tx_index: 0,
                seq: 0,
                from: Some(from.to_string()),
                to: Some(to),
                asset: "ETH".into(),
                amount,
                kind: MoveKind::Native,
            })
        };
        let seed = format!("0x{:040x}", 1);
        let raws: Vec<Raw> = (0..5000u64)
            .map(|k| {
                mv(
                    k + 1,
                    &seed,
                    format!("0x{:040x}", 1000 + k),
                    1 + u128::from(k) * 7,
                )
            })
            .collect();
        let l = crate::ingest::build::ledger_of(raws);
        let seeds: std::collections::HashSet<_> = [l.addr_id(&seed).unwrap()].into();
        let plan = TracePlan {
            policy: Some(Policy::Haircut),
            seeds: seeds.iter().copied().collect(),
            record_flows: true,
            ..Default::default()
        };
        let result = crate::trace::run(&l, &plan);
        let params = TraceParams {
            policy: "haircut".into(),
            seeds: vec![seed],
            ..Default::default()
        };
        let labels = crate::labels::LabelSet::default();
        let mut rep = TraceReport::new(&l, &result, &labels, &params, true, vec![]);
        rep.add_paths(&l, &result, &seeds, 3, &[]);
        rep.warnings.push("two\nlines, \"quoted\", é".into());
        rep
    }

    fn written(r: &TraceReport) -> String {
        let mut out = Vec::new();
        Json.write_to(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_parallel_writer_writes_what_serde_writes() {
        let mut r = fan_out();
        assert_eq!(r.endpoints.len(), 5000);
        assert!(!r.flows.is_empty() && !r.endpoints[0].paths.is_empty());
        let plain = Json.render(&r);
        assert!(plain.contains("\"flows\": [\n    {\n      \"from\""));
        assert!(written(&r) == plain);
        // no flows: no key
        r.flows.clear();
        assert!(written(&r) == Json.render(&r));
        // the report's own text spelling a marker: the plain way
        r.warnings.push(Hole::Flows.text().into());
        assert!(written(&r) == Json.render(&r));
        r.warnings.push(Hole::Endpoints.text().into());
        assert!(written(&r) == Json.render(&r));
        // and nothing is left switched on for other serializations
        assert!(!SKELETON.with(Cell::get));
        assert!(serde_json::to_string(&r)
            .unwrap()
            .contains("\"endpoints\":[{"));
    }

    #[test]
    fn no_endpoints_is_an_empty_array() {
        let mut r = fan_out();
        r.endpoints.clear();
        r.flows.clear();
        let w = written(&r);
        assert!(w.contains("\"endpoints\": [],"));
        assert!(w == Json.render(&r));
    }
}
