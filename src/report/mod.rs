//! Report: the serialisable view of a trace, and one exporter per output
//! format. Only this layer knows the output schema (SPEC.md §5).

pub mod csv;
pub mod dot;
pub mod graph;
pub mod graphml;
pub mod html;
pub mod json;
pub mod score;
pub mod table;

use crate::amount::format_units;
use crate::labels::LabelSet;
use crate::ledger::Ledger;
use crate::model::{Amount, AssetId};
use crate::trace::{Totals, TraceResult};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the user asked for, as given (for the output and its manifest).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TraceParams {
    pub policy: String,
    pub seeds: Vec<String>,
    pub seed_txs: Vec<String>,
    pub stop_at: Vec<String>,
    #[serde(with = "dec")]
    pub min_taint: Amount,
    /// `pass`, `stop` or `demix` (empty: not given, as `pass`).
    pub mixer: String,
    /// `pass` or `stop` (empty: not given, as `pass`).
    pub coinjoin: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TotalsView {
    #[serde(with = "dec")]
    pub seeded: Amount,
    #[serde(with = "dec")]
    pub held: Amount,
    #[serde(with = "dec")]
    pub absorbed: Amount,
    #[serde(with = "dec")]
    pub fees: Amount,
    #[serde(with = "dec")]
    pub below_threshold: Amount,
    /// `seeded == held + absorbed + fees + below_threshold` (never for poison).
    pub conserved: bool,
    #[serde(skip)]
    pub symbol: Option<String>,
    #[serde(skip)]
    pub decimals: Option<u8>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabelView {
    pub category: String,
    pub label: String,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EndpointView {
    pub rank: usize,
    pub address: String,
    pub asset: String,
    /// The ledger's ids of `address` and `asset` (not output).
    #[serde(skip)]
    pub addr: crate::model::AddrId,
    #[serde(skip)]
    pub asset_id: AssetId,
    #[serde(with = "dec")]
    pub tainted: Amount,
    pub kind: &'static str,
    pub labels: Vec<LabelView>,
    pub hops: u32,
    /// Share of the asset's seeded total that this endpoint holds or absorbed.
    pub share: f64,
    /// Everything the endpoint received of the asset in the sample (base
    /// units), and `purity`: the tainted share of it (can exceed 1 under
    /// poison, and when taint was already there before the sample).
    #[serde(with = "dec")]
    pub received: Amount,
    pub purity: f64,
    /// Labelled with a category whose holder can freeze funds (`exchange`).
    pub actionable: bool,
    /// How sure the attribution is (0 to 1): passage × agreement × hops
    /// weights (see `score`).
    pub confidence: f64,
    /// The factors of `score` besides `share` (module `report::score`).
    pub weights: score::Weights,
    /// `share × confidence × weights.purity × weights.category`: the rank
    /// order.
    pub score: f64,
    /// Present when taint reached the endpoint through a mixer pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixer: Option<MixerView>,
    /// Present when taint reached the endpoint through a CoinJoin (or
    /// stopped entering one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coinjoin: Option<CoinJoinView>,
    /// The peel chain (number in `peel_chains`, from 1) this endpoint is a
    /// peel recipient or the final change holder of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peel_chain: Option<usize>,
    /// With `--policies`: which policies list this endpoint, and the least
    /// and most taint any of them gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    /// The heaviest paths from the seeds (`--paths K`), widest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(skip)]
    pub decimals: Option<u8>,
}

/// How taint passed a mixer pool on its way to an endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct MixerView {
    /// The pool's address.
    pub pool: String,
    /// `link`: along a demixing link; `pass`: through the pool under the
    /// policy (no link explains it).
    pub via: &'static str,
    /// The best link's confidence (0 to 1); absent for `pass`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// How much of the endpoint's taint crossed the pool (base units, followed
    /// in proportion), and that as a share of `tainted`.
    #[serde(with = "dec")]
    pub tainted: Amount,
    pub share: f64,
}

/// The CoinJoin taint passed (or stopped at).
#[derive(Clone, Debug, Serialize)]
pub struct CoinJoinView {
    pub tx: String,
    /// The detector's confidence that it is a CoinJoin (0 to 1).
    pub confidence: f64,
    /// `true` under `--coinjoin stop`: the taint stopped entering it (and
    /// is certainly there); `false`: it passed through.
    pub stopped: bool,
    /// How much of the endpoint's taint crossed (or stopped at) a CoinJoin,
    /// followed in proportion, and that as a share of `tainted`.
    #[serde(with = "dec")]
    pub tainted: Amount,
    pub share: f64,
}

/// How several policies agree on one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    /// The policies that list it (the report's own first).
    pub listed_by: Vec<String>,
    /// How many policies were compared.
    pub of: usize,
    #[serde(with = "dec")]
    pub min: Amount,
    #[serde(with = "dec")]
    pub max: Amount,
}

/// A peel chain on the trail: one step in explanations.
#[derive(Clone, Debug, Serialize)]
pub struct PeelChainView {
    /// Number in the report, from 1.
    pub id: usize,
    /// `utxo` or `account`.
    pub model: &'static str,
    pub asset: String,
    pub steps: usize,
    pub first_tx: String,
    pub last_tx: String,
    pub first_owner: String,
    #[serde(with = "dec")]
    pub start_value: Amount,
    #[serde(with = "dec")]
    pub total_peeled: Amount,
    pub peel_recipients: usize,
    #[serde(with = "dec")]
    pub final_change: Amount,
    pub final_owner: String,
    pub summary: String,
    /// Endpoints of this trace on the chain (its peel recipients or final
    /// change holder).
    pub endpoints: Vec<String>,
}

/// An evidence path: how taint reached an endpoint from the seeds.
#[derive(Clone, Debug, Serialize)]
pub struct PathView {
    /// The least taint any step carried (the path's width).
    #[serde(with = "dec")]
    pub width: Amount,
    pub steps: Vec<PathStep>,
}

/// One step of a path: a transfer, or a whole peel chain collapsed.
#[derive(Clone, Debug, Serialize)]
pub struct PathStep {
    /// `transfer` or `peel_chain`.
    pub kind: &'static str,
    /// The (first) transaction, its block and time (Unix seconds). The
    /// names are shared with every other step of the report that names the
    /// same flow (paths share their first steps).
    pub tx: Arc<str>,
    pub block: u32,
    pub time: u64,
    pub from: Arc<str>,
    pub to: Arc<str>,
    /// Taint this step carried (for a peel chain, its least step).
    #[serde(with = "dec")]
    pub tainted: Amount,
    /// Peel chains: the chain's number in `peel_chains`, how many transfers
    /// of the path it stands for, and the last one's transaction and block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peel_chain: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_tx: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_block: Option<u32>,
}

/// Taint that moved from one address to another, summed.
#[derive(Clone, Debug, Serialize)]
pub struct FlowEdge {
    pub from: String,
    pub to: String,
    pub asset: String,
    #[serde(with = "dec")]
    pub tainted: Amount,
    pub transfers: u64,
    pub first_block: u32,
    pub last_block: u32,
    #[serde(skip)]
    pub symbol: Option<String>,
    #[serde(skip)]
    pub decimals: Option<u8>,
}

/// A trace, ready to render.
#[derive(Clone, Debug, Serialize)]
pub struct TraceReport {
    pub fundtrail: &'static str,
    pub policy: String,
    pub seeds: Vec<String>,
    pub seed_txs: Vec<String>,
    pub stop_at: Vec<String>,
    #[serde(with = "dec")]
    pub min_taint: Amount,
    pub mixer: String,
    pub coinjoin: String,
    pub totals: BTreeMap<String, TotalsView>,
    #[serde(serialize_with = "json::endpoints")]
    pub endpoints: Vec<EndpointView>,
    /// Peel chains that end or peel at an endpoint of this trace.
    pub peel_chains: Vec<PeelChainView>,
    /// With `--policies`: every policy compared, the report's own first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies_compared: Vec<String>,
    /// The flow graph (for `--format dot|graphml`): tainted transfers summed
    /// per (from, to, asset), in order of first appearance.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "json::flows")]
    pub flows: Vec<FlowEdge>,
    /// Labels of the flow graph's addresses (drawn on its nodes; endpoints
    /// carry their own).
    #[serde(skip)]
    pub address_labels: BTreeMap<String, Vec<LabelView>>,
    pub warnings: Vec<String>,
    /// How to reproduce this result: version, inputs with their sha256,
    /// every parameter.
    pub manifest: Manifest,
}

/// The run manifest of an output.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Manifest {
    pub fundtrail: &'static str,
    pub command: String,
    pub inputs: Vec<InputFile>,
    pub labels: Vec<InputFile>,
    pub parameters: BTreeMap<String, serde_json::Value>,
}

