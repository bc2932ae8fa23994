//! `--format html`: one self-contained file an analyst can open offline and
//! hand on. Summary, totals with the conservation identity, a sortable
//! endpoint table with every score component, an interactive flow graph
//! (pan, zoom, click an address for its movements), the evidence paths of
//! each endpoint, and the run manifest.
//!
//! Everything is rendered here as escaped HTML and SVG; the script only
//! sorts, pans, zooms and shows details, building its elements with
//! `textContent` from a JSON island (`<script type="application/json">`,
//! with `<`, `>` and `&` written as `\u` escapes so no string can end it).
//! A Content-Security-Policy forbids every network request.

use super::graph::FlowGraph;
use super::{human, short, EndpointView, Exporter, TraceReport};
use serde::Serialize;
use std::fmt::Write;

/// The report; `top` limits the endpoint table (the totals cover all).
pub struct Html {
    pub top: Option<usize>,
}

/// Most addresses drawn in the flow graph (the heaviest flows first).
pub const MAX_GRAPH_NODES: usize = 250;
/// Endpoints whose paths are shown (JSON has them all).
pub const MAX_PATH_ENDPOINTS: usize = 100;
/// Endpoint rows when `--top` is not given (JSON has them all).
pub const MAX_TABLE_ROWS: usize = 1000;
/// Movements kept for the address panel (those of drawn addresses).
pub const MAX_PANEL_FLOWS: usize = 50_000;

pub use super::esc_markup as esc;

/// JSON that is safe inside a `<script>` element.
pub fn script_json<T: Serialize>(v: &T) -> String {
    let s = serde_json::to_string(v).unwrap_or_else(|_| "null".to_string());
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("\\u003c"),
            '>' => o.push_str("\\u003e"),
            '&' => o.push_str("\\u0026"),
            '\u{2028}' => o.push_str("\\u2028"),
            '\u{2029}' => o.push_str("\\u2029"),
            c => o.push(c),
        }
    }
    o
}

#[derive(Serialize)]
struct GNode<'a> {
    address: &'a str,
    role: &'a str,
    labels: &'a str,
    categories: &'a str,
}

#[derive(Serialize)]
struct GFlow {
    from: String,
    to: String,
    amount: String,
    transfers: u64,
    first_block: u32,
    last_block: u32,
}

#[derive(Serialize)]
struct GEndpoint<'a> {
    rank: usize,
    address: &'a str,
    amount: String,
    kind: &'a str,
    score: f64,
}

#[derive(Serialize)]
struct Island<'a> {
    nodes: Vec<GNode<'a>>,
    flows: Vec<GFlow>,
    endpoints: Vec<GEndpoint<'a>>,
}

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

fn amount_of(e: &EndpointView, v: u128) -> String {
    human(v, e.symbol.as_deref(), e.decimals, &e.asset)
}

impl Exporter for Html {
    fn render(&self, r: &TraceReport) -> String {
        let mut o = String::with_capacity(64 * 1024);
        let title = format!(
            "fundtrail report: {} from {}",
            r.policy,
            if r.seeds.is_empty() {
                r.seed_txs.join(", ")
            } else {
                r.seeds.join(", ")
            }
        );
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"generator\" content=\"fundtrail {}\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
            esc(r.fundtrail),
            esc(&title)
        );
        summary(&mut o, r);
        totals(&mut o, r);
        endpoints(&mut o, r, self.top);
        let g = FlowGraph::new(r, MAX_GRAPH_NODES);
        let island = graph(&mut o, r, &g);
        paths(&mut o, r);
        peel_chains(&mut o, r);
        manifest(&mut o, r);
        let _ = write!(
            o,
            "<script type=\"application/json\" id=\"data\">{}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
            script_json(&island)
        );
        o
    }
}

