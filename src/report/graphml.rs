//! `--format graphml`: the flow graph for Gephi and yEd. Node data: role,
//! categories, labels, tainted; edge data: asset, tainted (base units),
//! transfers, first and last block; graph data: the run manifest (JSON).
//! Every string from the data is escaped.

use super::{nodes, Exporter, TraceReport};

pub struct GraphMl;

use super::esc_markup as esc;

impl Exporter for GraphMl {
    fn render(&self, r: &TraceReport) -> String {
        let mut o = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
             \x20 <key id=\"role\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>\n\
             \x20 <key id=\"categories\" for=\"node\" attr.name=\"categories\" attr.type=\"string\"/>\n\
             \x20 <key id=\"labels\" for=\"node\" attr.name=\"labels\" attr.type=\"string\"/>\n\
             \x20 <key id=\"held\" for=\"node\" attr.name=\"tainted\" attr.type=\"string\"/>\n\
             \x20 <key id=\"asset\" for=\"edge\" attr.name=\"asset\" attr.type=\"string\"/>\n\
             \x20 <key id=\"tainted\" for=\"edge\" attr.name=\"tainted\" attr.type=\"string\"/>\n\
             \x20 <key id=\"transfers\" for=\"edge\" attr.name=\"transfers\" attr.type=\"long\"/>\n\
             \x20 <key id=\"first_block\" for=\"edge\" attr.name=\"first_block\" attr.type=\"long\"/>\n\
             \x20 <key id=\"last_block\" for=\"edge\" attr.name=\"last_block\" attr.type=\"long\"/>\n\
             \x20 <key id=\"manifest\" for=\"graph\" attr.name=\"manifest\" attr.type=\"string\"/>\n",
        );
        o.push_str(&format!(
            "  <graph id=\"{}\" edgedefault=\"directed\">\n",
            esc(&format!("fundtrail {} {}", r.fundtrail, r.policy))
        ));
        if !r.manifest.is_empty() {
            o.push_str(&format!(
                "    <data key=\"manifest\">{}</data>\n",
                esc(&r.manifest.json_line())
            ));
        }
        for n in nodes(r) {
            o.push_str(&format!("    <node id=\"{}\">\n", esc(&n.address)));
            o.push_str(&format!("      <data key=\"role\">{}</data>\n", n.role));
            for (k, v) in [
                ("categories", &n.categories),
                ("labels", &n.labels),
                ("held", &n.tainted),
            ] {
                if !v.is_empty() {
                    o.push_str(&format!("      <data key=\"{k}\">{}</data>\n", esc(v)));
                }
            }
            o.push_str("    </node>\n");
        }
        for (i, e) in r.flows.iter().enumerate() {
            o.push_str(&format!(
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\">\n\
                 \x20     <data key=\"asset\">{}</data>\n\
                 \x20     <data key=\"tainted\">{}</data>\n\
                 \x20     <data key=\"transfers\">{}</data>\n\
                 \x20     <data key=\"first_block\">{}</data>\n\
                 \x20     <data key=\"last_block\">{}</data>\n\
                 \x20   </edge>\n",
                esc(&e.from),
                esc(&e.to),
                esc(&e.asset),
                e.tainted,
                e.transfers,
                e.first_block,
                e.last_block
            ));
        }
        o.push_str("  </graph>\n</graphml>\n");
        o
    }
}