impl Manifest {
    /// Whether it says anything (a report made outside the command line
    /// may have none).
    pub fn is_empty(&self) -> bool {
        self.command.is_empty() && self.inputs.is_empty() && self.parameters.is_empty()
    }

    /// The manifest as one line of JSON (for comments and sidecar files).
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The manifest for a reader: version and command, every file with
    /// its size and sha256, every parameter.
    pub fn text_lines(&self) -> Vec<String> {
        let mut out = vec![format!("fundtrail {} {}", self.fundtrail, self.command)];
        for (kind, files) in [("input", &self.inputs), ("labels", &self.labels)] {
            for f in files.iter() {
                out.push(format!(
                    "{kind} {} ({} bytes, sha256 {})",
                    f.path, f.bytes, f.sha256
                ));
            }
        }
        let params: Vec<String> = self
            .parameters
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                v => format!("{k}={v}"),
            })
            .collect();
        out.push(format!("parameters: {}", params.join(" ")));
        out
    }
}

/// A file a result was computed from.
#[derive(Clone, Debug, Serialize)]
pub struct InputFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl InputFile {
    /// Hash a file (streamed: stores and exports can be large).
    pub fn of(path: &std::path::Path) -> std::io::Result<InputFile> {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            h.update(&buf[..n]);
        }
        Ok(InputFile {
            path: path.display().to_string(),
            bytes,
            sha256: hex::encode(h.finalize()),
        })
    }
}