fn summary(o: &mut String, r: &TraceReport) {
    let _ = writeln!(
        o,
        "<header><h1>fundtrail trace report</h1>\n<p class=\"sub\">fundtrail {} · policy <b>{}</b> · mixers {} · CoinJoins {} · stop at {} · min taint {}</p></header>",
        esc(r.fundtrail),
        esc(&r.policy),
        esc(&r.mixer),
        esc(&r.coinjoin),
        esc(&if r.stop_at.is_empty() { "-".to_string() } else { r.stop_at.join(", ") }),
        r.min_taint
    );
    let _ = writeln!(o, "<section id=\"summary\"><h2>Summary</h2>\n<dl>");
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.iter()
                .map(|s| format!("<code>{}</code>", esc(s)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let _ = writeln!(o, "<dt>Seeds</dt><dd>{}</dd>", list(&r.seeds));
    if !r.seed_txs.is_empty() {
        let _ = writeln!(
            o,
            "<dt>Seed transactions</dt><dd>{}</dd>",
            list(&r.seed_txs)
        );
    }
    let actionable = r.endpoints.iter().filter(|e| e.actionable).count();
    let _ = writeln!(
        o,
        "<dt>Endpoints</dt><dd>{} ({} actionable: labelled exchange)</dd>",
        r.endpoints.len(),
        actionable
    );
    for (asset, t) in &r.totals {
        let h = |v| human(v, t.symbol.as_deref(), t.decimals, asset);
        let located = t.held.saturating_add(t.absorbed);
        let pct = if t.seeded == 0 {
            0.0
        } else {
            located as f64 / t.seeded as f64 * 100.0
        };
        let top: Vec<&EndpointView> = r
            .endpoints
            .iter()
            .filter(|e| &e.asset == asset && e.actionable)
            .take(3)
            .collect();
        let _ = writeln!(
            o,
            "<dt>{}</dt><dd>{} stolen; {} ({pct:.2}%) located at endpoints: {} held, {} absorbed by services{}</dd>",
            esc(t.symbol.as_deref().unwrap_or(asset)),
            esc(&h(t.seeded)),
            esc(&h(located)),
            esc(&h(t.held)),
            esc(&h(t.absorbed)),
            if top.is_empty() {
                String::new()
            } else {
                format!(
                    "; at exchanges first: {}",
                    top.iter()
                        .map(|e| format!(
                            "<code>{}</code> ({}{})",
                            esc(&short(&e.address)),
                            esc(&amount_of(e, e.tainted)),
                            e.labels
                                .first()
                                .map(|l| format!(", {}", esc(&l.label)))
                                .unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let _ = writeln!(o, "</dl>");
    for w in &r.warnings {
        let _ = writeln!(o, "<p class=\"warn\">warning: {}</p>", esc(w));
    }
    let _ = writeln!(o, "</section>");
}

fn totals(o: &mut String, r: &TraceReport) {
    let _ = writeln!(
        o,
        "<section id=\"totals\"><h2>Totals and conservation</h2>\n<p>For every policy but poison, per asset and to the base unit: <b>seeded = held + absorbed + fees + below threshold</b>.</p>\n<table class=\"totals\"><thead><tr><th>asset</th><th>seeded</th><th>=</th><th>held</th><th>+</th><th>absorbed</th><th>+</th><th>fees</th><th>+</th><th>below threshold</th><th>identity</th></tr></thead><tbody>"
    );
    for (asset, t) in &r.totals {
        let h = |v| esc(&human(v, t.symbol.as_deref(), t.decimals, asset));
        let (class, status) = if t.conserved {
            ("ok", "conserved")
        } else if r.policy == "poison" {
            ("na", "poison does not conserve")
        } else {
            ("bad", "NOT CONSERVED")
        };
        let _ = writeln!(
            o,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td>=</td><td>{}</td><td>+</td><td>{}</td><td>+</td><td>{}</td><td>+</td><td>{}</td><td class=\"{class}\">{status}</td></tr>",
            esc(asset),
            esc(t.symbol.as_deref().unwrap_or(&short(asset))),
            h(t.seeded),
            h(t.held),
            h(t.absorbed),
            h(t.fees),
            h(t.below_threshold)
        );
    }
    let _ = writeln!(o, "</tbody></table></section>");
}

fn endpoints(o: &mut String, r: &TraceReport, top: Option<usize>) {
    let shown = top.unwrap_or(MAX_TABLE_ROWS).min(r.endpoints.len());
    let _ = writeln!(
        o,
        "<section id=\"endpoints\"><h2>Endpoints</h2>\n<p class=\"note\">Ranked by <b>score = share × confidence × purity weight × category weight</b>, with <b>confidence = passage × agreement × hop weight</b> (see the README: every factor is shown). Click a column to sort.</p>"
    );
    if r.endpoints.is_empty() {
        let _ = writeln!(
            o,
            "<p>No endpoints: no taint reached any address.</p></section>"
        );
        return;
    }
    let _ = writeln!(
        o,
        "<table id=\"endpoint-table\" class=\"sortable\"><thead><tr>\
<th data-type=\"num\">rank</th><th data-type=\"text\">address</th><th data-type=\"text\">asset</th>\
<th data-type=\"int\">tainted</th><th data-type=\"num\">share</th><th data-type=\"num\">score</th>\
<th data-type=\"num\">confidence</th><th data-type=\"num\">purity</th><th data-type=\"num\">hops</th>\
<th data-type=\"text\">kind</th><th data-type=\"text\">labels</th><th data-type=\"text\">evidence</th></tr></thead><tbody>"
    );
    for e in &r.endpoints[..shown] {
        let labels: Vec<String> = e
            .labels
            .iter()
            .map(|l| {
                format!(
                    "<span class=\"label cat-{}\" title=\"{}\">{}{}</span>",
                    esc(&css_class(&l.category)),
                    esc(&l.source),
                    esc(&l.category),
                    if l.label.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", esc(&l.label))
                    }
                )
            })
            .collect();
        let mut evidence: Vec<String> = e.notes().iter().map(|n| esc(n)).collect();
        if let Some(k) = e.peel_chain {
            evidence.push(format!("<a href=\"#peel-{k}\">peel chain [{k}]</a>"));
        }
        if !e.paths.is_empty() && e.rank <= MAX_PATH_ENDPOINTS {
            evidence.push(format!(
                "<a href=\"#paths-{}\">{} path{}</a>",
                e.rank,
                e.paths.len(),
                if e.paths.len() == 1 { "" } else { "s" }
            ));
        }
        let w = &e.weights;
        let _ = writeln!(
            o,
            "<tr data-address=\"{addr}\"{act}><td data-v=\"{rank}\">{rank}</td><td data-v=\"{addr}\"><code class=\"addr\" title=\"{addr}\">{addr}</code></td>\
<td data-v=\"{asset}\" title=\"{asset}\">{asset_short}</td><td data-v=\"{tainted}\" title=\"{tainted} base units\">{amount}</td>\
<td data-v=\"{share}\">{share_pct:.2}%</td><td data-v=\"{score}\" title=\"share {share:.4} × confidence {conf:.4} × purity weight {wp:.3} × category weight {wc:.2}\">{score:.4}</td>\
<td data-v=\"{conf}\" title=\"passage {wpa:.3} × agreement {wa:.3} × hops {wh:.3}\">{conf:.3}</td><td data-v=\"{purity}\" title=\"received {received} base units\">{purity_pct:.1}%</td>\
<td data-v=\"{hops}\">{hops}</td><td data-v=\"{kind}\">{kind}</td><td data-v=\"{labels_text}\">{labels}</td><td>{evidence}</td></tr>",
            addr = esc(&e.address),
            act = if e.actionable { " class=\"actionable\"" } else { "" },
            rank = e.rank,
            asset = esc(&e.asset),
            asset_short = esc(e.symbol.as_deref().unwrap_or(&short(&e.asset))),
            tainted = e.tainted,
            amount = esc(&amount_of(e, e.tainted)),
            share = e.share,
            share_pct = e.share * 100.0,
            score = e.score,
            conf = e.confidence,
            wp = w.purity,
            wc = w.category,
            wpa = w.passage,
            wa = w.agreement,
            wh = w.hops,
            purity = e.purity,
            purity_pct = e.purity * 100.0,
            received = e.received,
            hops = e.hops,
            kind = esc(e.kind),
            labels_text = esc(
                &e.labels
                    .iter()
                    .map(|l| format!("{} {}", l.category, l.label))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            labels = labels.join(" "),
            evidence = evidence.join("; "),
        );
    }
    let _ = writeln!(o, "</tbody></table>");
    if shown < r.endpoints.len() {
        let _ = writeln!(
            o,
            "<p class=\"note\">… and {} more endpoints (the first {shown} are shown; --top sets how many, --format json lists all).</p>",
            r.endpoints.len() - shown
        );
    }
    let _ = writeln!(o, "</section>");
}

/// A category as a CSS class suffix: letters, digits and `-` only.
fn css_class(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Drawing: a layer taller than `MAX_ROWS` wraps into several columns.
const COLUMN_W: f64 = 250.0;
const LAYER_GAP: f64 = 90.0;
const ROW_H: f64 = 56.0;
const MAX_ROWS: usize = 16;
const MARGIN: f64 = 60.0;

fn graph<'a>(o: &mut String, r: &'a TraceReport, g: &'a FlowGraph) -> Island<'a> {
    let places = g.layout();
    // each layer is as many columns wide as its rows need
    let layers = places.iter().map(|p| p.column + 1).max().unwrap_or(0);
    let mut rows = vec![0usize; layers];
    for p in &places {
        rows[p.column] = rows[p.column].max(p.row + 1);
    }
    let mut start = vec![MARGIN; layers + 1];
    for c in 0..layers {
        start[c + 1] = start[c] + rows[c].div_ceil(MAX_ROWS) as f64 * COLUMN_W + LAYER_GAP;
    }
    let xy = |i: usize| {
        let p = places[i];
        (
            start[p.column] + (p.row / MAX_ROWS) as f64 * COLUMN_W,
            MARGIN + (p.row % MAX_ROWS) as f64 * ROW_H,
        )
    };
    // the last column's labels need about 220 units
    let width = start[layers] - LAYER_GAP - COLUMN_W + 220.0 + MARGIN;
    let height =
        rows.iter().copied().max().unwrap_or(0).min(MAX_ROWS) as f64 * ROW_H + 2.0 * MARGIN;
    let _ = writeln!(
        o,
        "<section id=\"graph\"><h2>Flow graph</h2>\n<p class=\"note\">Tainted transfers between addresses, summed; columns are hops from a seed. Drag to pan, wheel or the buttons to zoom, click an address for its movements.{}</p>",
        if g.omitted_nodes > 0 {
            format!(
                " Showing {} of {} addresses (the heaviest flows); the JSON output has every flow.",
                g.graph.node_count(),
                g.graph.node_count() + g.omitted_nodes
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "<div class=\"graph-wrap\"><div class=\"graph-tools\"><button type=\"button\" id=\"zoom-in\" title=\"zoom in\">+</button><button type=\"button\" id=\"zoom-out\" title=\"zoom out\">−</button><button type=\"button\" id=\"zoom-fit\" title=\"fit\">fit</button></div>\n\
<svg id=\"flow\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" data-width=\"{width:.0}\" data-height=\"{height:.0}\" role=\"img\" aria-label=\"flow graph\">\n\
<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#8a8a8a\"/></marker></defs>\n<g id=\"viewport\">"
    );
    // the movements the address panel can show: those of drawn addresses
    let drawn: std::collections::HashSet<&str> =
        g.graph.node_weights().map(|n| n.address.as_str()).collect();
    let mut panel_of = std::collections::HashMap::new();
    let mut flows = Vec::new();
    for (i, f) in r.flows.iter().enumerate() {
        if flows.len() == MAX_PANEL_FLOWS {
            break;
        }
        if drawn.contains(f.from.as_str()) || drawn.contains(f.to.as_str()) {
            panel_of.insert(i, flows.len());
            flows.push(GFlow {
                from: f.from.clone(),
                to: f.to.clone(),
                amount: human(f.tainted, f.symbol.as_deref(), f.decimals, &f.asset),
                transfers: f.transfers,
                first_block: f.first_block,
                last_block: f.last_block,
            });
        }
    }
    // stroke width from the share of its asset's seeded total an edge
    // carried (drawing only)
    let seeded = |asset: &str| r.totals.get(asset).map_or(0, |t| t.seeded);
    let _ = writeln!(o, "<g class=\"edges\">");
    for e in g.graph.edge_indices() {
        let (a, b) = g.graph.edge_endpoints(e).expect("edge of the graph");
        if a == b {
            continue;
        }
        let f = &r.flows[g.graph[e]];
        let (x1, y1) = xy(a.index());
        let (x2, y2) = xy(b.index());
        let s = seeded(&f.asset);
        let share = if s == 0 {
            0.0
        } else {
            (f.tainted as f64 / s as f64).min(1.0)
        };
        let w = 1.0 + 7.0 * share.sqrt();
        let mx = (x1 + x2) / 2.0;
        let _ = writeln!(
            o,
            "<path class=\"edge\"{} d=\"M {:.1} {:.1} C {mx:.1} {y1:.1}, {mx:.1} {y2:.1}, {:.1} {:.1}\" stroke-width=\"{w:.2}\" marker-end=\"url(#arrow)\"><title>{} → {}: {} ({} transfer{}, blocks {}–{})</title></path>",
            panel_of
                .get(&g.graph[e])
                .map(|k| format!(" data-flow=\"{k}\""))
                .unwrap_or_default(),
            x1 + 10.0,
            y1,
            x2 - 12.0,
            y2,
            esc(&short(&f.from)),
            esc(&short(&f.to)),
            esc(&human(f.tainted, f.symbol.as_deref(), f.decimals, &f.asset)),
            f.transfers,
            if f.transfers == 1 { "" } else { "s" },
            f.first_block,
            f.last_block
        );
    }
    let _ = writeln!(o, "</g>\n<g class=\"nodes\">");
    let mut nodes = Vec::with_capacity(g.graph.node_count());
    for i in g.graph.node_indices() {
        let n = &g.graph[i];
        let (x, y) = xy(i.index());
        let caption = if !n.labels.is_empty() {
            n.labels.clone()
        } else if !n.categories.is_empty() {
            n.categories.clone()
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<g class=\"node role-{role}\" data-node=\"{idx}\" tabindex=\"0\" transform=\"translate({x:.1} {y:.1})\"><circle r=\"9\"/><text class=\"addr\" x=\"14\" y=\"-2\">{addr}</text><text class=\"cap\" x=\"14\" y=\"12\">{cap}</text><title>{full}</title></g>",
            role = esc(n.role),
            idx = i.index(),
            addr = esc(&short(&n.address)),
            cap = esc(&truncate(&caption, 40)),
            full = esc(&format!(
                "{} ({}){}{}",
                n.address,
                n.role,
                if n.labels.is_empty() { String::new() } else { format!("\n{}", n.labels) },
                if n.tainted.is_empty() { String::new() } else { format!("\n{}", n.tainted) }
            )),
        );
        nodes.push(GNode {
            address: &n.address,
            role: n.role,
            labels: &n.labels,
            categories: &n.categories,
        });
    }
    let _ = writeln!(
        o,
        "</g></g></svg>\n<aside id=\"detail\" aria-live=\"polite\"><p class=\"note\">Click an address in the graph.</p></aside></div>\n<p class=\"legend\"><span class=\"dot role-seed\"></span> seed <span class=\"dot role-service\"></span> service (absorbed) <span class=\"dot role-holding\"></span> holding <span class=\"dot role-transit\"></span> transit</p></section>"
    );
    Island {
        nodes,
        flows,
        endpoints: r
            .endpoints
            .iter()
            .filter(|e| drawn.contains(e.address.as_str()))
            .map(|e| GEndpoint {
                rank: e.rank,
                address: &e.address,
                amount: amount_of(e, e.tainted),
                kind: e.kind,
                score: e.score,
            })
            .collect(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn paths(o: &mut String, r: &TraceReport) {
    let with: Vec<&EndpointView> = r
        .endpoints
        .iter()
        .filter(|e| !e.paths.is_empty() && e.rank <= MAX_PATH_ENDPOINTS)
        .collect();
    let _ = writeln!(
        o,
        "<section id=\"paths\"><h2>Evidence paths</h2>\n<p class=\"note\">Per endpoint, the heaviest paths from the seeds: each moves forward in time, and its width is the least taint any step carried. A peel chain is one step.</p>"
    );
    if with.is_empty() {
        let _ = writeln!(o, "<p>No paths were recorded (--paths 0).</p>");
    }
    for e in with {
        let _ = writeln!(
            o,
            "<details id=\"paths-{}\"{}><summary>#{} <code>{}</code> {} {}</summary>",
            e.rank,
            if e.rank <= 3 { " open" } else { "" },
            e.rank,
            esc(&e.address),
            esc(&amount_of(e, e.tainted)),
            esc(e.kind)
        );
        for (k, p) in e.paths.iter().enumerate() {
            let _ = writeln!(
                o,
                "<div class=\"path\"><h3>Path {} · width {}</h3><ol>",
                k + 1,
                esc(&amount_of(e, p.width))
            );
            for s in &p.steps {
                let when = super::utc(s.time);
                if s.kind == "peel_chain" {
                    let _ = writeln!(
                        o,
                        "<li class=\"peel\"><a href=\"#peel-{}\">peel chain [{}]</a> of {} transfers, blocks {}–{}: <code>{}</code> → <code>{}</code>, at least {}<br><span class=\"tx\">tx {} … {}</span></li>",
                        s.peel_chain.unwrap_or(0),
                        s.peel_chain.unwrap_or(0),
                        s.transfers.unwrap_or(0),
                        s.block,
                        s.last_block.unwrap_or(s.block),
                        esc(&s.from),
                        esc(&s.to),
                        esc(&amount_of(e, s.tainted)),
                        esc(&s.tx),
                        esc(s.last_tx.as_deref().unwrap_or(""))
                    );
                } else {
                    let _ = writeln!(
                        o,
                        "<li>block {} ({when}): <code>{}</code> → <code>{}</code>, {}<br><span class=\"tx\">tx {}</span></li>",
                        s.block,
                        esc(&s.from),
                        esc(&s.to),
                        esc(&amount_of(e, s.tainted)),
                        esc(&s.tx)
                    );
                }
            }
            let _ = writeln!(o, "</ol></div>");
        }
        let _ = writeln!(o, "</details>");
    }
    let _ = writeln!(o, "</section>");
}

fn peel_chains(o: &mut String, r: &TraceReport) {
    if r.peel_chains.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<section id=\"peel-chains\"><h2>Peel chains on the trail</h2><ul>"
    );
    for c in &r.peel_chains {
        let _ = writeln!(
            o,
            "<li id=\"peel-{}\">[{}] {} <span class=\"tx\">(from <code>{}</code>, tx {} … {})</span></li>",
            c.id,
            c.id,
            esc(&c.summary),
            esc(&c.first_owner),
            esc(&c.first_tx),
            esc(&c.last_tx)
        );
    }
    let _ = writeln!(o, "</ul></section>");
}

fn manifest(o: &mut String, r: &TraceReport) {
    let m = &r.manifest;
    let _ = writeln!(
        o,
        "<section id=\"manifest\"><h2>Run manifest</h2>\n<p>To reproduce: fundtrail {} with the inputs and parameters below.</p>",
        esc(m.fundtrail)
    );
    if !m.command.is_empty() {
        let _ = writeln!(o, "<pre class=\"cmd\">{}</pre>", esc(&m.command));
    }
    let _ = writeln!(
        o,
        "<table class=\"files\"><thead><tr><th>input</th><th>bytes</th><th>sha256</th></tr></thead><tbody>"
    );
    for f in m.inputs.iter().chain(&m.labels) {
        let _ = writeln!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td><code class=\"hash\">{}</code></td></tr>",
            esc(&f.path),
            f.bytes,
            esc(&f.sha256)
        );
    }
    let params = serde_json::to_string_pretty(&m.parameters).unwrap_or_default();
    let _ = writeln!(
        o,
        "</tbody></table>\n<details><summary>parameters</summary><pre>{}</pre></details></section>",
        esc(&params)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_text() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn json_islands_cannot_close_their_script() {
        let s = script_json(&vec!["</script><script>alert(1)</script>", "a&b\u{2028}"]);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
        assert_eq!(back[1], "a&b\u{2028}");
    }
}
