//! `--format dot` and `--format graphml`: the flow graph of the demo trace
//! renders with Graphviz, parses as XML, and carries hostile label text as
//! text.

mod common;
use common::*;
use std::collections::BTreeSet;

const SEED: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";
const BINANCE: &str = "0x62696e616e6365e039637af0906aec166b649791";
const HOSTILE: &str = "<script>alert(1)</script> \"quoted\" & 'more'";

fn demo(format: &str) -> String {
    let dir = tempdir();
    let labels = write(
        dir.path(),
        "labels.csv",
        format!(
            "address,category,label\n{BINANCE},exchange,\"{}\"\n",
            HOSTILE.replace('"', "\"\"")
        ),
    );
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--format", format,
    ])
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(labels);
    stdout_ok(&mut c)
}

#[test]
fn graphml_parses_and_every_edge_joins_two_nodes() {
    let text = demo("graphml");
    let doc = roxmltree::Document::parse(&text).expect("GraphML is well-formed XML");
    let nodes: BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("node"))
        .map(|n| n.attribute("id").unwrap())
        .collect();
    let edges: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("edge"))
        .map(|n| {
            (
                n.attribute("source").unwrap(),
                n.attribute("target").unwrap(),
            )
        })
        .collect();
    assert!(!edges.is_empty());
    for (a, b) in &edges {
        assert!(nodes.contains(a) && nodes.contains(b), "{a} -> {b}");
    }
    assert!(nodes.contains(SEED) && nodes.contains(BINANCE));
    // the hostile label comes back as the same text, never as markup
    let binance = doc
        .descendants()
        .find(|n| n.has_tag_name("node") && n.attribute("id") == Some(BINANCE))
        .unwrap();
    let labels = binance
        .children()
        .find(|c| c.attribute("key") == Some("labels"))
        .and_then(|c| c.text())
        .unwrap();
    assert_eq!(labels, HOSTILE);
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    // the demo's edges into Binance carry its whole tainted amount
    let into: u128 = doc
        .descendants()
        .filter(|n| n.has_tag_name("edge") && n.attribute("target") == Some(BINANCE))
        .map(|e| {
            e.children()
                .find(|c| c.attribute("key") == Some("tainted"))
                .and_then(|c| c.text())
                .unwrap()
                .parse::<u128>()
                .unwrap()
        })
        .sum();
    assert_eq!(into, 216_399_999_999_999_999_999);
}

#[test]
fn dot_renders_with_graphviz() {
    let text = demo("dot");
    // the run manifest, one line of JSON in a comment, then the graph
    let (comment, graph) = text.split_once('\n').unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(comment.strip_prefix("// fundtrail run manifest: ").unwrap()).unwrap();
    assert_eq!(manifest["parameters"]["policy"], "haircut");
    assert!(graph.starts_with("digraph fundtrail {"));
    assert!(text.contains(&format!("\"{SEED}\" [shape=box")));
    assert!(
        text.contains("\\\"quoted\\\""),
        "quotes in labels are escaped"
    );
    let dot = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` (scripts/test installs Debian's graphviz)");
    use std::io::Write;
    dot.stdin
        .as_ref()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = dot.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.contains("<svg"));
    assert!(svg.contains("Binance") || svg.contains("&lt;script&gt;"));
    assert!(!svg.contains("<script>"), "the label is text in the SVG");
}

#[test]
fn flow_graphs_draw_one_trace_not_many_cases() {
    let dir = tempdir();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        format!("{{\"name\":\"a\",\"seeds\":[\"{SEED}\"]}}\n"),
    );
    let mut c = fundtrail();
    c.args(["trace", "--policy", "haircut", "--format", "dot", "--cases"])
        .arg(&cases)
        .arg(fixture("demo"));
    c.assert()
        .failure()
        .stderr(stderr_has(&[
            "--format dot, graphml and html draw one trace's flow graph",
        ]))
        .stderr(no_panic());
}