mod dec {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

impl TraceReport {
    /// Assemble the view: endpoints at or above the threshold, ranked by share
    /// of the seeded total (then amount, asset, address).
    pub fn new(
        ledger: &Ledger,
        result: &TraceResult,
        labels: &LabelSet,
        params: &TraceParams,
        conserves: bool,
        warnings: Vec<String>,
    ) -> TraceReport {
        let mut totals = BTreeMap::new();
        let seeded: BTreeMap<AssetId, Amount> =
            result.totals.iter().map(|(a, t)| (*a, t.seeded)).collect();
        for (a, t) in result
            .totals
            .iter()
            .filter(|(_, t)| **t != Totals::default())
        {
            let info = ledger.asset(*a);
            totals.insert(
                info.name.clone(),
                TotalsView {
                    seeded: t.seeded,
                    held: t.held,
                    absorbed: t.absorbed,
                    fees: t.fees,
                    below_threshold: t.below_threshold,
                    conserved: conserves && t.conserved(),
                    symbol: info.symbol.clone(),
                    decimals: info.decimals,
                },
            );
        }
        let shown: Vec<&crate::trace::Endpoint> = result
            .endpoints
            .iter()
            .filter(|e| e.tainted > 0 && e.tainted >= params.min_taint)
            .collect();
        let received = received_by(ledger, &shown);
        // each endpoint's view on its own: built in parallel, in order
        let eps: Vec<EndpointView> = shown
            .par_iter()
            .zip(received)
            .map(|(e, got)| {
                let info = ledger.asset(e.asset);
                let address = ledger.address(e.addr).to_string();
                let s = seeded.get(&e.asset).copied().unwrap_or(0);
                EndpointView {
                    addr: e.addr,
                    asset_id: e.asset,
                    received: got,
                    purity: if got == 0 { 0.0 } else { ratio(e.tainted, got) },
                    rank: 0,
                    labels: labels
                        .get(&address)
                        .iter()
                        .map(|l| LabelView {
                            category: l.category.clone(),
                            label: l.name.clone(),
                            source: l.source.clone(),
                        })
                        .collect(),
                    address,
                    asset: info.name.clone(),
                    tainted: e.tainted,
                    kind: e.kind.name(),
                    hops: e.hops,
                    share: if s == 0 { 0.0 } else { ratio(e.tainted, s) },
                    actionable: false,
                    confidence: 0.0,
                    weights: score::Weights::default(),
                    score: 0.0,
                    mixer: e.mixer.map(|m| MixerView {
                        pool: ledger.address(m.pool).to_string(),
                        via: if m.link_ppm.is_some() { "link" } else { "pass" },
                        confidence: m.link_ppm.map(|p| p as f64 / 1e6),
                        tainted: m.taint,
                        share: if e.tainted == 0 {
                            0.0
                        } else {
                            ratio(m.taint, e.tainted)
                        },
                    }),
                    coinjoin: e.coinjoin.map(|c| {
                        let t = c.taint.min(e.tainted);
                        CoinJoinView {
                            tx: ledger.txid(c.tx).to_string(),
                            confidence: c.confidence_ppm as f64 / 1e6,
                            stopped: params.coinjoin == "stop",
                            tainted: t,
                            share: if e.tainted == 0 {
                                0.0
                            } else {
                                ratio(t, e.tainted)
                            },
                        }
                    }),
                    peel_chain: None,
                    agreement: None,
                    paths: Vec::new(),
                    symbol: info.symbol.clone(),
                    decimals: info.decimals,
                }
            })
            .collect();
        let mut r = TraceReport {
            fundtrail: env!("CARGO_PKG_VERSION"),
            policy: params.policy.clone(),
            seeds: params.seeds.clone(),
            seed_txs: params.seed_txs.clone(),
            stop_at: params.stop_at.clone(),
            min_taint: params.min_taint,
            mixer: if params.mixer.is_empty() {
                "pass".to_string()
            } else {
                params.mixer.clone()
            },
            coinjoin: if params.coinjoin.is_empty() {
                "pass".to_string()
            } else {
                params.coinjoin.clone()
            },
            totals,
            endpoints: eps,
            peel_chains: Vec::new(),
            policies_compared: Vec::new(),
            flows: flow_edges(ledger, &result.flows),
            address_labels: BTreeMap::new(),
            warnings,
            manifest: Manifest {
                fundtrail: env!("CARGO_PKG_VERSION"),
                ..Default::default()
            },
        };
        for a in r.flows.iter().flat_map(|f| [&f.from, &f.to]) {
            if r.address_labels.contains_key(a) {
                continue;
            }
            let ls = labels.get(a);
            if !ls.is_empty() {
                r.address_labels.insert(
                    a.clone(),
                    ls.iter()
                        .map(|l| LabelView {
                            category: l.category.clone(),
                            label: l.name.clone(),
                            source: l.source.clone(),
                        })
                        .collect(),
                );
            }
        }
        r.rank();
        r
    }

