//! `--format dot`: the flow graph for Graphviz (`dot -Tsvg`). Nodes are
//! addresses (seeds as boxes, services as double octagons, holdings as
//! ellipses, transit as points), edges the taint that moved between them.
//! Every string from the data is escaped. The run manifest is a comment
//! line (JSON) at the top.

use super::{human, nodes, short, Exporter, TraceReport};

pub struct Dot;

/// A DOT double-quoted string: backslashes, quotes and line breaks escaped.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Exporter for Dot {
    fn render(&self, r: &TraceReport) -> String {
        let mut o = String::new();
        if !r.manifest.is_empty() {
            // one line of JSON: it has no raw line break to end the comment
            o.push_str(&format!(
                "// fundtrail run manifest: {}\n",
                r.manifest.json_line()
            ));
        }
        o.push_str("digraph fundtrail {\n  rankdir=LR;\n  node [fontname=\"monospace\", fontsize=10];\n  edge [fontname=\"monospace\", fontsize=9];\n",
        );
        o.push_str(&format!(
            "  label={};\n",
            quote(&format!(
                "fundtrail {}: policy {}, seeds {}",
                r.fundtrail,
                r.policy,
                r.seeds.join(", ")
            ))
        ));
        for n in nodes(r) {
            let shape = match n.role {
                "seed" => "box, style=filled, fillcolor=\"#f4cccc\"",
                "service" => "doubleoctagon, style=filled, fillcolor=\"#cfe2f3\"",
                "holding" => "ellipse, style=filled, fillcolor=\"#fff2cc\"",
                _ => "ellipse",
            };
            let mut label = short(&n.address);
            if !n.labels.is_empty() {
                label.push('\n');
                label.push_str(&n.labels);
            } else if !n.categories.is_empty() {
                label.push('\n');
                label.push_str(&n.categories);
            }
            if !n.tainted.is_empty() {
                label.push('\n');
                label.push_str(&n.tainted);
            }
            o.push_str(&format!(
                "  {} [shape={shape}, label={}, tooltip={}];\n",
                quote(&n.address),
                quote(&label),
                quote(&n.address)
            ));
        }
        for e in &r.flows {
            o.push_str(&format!(
                "  {} -> {} [label={}];\n",
                quote(&e.from),
                quote(&e.to),
                quote(&format!(
                    "{} ({} transfer{})",
                    human(e.tainted, e.symbol.as_deref(), e.decimals, &e.asset),
                    e.transfers,
                    if e.transfers == 1 { "" } else { "s" }
                ))
            ));
        }
        o.push_str("}\n");
        o
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_escape_what_dot_would_read() {
        assert_eq!(super::quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(super::quote("x\ny"), r#""x\ny""#);
    }
}