    /// Score every endpoint and rank by score (then share, amount, asset,
    /// address, kind: a total order, so output is deterministic).
    pub fn rank(&mut self) {
        self.endpoints.par_iter_mut().for_each(score::score);
        // a stable sort, so the order is the same on any number of threads
        self.endpoints.par_sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.share.total_cmp(&a.share))
                .then(b.tainted.cmp(&a.tainted))
                .then_with(|| a.asset.cmp(&b.asset))
                .then_with(|| a.address.cmp(&b.address))
                .then_with(|| a.kind.cmp(b.kind))
        });
        for (i, e) in self.endpoints.iter_mut().enumerate() {
            e.rank = i + 1;
        }
    }

    /// Compare with the same trace under other policies: each endpoint
    /// learns which policies list it (at or above the threshold) and the
    /// range of taint they give it.
    pub fn add_agreement(&mut self, others: &[(crate::trace::Policy, TraceResult)]) {
        type Key = (crate::model::AddrId, AssetId, &'static str);
        let mut by: Vec<(String, std::collections::HashMap<Key, Amount>)> = Vec::new();
        for (p, res) in others {
            let m = res
                .endpoints
                .iter()
                .filter(|e| e.tainted > 0 && e.tainted >= self.min_taint)
                .map(|e| ((e.addr, e.asset, e.kind.name()), e.tainted))
                .collect();
            by.push((p.name().to_string(), m));
        }
        self.policies_compared = std::iter::once(self.policy.clone())
            .chain(by.iter().map(|(p, _)| p.clone()))
            .collect();
        for e in &mut self.endpoints {
            let key: Key = (e.addr, e.asset_id, e.kind);
            let mut listed_by = vec![self.policy.clone()];
            let (mut lo, mut hi) = (e.tainted, e.tainted);
            for (p, m) in &by {
                if let Some(t) = m.get(&key) {
                    listed_by.push(p.clone());
                    lo = lo.min(*t);
                    hi = hi.max(*t);
                } else {
                    lo = 0;
                }
            }
            e.agreement = Some(Agreement {
                listed_by,
                of: by.len() + 1,
                min: lo,
                max: hi,
            });
        }
        self.rank();
    }

    /// List the peel chains that peel to or end at an endpoint, each once,
    /// and mark those endpoints (a chain is one step in the explanation).
    pub fn add_peel_chains(
        &mut self,
        ledger: &Ledger,
        chains: &[crate::heuristics::peel::ChainSummary],
    ) {
        // the endpoints at each (address, asset), looked up per chain
        let mut at: std::collections::HashMap<(crate::model::AddrId, AssetId), Vec<usize>> =
            Default::default();
        for (i, e) in self.endpoints.iter().enumerate() {
            at.entry((e.addr, e.asset_id)).or_default().push(i);
        }
        for c in chains {
            let mut on: Vec<usize> = std::iter::once(c.final_owner)
                .chain(c.peels.iter().map(|p| p.0))
                .filter_map(|a| at.get(&(a, c.asset)))
                .flatten()
                .copied()
                .collect();
            on.sort_unstable();
            on.dedup();
            if on.is_empty() {
                continue;
            }
            let id = self.peel_chains.len() + 1;
            for &i in &on {
                self.endpoints[i].peel_chain.get_or_insert(id);
            }
            let endpoints = on
                .iter()
                .map(|i| self.endpoints[*i].address.clone())
                .collect();
            self.peel_chains
                .push(peel_chain_view(ledger, c, id, endpoints));
        }
    }

    /// Find the heaviest `k` paths into every endpoint through the recorded
    /// flows (`result.flows`), with every run of transfers inside one peel
    /// chain collapsed to one step (and that chain listed).
    pub fn add_paths(
        &mut self,
        ledger: &Ledger,
        result: &TraceResult,
        seeds: &std::collections::HashSet<crate::model::AddrId>,
        k: usize,
        chains: &[crate::heuristics::peel::ChainSummary],
    ) {
        if k == 0 || result.flows.is_empty() {
            return;
        }
        let paths = crate::trace::paths::Paths::new(&result.flows, seeds, k);
        // which chain (index in `chains`) each transaction belongs to
        let mut chain_of: std::collections::HashMap<crate::model::TxId, usize> = Default::default();
        for (i, c) in chains.iter().enumerate() {
            for t in &c.txs {
                chain_of.entry(*t).or_insert(i);
            }
        }
        // Every endpoint's paths, then the names and time of each flow they
        // use, looked up once: paths share their first steps, and a lookup
        // in the ledger's tables is a few cache misses, where a copy of a
        // name already made is one.
        let found: Vec<Vec<(Vec<crate::trace::paths::Step>, Amount)>> = self
            .endpoints
            .par_iter()
            .map(|e| paths.to(e.addr, e.asset_id))
            .collect();
        // each used flow's place among them
        let mut slot = vec![u32::MAX; result.flows.len()];
        for s in found.iter().flatten().flat_map(|(steps, _)| steps) {
            slot[*s] = 0;
        }
        let used: Vec<usize> = (0..slot.len()).filter(|i| slot[*i] == 0).collect();
        for (k, i) in used.iter().enumerate() {
            slot[*i] = k as u32;
        }
        let texts: Vec<FlowText> = used
            .par_iter()
            .map(|&i| {
                let f = &result.flows[i];
                FlowText {
                    tx: ledger.txid(f.tx).into(),
                    time: ledger.time_of(f.block),
                    from: flow_end(ledger, f.from).into(),
                    to: flow_end(ledger, f.to).into(),
                }
            })
            .collect();
        let text = |s: usize| &texts[slot[s] as usize];
        // Each endpoint's paths on their own, in parallel; a step in a peel
        // chain holds the chain's index in `chains` until the chains are
        // numbered below.
        let views: Vec<Vec<PathView>> = found
            .into_par_iter()
            .map(|found| {
                let mut views = Vec::new();
                for (steps, width) in found {
                    let mut out: Vec<PathStep> = Vec::new();
                    let mut i = 0;
                    while i < steps.len() {
                        let f = &result.flows[steps[i]];
                        let chain = chain_of.get(&f.tx).copied();
                        let mut j = i + 1;
                        while chain.is_some()
                            && j < steps.len()
                            && chain_of.get(&result.flows[steps[j]].tx).copied() == chain
                        {
                            j += 1;
                        }
                        let t = text(steps[i]);
                        let step = PathStep {
                            kind: "transfer",
                            tx: t.tx.clone(),
                            block: f.block,
                            time: t.time,
                            from: t.from.clone(),
                            to: t.to.clone(),
                            tainted: f.taint,
                            peel_chain: chain,
                            transfers: None,
                            last_tx: None,
                            last_block: None,
                        };
                        if chain.is_some() && j - i >= 2 {
                            let last = &result.flows[steps[j - 1]];
                            let last_text = text(steps[j - 1]);
                            out.push(PathStep {
                                kind: "peel_chain",
                                to: last_text.to.clone(),
                                tainted: steps[i..j]
                                    .iter()
                                    .map(|s| result.flows[*s].taint)
                                    .min()
                                    .unwrap_or(0),
                                transfers: Some(j - i),
                                last_tx: Some(last_text.tx.clone()),
                                last_block: Some(last.block),
                                ..step
                            });
                        } else {
                            // a transfer; one peel of a chain is marked
                            out.push(step);
                        }
                        i = j;
                    }
                    views.push(PathView { width, steps: out });
                }
                views
            })
            .collect();
        // chains numbered in the order the paths first meet them (endpoint
        // by endpoint, path by path, step by step)
        let mut listed: std::collections::HashMap<usize, usize> = Default::default();
        for (e, mut views) in self.endpoints.iter_mut().zip(views) {
            for step in views.iter_mut().flat_map(|v| v.steps.iter_mut()) {
                if let Some(c) = step.peel_chain {
                    step.peel_chain = Some(listed_id(
                        &mut self.peel_chains,
                        &mut listed,
                        ledger,
                        chains,
                        c,
                    ));
                }
            }
            e.paths = views;
        }
    }
}

/// What a path step names of its flow: its transaction, its time, and
/// where it went from and to.
struct FlowText {
    tx: Arc<str>,
    time: u64,
    from: Arc<str>,
    to: Arc<str>,
}

/// The report's number of chain `c` (of `chains`), listing it if it is not
/// listed yet.
fn listed_id(
    views: &mut Vec<PeelChainView>,
    listed: &mut std::collections::HashMap<usize, usize>,
    ledger: &Ledger,
    chains: &[crate::heuristics::peel::ChainSummary],
    c: usize,
) -> usize {
    if let Some(id) = listed.get(&c) {
        return *id;
    }
    let first = ledger.txid(chains[c].first_tx);
    let id = match views.iter().find(|v| v.first_tx == first) {
        Some(v) => v.id,
        None => {
            let id = views.len() + 1;
            views.push(peel_chain_view(ledger, &chains[c], id, Vec::new()));
            id
        }
    };
    listed.insert(c, id);
    id
}

/// A peel chain as the report lists it.
fn peel_chain_view(
    ledger: &Ledger,
    c: &crate::heuristics::peel::ChainSummary,
    id: usize,
    endpoints: Vec<String>,
) -> PeelChainView {
    PeelChainView {
        id,
        model: c.model,
        asset: ledger.asset(c.asset).name.clone(),
        steps: c.steps,
        first_tx: ledger.txid(c.first_tx).to_string(),
        last_tx: ledger.txid(c.last_tx).to_string(),
        first_owner: ledger.address(c.first_owner).to_string(),
        start_value: c.start_value,
        total_peeled: c.total_peeled,
        peel_recipients: {
            let mut v: Vec<_> = c.peels.iter().map(|p| p.0).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        },
        final_change: c.final_change,
        final_owner: ledger.address(c.final_owner).to_string(),
        summary: c.summary.clone(),
        endpoints,
    }
}

impl EndpointView {
    /// The passages and agreement behind an endpoint, as plain text: the
    /// mixer pool or CoinJoin taint crossed, and the policies that list it.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = &self.mixer {
            let part = if m.share >= 1.0 {
                String::new()
            } else {
                format!(", {:.1}% of it", m.share * 100.0)
            };
            out.push(match m.confidence {
                Some(c) => format!(
                    "via mixer {} (link, confidence {c:.2}{part})",
                    short(&m.pool)
                ),
                None => format!("via mixer {} (pass{part})", short(&m.pool)),
            });
        }
        if let Some(c) = &self.coinjoin {
            out.push(format!(
                "{} CoinJoin {} (confidence {:.2}{})",
                if c.stopped { "at" } else { "via" },
                short(&c.tx),
                c.confidence,
                if c.share >= 1.0 {
                    String::new()
                } else {
                    format!(", {:.1}% of it", c.share * 100.0)
                }
            ));
        }
        if let Some(a) = &self.agreement {
            out.push(format!(
                "policies {} ({} of {})",
                a.listed_by.join("+"),
                a.listed_by.len(),
                a.of
            ));
        }
        out
    }
}

/// Text or attribute content for HTML and XML: `& < > " '` escaped, and
/// control characters XML 1.0 forbids dropped.
pub fn esc_markup(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => o.push(c),
        }
    }
    o
}

/// The address at one end of a flow, or `(new money)` for a mint's sender.
fn flow_end(ledger: &Ledger, a: crate::model::AddrId) -> &str {
    if a == crate::model::AddrId::NONE {
        "(new money)"
    } else {
        ledger.address(a)
    }
}

/// Sum the recorded flows per (from, to, asset), keeping first-seen order.
fn flow_edges(ledger: &Ledger, flows: &[crate::trace::Flow]) -> Vec<FlowEdge> {
    // which edge each flow adds to, edges numbered in order of first
    // appearance, and each edge's first flow
    let mut at: rustc_hash::FxHashMap<
        (crate::model::AddrId, crate::model::AddrId, AssetId),
        usize,
    > = Default::default();
    let mut first: Vec<usize> = Vec::new();
    let edge_of: Vec<usize> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            *at.entry((f.from, f.to, f.asset)).or_insert_with(|| {
                first.push(i);
                first.len() - 1
            })
        })
        .collect();
    // the edges' text in parallel (each address a read of the ledger's table)
    let mut out: Vec<FlowEdge> = first
        .par_iter()
        .map(|&i| {
            let f = &flows[i];
            let info = ledger.asset(f.asset);
            FlowEdge {
                from: flow_end(ledger, f.from).to_string(),
                to: ledger.address(f.to).to_string(),
                asset: info.name.clone(),
                tainted: 0,
                transfers: 0,
                first_block: f.block,
                last_block: f.block,
                symbol: info.symbol.clone(),
                decimals: info.decimals,
            }
        })
        .collect();
    for (f, &i) in flows.iter().zip(&edge_of) {
        let e = &mut out[i];
        e.tainted = e.tainted.saturating_add(f.taint);
        e.transfers += 1;
        e.first_block = e.first_block.min(f.block);
        e.last_block = e.last_block.max(f.block);
    }
    out
}

/// What each endpoint's address received of its asset in the sample:
/// credits of its account (account model), outputs it owns (UTXO); in the
/// order of `eps`, accounts summed in parallel.
fn received_by(ledger: &Ledger, eps: &[&crate::trace::Endpoint]) -> Vec<Amount> {
    use crate::model::ChainModel;
    let utxo = |e: &crate::trace::Endpoint| ledger.model_of(e.asset) == ChainModel::Utxo;
    let utxo_wanted: std::collections::HashSet<_> = eps
        .iter()
        .filter(|e| utxo(e))
        .map(|e| (e.addr, e.asset))
        .collect();
    let mut paid: std::collections::HashMap<_, Amount> = std::collections::HashMap::new();
    if !utxo_wanted.is_empty() {
        for t in ledger.utxo_txs.iter() {
            for o in ledger.tx_outputs(t) {
                if utxo_wanted.contains(&(o.owner, t.asset)) {
                    let e = paid.entry((o.owner, t.asset)).or_insert(0u128);
                    *e = e.saturating_add(o.value());
                }
            }
        }
    }
    eps.par_iter()
        .map(|e| {
            if utxo(e) {
                return paid.get(&(e.addr, e.asset)).copied().unwrap_or(0);
            }
            ledger
                .acct_id(e.addr, e.asset)
                .map(|a| {
                    ledger
                        .by_dest
                        .of(a)
                        .iter()
                        .map(|i| ledger.movements[*i as usize].amount())
                        .fold(0u128, |x, y| x.saturating_add(y))
                })
                .unwrap_or(0)
        })
        .collect()
}

/// `a / b` as a float score (scores may be floats; amounts never are).
fn ratio(a: Amount, b: Amount) -> f64 {
    a as f64 / b as f64
}

/// An amount in whole units with its symbol where known (`1.5 ETH`), else in
/// base units with the asset's name.
pub fn human(v: Amount, symbol: Option<&str>, decimals: Option<u8>, asset: &str) -> String {
    match (symbol, decimals) {
        (Some(s), Some(d)) => format!("{} {s}", format_units(v, d)),
        (None, Some(d)) => format!("{} {}", format_units(v, d), short(asset)),
        _ => format!("{v} {} units", symbol.unwrap_or(&short(asset))),
    }
}

/// `0x1234…abcd` for long names.
pub fn short(s: &str) -> String {
    if s.len() > 14 && s.is_ascii() {
        format!("{}…{}", &s[..6], &s[s.len() - 4..])
    } else {
        s.to_string()
    }
}

/// `YYYY-MM-DD HH:MM:SS` UTC from a Unix time; `time unknown` for 0 (what
/// a ledger without block times gives).
pub fn utc(t: u64) -> String {
    if t == 0 {
        return "time unknown".to_string();
    }
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    // civil-from-days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// An exporter renders a report in one format.
pub trait Exporter {
    fn render(&self, report: &TraceReport) -> String;

    /// Write the rendering to `w`: the same bytes as [`Exporter::render`];
    /// a format whose output can be large streams it instead of building
    /// the whole text first.
    fn write_to(&self, report: &TraceReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(self.render(report).as_bytes())
    }
}

/// A node of the flow graph: an address with what the report knows of it.
pub struct Node {
    pub address: String,
    /// `seed`, `service` (absorbed taint), `holding` (holds taint) or
    /// `transit`.
    pub role: &'static str,
    /// Categories from the labels, comma-separated.
    pub categories: String,
    /// Label names, `; `-separated.
    pub labels: String,
    /// What it holds or absorbed, as text with the unit (endpoints only).
    pub tainted: String,
}

/// The flow graph's nodes, in first-seen order over the edges.
pub fn nodes(r: &TraceReport) -> Vec<Node> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let ends: std::collections::HashMap<&str, Vec<&EndpointView>> =
        r.endpoints.iter().fold(Default::default(), |mut m, e| {
            m.entry(e.address.as_str()).or_insert_with(Vec::new).push(e);
            m
        });
    let seeds: Vec<String> = r
        .seeds
        .iter()
        .map(|s| crate::model::canonical_address(s))
        .collect();
    let order: Vec<&str> = r
        .flows
        .iter()
        .flat_map(|f| [f.from.as_str(), f.to.as_str()])
        .collect();
    // a seed's node under the address text the flows use
    let seed_names: Vec<&str> = seeds
        .iter()
        .map(|s: &String| -> &str {
            order
                .iter()
                .copied()
                .find(|a| a.eq_ignore_ascii_case(s))
                .unwrap_or(s)
        })
        .collect();
    for a in seed_names.iter().copied().chain(order.iter().copied()) {
        if !seen.insert(a) {
            continue;
        }
        let es = ends.get(a).cloned().unwrap_or_default();
        let role = if seed_names.contains(&a) {
            "seed"
        } else if es.iter().any(|e| e.kind == "service") {
            "service"
        } else if !es.is_empty() {
            "holding"
        } else {
            "transit"
        };
        let own = r.address_labels.get(a).map(Vec::as_slice).unwrap_or(&[]);
        let all: Vec<&LabelView> = es.iter().flat_map(|e| &e.labels).chain(own).collect();
        let mut cats: Vec<&str> = all.iter().map(|l| l.category.as_str()).collect();
        cats.sort_unstable();
        cats.dedup();
        let mut names: Vec<&str> = all
            .iter()
            .map(|l| l.label.as_str())
            .filter(|l| !l.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        out.push(Node {
            address: a.to_string(),
            role,
            categories: cats.join(","),
            labels: names.join("; "),
            tainted: es
                .iter()
                .map(|e| human(e.tainted, e.symbol.as_deref(), e.decimals, &e.asset))
                .collect::<Vec<_>>()
                .join(" + "),
        });
    }
    out
}
