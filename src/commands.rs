//! The commands: each reads its inputs, calls the library, and renders.

use crate::cli::{
    CoinJoinArg, DetectArgs, EvalArgs, GenArgs, IngestArgs, InputArgs, InspectArgs, LabelsArgs,
    MixerArg, OnErrorArg, PathArgs, PolicyArg, ReportFormat, StatsArgs, TraceArgs, TraceFormat,
};
use anyhow::{bail, Context, Result};
use fundtrail::ingest::{self, IngestOptions, OnError};
use fundtrail::labels::LabelSet;
use fundtrail::ledger::Ledger;
use fundtrail::model::{AddrId, ChainModel};
use fundtrail::report::{self, human, utc, TraceParams, TraceReport};
use fundtrail::store;
use fundtrail::trace::{self, Policy, TracePlan};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An error whose message already names its cause (`path: cause`), as one
/// message: `main` prints the error chain with `{:#}`, which would otherwise
/// say the cause twice (`x: No such file (os error 2): No such file (os error 2)`).
fn said(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// `--timings`: say how long each phase took.
static TIMINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turn `--timings` on or off; when on, say first how many worker threads
/// the parallel phases have (the figures depend on it).
pub fn set_timings(on: bool) {
    TIMINGS.store(on, std::sync::atomic::Ordering::Relaxed);
    if on {
        eprintln!(
            "fundtrail: timing: worker threads: {}",
            rayon::current_num_threads()
        );
    }
}

/// With `--timings`, say on stderr that `what` took `d`.
fn timing(what: &str, d: std::time::Duration) {
    if TIMINGS.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("fundtrail: timing: {what}: {:.3} s", d.as_secs_f64());
    }
}

/// Run `f`, and with `--timings` say how long it took.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let r = f();
    timing(what, t.elapsed());
    r
}

/// Open a store, or ingest export files, reporting rejects.
pub fn load(inputs: &[PathBuf], ia: &InputArgs, quiet: bool) -> Result<Ledger> {
    let stores: Vec<&PathBuf> = inputs
        .iter()
        .filter(|p| p.is_file() && store::is_store(p))
        .collect();
    if !stores.is_empty() {
        if inputs.len() > 1 {
            bail!(
                "{} is a fundtrail store: give one store, or export files, not both",
                stores[0].display()
            );
        }
        return timed("open the store", || store::open(&inputs[0])).map_err(said);
    }
    let paths = ingest::expand_paths(inputs).map_err(said)?;
    let bar = crate::progress::bytes(ingest::total_bytes(&paths), "reading", quiet);
    let tick = bar.clone();
    let opts = IngestOptions {
        on_error: match ia.on_error {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
        },
        progress: Some(std::sync::Arc::new(move |n| tick.inc(n))),
    };
    let ing = timed("ingest", || ingest::ingest_files(&paths, &opts)).map_err(said);
    bar.finish_and_clear();
    let ing = ing?;
    for (phase, d) in &ing.phases.laps {
        timing(&format!("ingest: {phase}"), *d);
    }
    if !ing.rejects.is_empty() {
        write_rejects(&ia.rejects, &ing.rejects)?;
        eprintln!(
            "fundtrail: rejected {} record{}; they are in {}",
            ing.rejects.len(),
            if ing.rejects.len() == 1 { "" } else { "s" },
            ia.rejects.display()
        );
        for r in ing.rejects.iter().take(3) {
            eprintln!("  {r}");
        }
        if ing.rejects.len() > 3 {
            eprintln!("  ... and {} more", ing.rejects.len() - 3);
        }
    }
    Ok(ing.ledger)
}

fn write_rejects(path: &Path, rejects: &[ingest::Reject]) -> Result<()> {
    let mut out = String::new();
    for r in rejects {
        out.push_str(&r.text);
        out.push('\n');
    }
    std::fs::write(path, out)
        .with_context(|| format!("writing the rejects file {}", path.display()))
}

pub fn ingest(a: &IngestArgs, quiet: bool) -> Result<()> {
    let ledger = load(&a.files, &a.input, quiet)?;
    timed("write the store", || store::write(&ledger, &a.output)).map_err(said)?;
    eprintln!(
        "fundtrail: wrote {} ({} account movements, {} UTXO transactions, {} addresses, {} duplicates dropped)",
        a.output.display(),
        ledger.movements.len(),
        ledger.utxo_txs.len(),
        ledger.addresses.len(),
        ledger.info.duplicates
    );
    Ok(())
}

fn policy_of(p: PolicyArg) -> Policy {
    match p {
        PolicyArg::Poison => Policy::Poison,
        PolicyArg::Haircut => Policy::Haircut,
        PolicyArg::Fifo => Policy::Fifo,
        PolicyArg::Lifo => Policy::Lifo,
        PolicyArg::Tiho => Policy::Tiho,
    }
}

/// The stop categories of `--stop-at`.
pub fn stop_categories(s: &str) -> Vec<String> {
    s.split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "none")
        .collect()
}

/// One theft to trace: from the command line, or a line of `--cases`.
struct Case {
    name: String,
    seeds: Vec<String>,
    seed_txs: Vec<String>,
    policy: Policy,
    min_taint: u128,
}

/// A line of a `--cases` file.
#[derive(serde::Deserialize)]
struct CaseLine {
    name: String,
    #[serde(default)]
    seeds: Vec<String>,
    #[serde(default)]
    seed_txs: Vec<String>,
    policy: Option<String>,
    min_taint: Option<serde_json::Value>,
}

fn read_cases(path: &Path, policy: Policy, min_taint: u128) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    let mut names = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let c: CaseLine = serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!("{}: {e} (each line is {{\"name\": .., \"seeds\": [..]}}, optionally \"seed_txs\", \"policy\", \"min_taint\")", at())
        })?;
        if c.seeds.is_empty() && c.seed_txs.is_empty() {
            bail!(
                "{}: case {:?} has no seeds: give \"seeds\" or \"seed_txs\"",
                at(),
                c.name
            );
        }
        if !names.insert(c.name.clone()) {
            bail!("{}: a case named {:?} is already in the file", at(), c.name);
        }
        let policy = match &c.policy {
            Some(p) => Policy::parse(p).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: field `policy`: {p:?} is not one of poison, haircut, fifo, lifo, tiho",
                    at()
                )
            })?,
            None => policy,
        };
        let min_taint = match &c.min_taint {
            Some(v) => fundtrail::amount::parse_integer(&v.to_string())
                .map_err(|e| anyhow::anyhow!("{}: field `min_taint`: {e}", at()))?,
            None => min_taint,
        };
        cases.push(Case {
            name: c.name,
            seeds: c.seeds,
            seed_txs: c.seed_txs,
            policy,
            min_taint,
        });
    }
    if cases.is_empty() {
        bail!("{}: no cases in the file", path.display());
    }
    Ok(cases)
}

/// The addresses of the ledger whose labels name one of `cats` (the stop
/// services, the mixer pools).
fn labelled(ledger: &Ledger, labels: &LabelSet, cats: &[String]) -> HashSet<AddrId> {
    labels
        .by_address
        .iter()
        .filter(|(_, ls)| ls.iter().any(|l| cats.contains(&l.category)))
        .filter_map(|(addr, _)| ledger.addr_id(addr))
        .collect()
}

/// `--demix-window` and `--demix-burst` as options.
fn demix_options(a: &crate::cli::DemixArgs) -> Result<fundtrail::heuristics::mixer::DemixOptions> {
    Ok(fundtrail::heuristics::mixer::DemixOptions {
        window: parse_duration("--demix-window", &a.demix_window)?,
        burst: parse_duration("--demix-burst", &a.demix_burst)?,
    })
}

/// `30m`, `48h`, `7d` or a number of seconds.
fn parse_duration(flag: &str, s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => bail!("{flag}: {s:?} is not a duration (give 30m, 48h, 7d or seconds)"),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| {
            anyhow::anyhow!("{flag}: {s:?} is not a duration (give 30m, 48h, 7d or seconds)")
        })
}

/// The run manifest of a trace: the version, every input and label file
/// with its sha256 (directories expanded as `ingest` reads them), and every
/// parameter that shapes the result.
fn trace_manifest(a: &TraceArgs, mix: &Mixers, files: Hashed) -> Result<report::Manifest> {
    let (inputs, labels) = files
        .join()
        .map_err(|_| anyhow::anyhow!("hashing the inputs failed"))??;
    let mut p = std::collections::BTreeMap::new();
    p.insert(
        "policy".into(),
        json!(a.policy.map(|x| policy_of(x).name()).unwrap_or_default()),
    );
    if let Some(ps) = &a.policies {
        p.insert("policies".into(), json!(ps));
    }
    p.insert("seeds".into(), json!(a.seeds));
    p.insert("seed_txs".into(), json!(a.seed_txs));
    p.insert("stop_at".into(), json!(a.stop_at));
    p.insert("min_taint".into(), json!(a.min_taint));
    p.insert("mixer".into(), json!(mix.mode));
    p.insert("demix_window".into(), json!(a.mixers.demix.demix_window));
    p.insert("demix_burst".into(), json!(a.mixers.demix.demix_burst));
    p.insert("coinjoin".into(), json!(mix.coinjoin));
    if mix.record_flows {
        p.insert("paths".into(), json!(mix.paths));
    }
    if let Some(n) = a.top {
        p.insert("top".into(), json!(n));
    }
    p.insert(
        "on_error".into(),
        json!(format!("{:?}", a.input.on_error).to_lowercase()),
    );
    if let Some(c) = &a.cases {
        p.insert("cases".into(), json!(hash_file(c)?));
    }
    Ok(report::Manifest {
        fundtrail: env!("CARGO_PKG_VERSION"),
        command: "trace".into(),
        inputs,
        labels,
        parameters: p,
    })
}

/// The input and label files of a run with their sha256, hashed on a thread
/// of their own while the ledger loads and the trace runs (a large export
/// takes a while).
type Hashed = std::thread::JoinHandle<Result<(Vec<report::InputFile>, Vec<report::InputFile>)>>;

fn hash_files(a: &TraceArgs) -> Hashed {
    let (inputs, label_paths) = (a.inputs.clone(), a.labels.clone());
    std::thread::spawn(move || {
        yield_to_the_work();
        let inputs = if inputs.len() == 1 && inputs[0].is_file() && store::is_store(&inputs[0]) {
            vec![hash_file(&inputs[0])?]
        } else {
            ingest::expand_paths(&inputs)
                .map_err(said)?
                .iter()
                .map(|p| hash_file(p))
                .collect::<Result<Vec<_>>>()?
        };
        let mut labels = Vec::new();
        for l in &label_paths {
            if l.is_dir() {
                let mut files = Vec::new();
                collect_files(l, &mut files);
                for f in files {
                    labels.push(hash_file(&f)?);
                }
            } else {
                labels.push(hash_file(l)?);
            }
        }
        Ok((inputs, labels))
    })
}

/// Make the calling thread the least urgent: the inputs' sha256 is needed
/// only when the report is written, so it takes the cores that the ingest
/// and the report leave idle (a trace runs on one thread, writing the
/// output on one) instead of slowing their parallel phases. Linux only,
/// where a thread has a nice value of its own; elsewhere nothing changes.
fn yield_to_the_work() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its arguments; on Linux `who` 0 is the
    // calling thread. A failure leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS as _, 0, 19);
    }
}

fn hash_file(p: &Path) -> Result<report::InputFile> {
    report::InputFile::of(p).with_context(|| format!("reading {} for the manifest", p.display()))
}

/// Every regular file under `dir`, sorted, hidden ones skipped.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            collect_files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Mixer pools for a trace: the addresses labelled `mixer`; `stop` adds
/// them to the stop services, `demix` links their notes.
struct Mixers {
    mode: &'static str,
    pools: HashSet<AddrId>,
    demix: Option<std::sync::Arc<fundtrail::heuristics::mixer::Demix>>,
    coinjoin: &'static str,
    coinjoins: Option<std::sync::Arc<trace::CoinJoins>>,
    /// Peel chains of the ledger (reports list those on the trail).
    peels: Vec<fundtrail::heuristics::peel::ChainSummary>,
    /// Keep the tainted transfers for a flow graph.
    record_flows: bool,
    /// Heaviest paths per endpoint to report (needs `record_flows`).
    paths: usize,
    /// Other policies to compare each trace with (`--policies`).
    compare: Vec<Policy>,
}

fn mixers(
    ledger: &Ledger,
    labels: &LabelSet,
    a: &crate::cli::MixerArgs,
    stops: &mut HashSet<AddrId>,
    cats: &mut Vec<String>,
) -> Result<Mixers> {
    let opts = demix_options(&a.demix)?;
    let mut pools = labelled(ledger, labels, &["mixer".to_string()]);
    let stop_named = cats.iter().any(|c| c == "mixer");
    let mode = match a.mixer {
        None if stop_named => MixerArg::Stop,
        None => MixerArg::Pass,
        Some(m) if stop_named && m != MixerArg::Stop => bail!(
            "--mixer {} contradicts --stop-at {}: drop `mixer` from --stop-at, or use --mixer stop",
            m.name(),
            cats.join(",")
        ),
        Some(m) => m,
    };
    let mut demix = None;
    match mode {
        MixerArg::Pass => {}
        MixerArg::Stop => {
            stops.extend(pools.iter().copied());
            if !cats.iter().any(|c| c == "mixer") {
                cats.push("mixer".to_string());
            }
        }
        MixerArg::Demix => {
            let mut v: Vec<AddrId> = pools.iter().copied().collect();
            v.sort_unstable();
            demix = Some(std::sync::Arc::new(fundtrail::heuristics::mixer::analyse(
                ledger, &v, &opts,
            )));
        }
    }
    if mode == MixerArg::Stop {
        pools.clear(); // absorbed, not passed
    } else {
        stops.retain(|s| !pools.contains(s));
    }
    let coinjoins = if ledger.utxo_txs.is_empty() {
        None
    } else {
        let found = fundtrail::heuristics::coinjoin::detect_all(ledger);
        let stop = a.coinjoin == CoinJoinArg::Stop;
        if stop && !cats.iter().any(|c| c == "coinjoin") {
            cats.push("coinjoin".to_string());
        }
        Some(std::sync::Arc::new(trace::CoinJoins::new(&found, stop)))
    };
    Ok(Mixers {
        mode: mode.name(),
        pools,
        demix,
        coinjoin: match a.coinjoin {
            CoinJoinArg::Pass => "pass",
            CoinJoinArg::Stop => "stop",
        },
        coinjoins,
        peels: fundtrail::heuristics::peel::detect_all(ledger, &Default::default()),
        record_flows: false,
        paths: 0,
        compare: Vec::new(),
    })
}

/// Resolve a case against the ledger and trace it.
fn run_case(
    ledger: &Ledger,
    labels: &LabelSet,
    stops: &HashSet<AddrId>,
    cats: &[String],
    mix: &Mixers,
    case: &Case,
) -> Result<TraceReport> {
    let mut warnings = Vec::new();
    let mut plan = TracePlan {
        policy: Some(case.policy),
        min_taint: case.min_taint,
        stops: stops.clone(),
        mixers: mix.pools.clone(),
        demix: mix.demix.clone(),
        coinjoins: mix.coinjoins.clone(),
        record_flows: mix.record_flows,
        ..Default::default()
    };
    let mut seen = HashSet::new();
    for s in &case.seeds {
        match ledger.addr_id(s) {
            Some(id) => {
                if plan.stops.contains(&id) {
                    bail!(
                        "{s} is both a seed and a stop service (labelled {}): remove it from --seed, or change --stop-at",
                        labels.get(ledger.address(id)).iter().map(|l| l.category.as_str()).collect::<Vec<_>>().join(", ")
                    );
                }
                if seen.insert(id) {
                    plan.seeds.push(id);
                }
            }
            None => warnings.push(format!("seed {s} does not appear in the ledger")),
        }
    }
    for h in &case.seed_txs {
        match ledger
            .tx_id(h)
            .or_else(|| ledger.tx_id(&format!("0x{}", h.trim_start_matches("0x"))))
        {
            Some(id) => plan.seed_txs.push(id),
            None => warnings.push(format!(
                "seed transaction {h} does not appear in the ledger"
            )),
        }
    }
    if plan.seeds.is_empty() && plan.seed_txs.is_empty() {
        bail!(
            "none of the seeds appear in the ledger ({}); check the address (EVM addresses match in any case) and the input files",
            case.seeds.iter().chain(&case.seed_txs).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let t = std::time::Instant::now();
    let result = trace::run(ledger, &plan);
    let named = |what: &str| match case.name.as_str() {
        "" => what.to_string(),
        name => format!("{what} (case {name})"),
    };
    timing(&named("trace"), t.elapsed());
    let t = std::time::Instant::now();
    if result.unknown_value_inputs > 0 {
        warnings.push(format!(
            "{} UTXO inputs of unknown value (spent outputs not in the sample) were taken as clean",
            result.unknown_value_inputs
        ));
    }
    if ledger.info.unknown_fee_txs > 0 {
        warnings.push(format!(
            "{} transactions had no receipt fields: their fees are unknown and taken as 0",
            ledger.info.unknown_fee_txs
        ));
    }
    let params = TraceParams {
        policy: case.policy.name().to_string(),
        seeds: case.seeds.clone(),
        seed_txs: case.seed_txs.clone(),
        stop_at: cats.to_vec(),
        min_taint: case.min_taint,
        mixer: mix.mode.to_string(),
        coinjoin: mix.coinjoin.to_string(),
    };
    let mut rep = TraceReport::new(
        ledger,
        &result,
        labels,
        &params,
        case.policy.conserves(),
        warnings,
    );
    rep.add_peel_chains(ledger, &mix.peels);
    if mix.record_flows && mix.paths > 0 {
        let seeds: HashSet<AddrId> = plan.seeds.iter().copied().collect();
        rep.add_paths(ledger, &result, &seeds, mix.paths, &mix.peels);
    }
    if !mix.compare.is_empty() {
        let others: Vec<(Policy, trace::TraceResult)> = mix
            .compare
            .iter()
            .filter(|p| **p != case.policy)
            .map(|p| {
                let other = TracePlan {
                    policy: Some(*p),
                    record_flows: false,
                    ..plan.clone()
                };
                (*p, trace::run(ledger, &other))
            })
            .collect();
        rep.add_agreement(&others);
    }
    timing(&named("report"), t.elapsed());
    Ok(rep)
}

/// A case that could not be traced, in `--cases` JSON lines.
#[derive(serde::Serialize)]
struct CaseError<'a> {
    name: &'a str,
    error: &'a str,
}

/// One case's result in `--cases` JSON lines.
#[derive(serde::Serialize)]
struct CaseResult<'a> {
    name: &'a str,
    #[serde(flatten)]
    report: &'a TraceReport,
}

/// `--policy` and `--policies`: the report's policy, and the others to
/// compare it with.
fn policies(a: &TraceArgs) -> Result<(Policy, Vec<Policy>)> {
    let mut compared: Vec<Policy> = Vec::new();
    if let Some(list) = &a.policies {
        for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let p = Policy::parse(p).ok_or_else(|| {
                anyhow::anyhow!("--policies: {p:?} is not one of poison, haircut, fifo, lifo, tiho")
            })?;
            if !compared.contains(&p) {
                compared.push(p);
            }
        }
        if compared.is_empty() {
            bail!("--policies: give at least one of poison, haircut, fifo, lifo, tiho");
        }
    }
    let policy = match (a.policy, compared.first()) {
        (Some(p), _) => policy_of(p),
        (None, Some(p)) => *p,
        (None, None) => bail!("give --policy (or --policies)"),
    };
    compared.retain(|p| *p != policy);
    Ok((policy, compared))
}

pub fn trace(a: &TraceArgs, quiet: bool) -> Result<()> {
    let (policy, compared) = policies(a)?;
    let min_taint = fundtrail::amount::parse_integer(&a.min_taint)
        .map_err(|e| anyhow::anyhow!("--min-taint: {e} (give an integer amount in base units)"))?;
    let cases = match &a.cases {
        Some(path) => {
            if !a.seeds.is_empty() || !a.seed_txs.is_empty() {
                bail!("give seeds either with --seed/--seed-tx or in the --cases file, not both");
            }
            Some(read_cases(path, policy, min_taint)?)
        }
        None => {
            if a.seeds.is_empty() && a.seed_txs.is_empty() {
                bail!("nothing to trace: give the thief's address with --seed ADDR or a theft transaction with --seed-tx HASH (or many thefts with --cases FILE)");
            }
            None
        }
    };
    let files = hash_files(a);
    let ledger = load(&a.inputs, &a.input, quiet)?;
    let labels = timed("read the labels", || LabelSet::load(&a.labels)).map_err(said)?;
    let mut cats = stop_categories(&a.stop_at);
    let mut stops = labelled(&ledger, &labels, &cats);
    let mut mix = timed("find mixer pools, CoinJoins and peel chains", || {
        mixers(&ledger, &labels, &a.mixers, &mut stops, &mut cats)
    })?;
    let graph = matches!(
        a.format,
        ReportFormat::Dot | ReportFormat::Graphml | ReportFormat::Html
    );
    mix.paths = usize::from(a.paths);
    mix.record_flows = graph || (a.format == ReportFormat::Json && a.paths > 0);
    mix.compare = compared;
    if graph && cases.is_some() {
        bail!("--format dot, graphml and html draw one trace's flow graph: trace one case at a time, not --cases");
    }
    let exporter: Box<dyn report::Exporter> = match a.format {
        ReportFormat::Table => Box::new(report::table::Table { top: a.top }),
        ReportFormat::Json => Box::new(report::json::Json),
        ReportFormat::Csv => Box::new(report::csv::Csv { top: a.top }),
        ReportFormat::Dot => Box::new(report::dot::Dot),
        ReportFormat::Graphml => Box::new(report::graphml::GraphMl),
        ReportFormat::Html => Box::new(report::html::Html { top: a.top }),
    };
    // The inputs' sha256 go on being computed while the trace runs: the
    // manifest is joined only when the reports are done.
    let Some(cases) = cases else {
        let case = Case {
            name: String::new(),
            seeds: a.seeds.clone(),
            seed_txs: a.seed_txs.clone(),
            policy,
            min_taint,
        };
        let spin = crate::progress::spinner("tracing", quiet);
        let rep = run_case(&ledger, &labels, &stops, &cats, &mix, &case);
        spin.finish_and_clear();
        let mut rep = rep?;
        rep.manifest = timed("wait for the inputs' sha256", || {
            trace_manifest(a, &mix, files)
        })?;
        timed("write the output", || {
            emit_with(|w| exporter.write_to(&rep, w), a.out.as_deref())
        })?;
        csv_manifest(a, &rep.manifest)?;
        // The command ends here: its millions of small allocations (the
        // evidence paths' text) go back with the process, faster than
        // freeing them one by one.
        std::mem::forget(rep);
        return Ok(());
    };
    // Many thefts: traced in parallel, written in the file's order.
    use rayon::prelude::*;
    let bar = crate::progress::bar(cases.len() as u64, "tracing cases", quiet);
    let mut results: Vec<Result<TraceReport>> = cases
        .par_iter()
        .map(|c| {
            let r = run_case(&ledger, &labels, &stops, &cats, &mix, c);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let manifest = timed("wait for the inputs' sha256", || {
        trace_manifest(a, &mix, files)
    })?;
    for (c, rep) in cases.iter().zip(&mut results) {
        if let Ok(rep) = rep {
            // the case's own manifest: the single trace that gives it, and
            // where it came from
            rep.manifest = manifest.clone();
            let p = &mut rep.manifest.parameters;
            p.insert("policy".into(), json!(c.policy.name()));
            p.insert("seeds".into(), json!(c.seeds));
            p.insert("seed_txs".into(), json!(c.seed_txs));
            p.insert("min_taint".into(), json!(c.min_taint.to_string()));
            p.insert("case".into(), json!(c.name));
        }
    }
    let mut out = String::new();
    let mut failed = 0;
    if a.format == ReportFormat::Csv {
        // one table: the case's name first on every row
        out.push_str("case,");
        out.push_str(&report::csv::HEADER.join(","));
        out.push_str("\r\n");
    }
    for (c, r) in cases.iter().zip(&results) {
        match (r, a.format) {
            (Ok(rep), ReportFormat::Csv) => {
                let body = exporter.render(rep);
                for line in body.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
                    out.push_str(&report::csv::cell(&c.name));
                    out.push(',');
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            }
            (Err(e), ReportFormat::Csv) => {
                failed += 1;
                eprintln!("fundtrail: case {}: {e:#}", c.name);
            }
            (Ok(rep), ReportFormat::Json) => {
                out.push_str(&serde_json::to_string(&CaseResult {
                    name: &c.name,
                    report: rep,
                })?);
                out.push('\n');
            }
            (
                Ok(rep),
                ReportFormat::Table
                | ReportFormat::Dot
                | ReportFormat::Graphml
                | ReportFormat::Html,
            ) => {
                out.push_str(&format!("== case {} ==\n", c.name));
                out.push_str(&exporter.render(rep));
                out.push('\n');
            }
            (Err(e), ReportFormat::Json) => {
                failed += 1;
                let error = format!("{e:#}");
                out.push_str(&serde_json::to_string(&CaseError {
                    name: &c.name,
                    error: &error,
                })?);
                out.push('\n');
            }
            (
                Err(e),
                ReportFormat::Table
                | ReportFormat::Dot
                | ReportFormat::Graphml
                | ReportFormat::Html,
            ) => {
                failed += 1;
                out.push_str(&format!("== case {} ==\nerror: {e:#}\n\n", c.name));
            }
        }
    }
    emit(&out, a.out.as_deref())?;
    csv_manifest(a, &manifest)?;
    if failed > 0 {
        bail!(
            "{failed} of {} cases could not be traced (see their `error`)",
            cases.len()
        );
    }
    Ok(())
}

/// CSV has no place for the run manifest: with `--out FILE` it goes beside
/// it, as `FILE.manifest.json`.
fn csv_manifest(a: &TraceArgs, m: &report::Manifest) -> Result<()> {
    if let (ReportFormat::Csv, Some(out)) = (a.format, &a.out) {
        let mut p = out.as_os_str().to_owned();
        p.push(".manifest.json");
        let text = format!("{}\n", serde_json::to_string_pretty(m)?);
        std::fs::write(&p, text).with_context(|| format!("writing {}", Path::new(&p).display()))?;
    }
    Ok(())
}

/// Write what `write` writes to `out`, or to stdout, buffered (a large
/// output is never held whole); a closed stdout pipe is not an error.
fn emit_with(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    out: Option<&Path>,
) -> Result<()> {
    match out {
        Some(p) => {
            let context = || format!("writing {}", p.display());
            let f = std::fs::File::create(p).with_context(context)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            write(&mut w).with_context(context)?;
            w.flush().with_context(context)
        }
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            // a closed pipe (`| head`) is not an error worth a message
            let _ = write(&mut w).and_then(|()| w.flush());
            Ok(())
        }
    }
}

/// Write `text` to `out`, or to stdout.
fn emit(text: &str, out: Option<&Path>) -> Result<()> {
    emit_with(|w| w.write_all(text.as_bytes()), out)
}

/// A sum of amounts: it can exceed 128 bits (two movements of 2^128-1), so
/// it is added in 256.
type Sum = ethnum::U256;

/// `human` for a sum: whole units when it fits in 128 bits, else base units.
fn human_sum(v: Sum, symbol: Option<&str>, decimals: Option<u8>, asset: &str) -> String {
    match v.into_words() {
        (0, lo) => human(lo, symbol, decimals, asset),
        _ => format!("{v} {} base units", fundtrail::report::short(asset)),
    }
}

pub fn stats(a: &StatsArgs, quiet: bool) -> Result<()> {
    let l = load(&a.inputs, &a.input, quiet)?;
    let mut per_asset: BTreeMap<String, (String, u64, Sum)> = BTreeMap::new();
    for m in &l.movements {
        let e = per_asset.entry(l.asset(m.asset).name.clone()).or_insert((
            "account".into(),
            0,
            Sum::ZERO,
        ));
        e.1 += 1;
        e.2 += Sum::from(m.amount());
    }
    for t in &l.utxo_txs {
        let e =
            per_asset
                .entry(l.asset(t.asset).name.clone())
                .or_insert(("utxo".into(), 0, Sum::ZERO));
        e.1 += 1;
        e.2 += l
            .tx_outputs(t)
            .iter()
            .map(|o| Sum::from(o.value()))
            .sum::<Sum>();
    }
    let blocks = l
        .movements
        .iter()
        .map(|m| m.block)
        .chain(l.utxo_txs.iter().map(|t| t.block));
    let (bmin, bmax) = (blocks.clone().min(), blocks.max());
    let times = l
        .block_times
        .iter()
        .map(|b| b.time)
        .chain(l.utxo_txs.iter().map(|t| t.time))
        .filter(|t| *t > 0);
    let (tmin, tmax) = (times.clone().min(), times.max());
    if a.format == TraceFormat::Json {
        let assets: BTreeMap<&String, serde_json::Value> = per_asset
            .iter()
            .map(|(k, (model, n, v))| {
                let key = if model == "account" {
                    "movements"
                } else {
                    "transactions"
                };
                (k, json!({"model": model, key: n, "volume": v.to_string()}))
            })
            .collect();
        let v = json!({
            "account_movements": l.movements.len(),
            "utxo_transactions": l.utxo_txs.len(),
            "utxo_inputs": l.inputs.len(),
            "utxo_outputs": l.outputs.len(),
            "addresses": l.addresses.len(),
            "assets": assets,
            "blocks": {"first": bmin, "last": bmax},
            "time": {"first": tmin, "last": tmax},
            "records": l.info.records.iter().cloned().collect::<BTreeMap<_, _>>(),
            "duplicates": l.info.duplicates,
            "rejected": l.info.rejected,
            "unknown_fee_transactions": l.info.unknown_fee_txs,
            "unknown_value_inputs": l.info.unknown_value_inputs,
            "files": l.info.files.iter().map(|f| json!({"path": f.path, "format": f.format, "records": f.records})).collect::<Vec<_>>(),
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?), None);
    }
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "account model: {} movements", l.movements.len());
    let _ = writeln!(
        o,
        "UTXO model:    {} transactions, {} inputs, {} outputs",
        l.utxo_txs.len(),
        l.inputs.len(),
        l.outputs.len()
    );
    let _ = writeln!(o, "addresses:     {}", l.addresses.len());
    if let (Some(a0), Some(a1)) = (bmin, bmax) {
        let _ = writeln!(o, "blocks:        {a0} .. {a1}");
    }
    if let (Some(t0), Some(t1)) = (tmin, tmax) {
        let _ = writeln!(o, "time:          {} .. {} UTC", utc(t0), utc(t1));
    }
    let _ = writeln!(o, "assets:");
    for (name, (model, n, v)) in &per_asset {
        let info = l.asset_id(name).map(|id| l.asset(id).clone());
        let vol = info
            .as_ref()
            .map(|i| human_sum(*v, i.symbol.as_deref(), i.decimals, name))
            .unwrap_or_else(|| v.to_string());
        let unit = if model == "account" {
            "movements"
        } else {
            "transactions"
        };
        let _ = writeln!(o, "  {name:<44} {model:<8} {n:>9} {unit:<12} volume {vol}");
    }
    let _ = writeln!(o, "records read:");
    for (f, n) in &l.info.records {
        let _ = writeln!(o, "  {f:<16} {n}");
    }
    let _ = writeln!(o, "duplicates dropped: {}", l.info.duplicates);
    let _ = writeln!(o, "records rejected:   {}", l.info.rejected);
    let _ = writeln!(
        o,
        "fees unknown (no receipt): {} transactions",
        l.info.unknown_fee_txs
    );
    let _ = writeln!(
        o,
        "inputs of unknown value:   {}",
        l.info.unknown_value_inputs
    );
    emit(&o, None)
}

pub fn inspect(a: &InspectArgs, quiet: bool) -> Result<()> {
    let l = load(std::slice::from_ref(&a.store), &a.input, quiet)?;
    let labels = LabelSet::load(&a.labels).map_err(said)?;
    let canon = fundtrail::model::canonical_address(&a.address);
    // UTXO owners may list several addresses: match any of them.
    let ids: Vec<AddrId> = l
        .addresses
        .iter()
        .enumerate()
        .filter(|(_, s)| *s == canon || (s.contains(',') && s.split(',').any(|p| p == canon)))
        .map(|(i, _)| AddrId(i as u32))
        .collect();
    if ids.is_empty() {
        bail!("{} does not appear in the ledger", a.address);
    }
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "address {canon}");
    for lab in labels.get(&canon) {
        let _ = writeln!(o, "  label: {} {} ({})", lab.category, lab.name, lab.source);
    }
    // (asset) -> (received, sent, count)
    let mut bal: BTreeMap<String, (Sum, Sum, u64)> = BTreeMap::new();
    let mut lines = Vec::new();
    for m in &l.movements {
        let out = ids.contains(&l.account_addr(m.from));
        let inn = ids.contains(&l.account_addr(m.to));
        if !out && !inn {
            continue;
        }
        let info = l.asset(m.asset);
        let e = bal.entry(info.name.clone()).or_default();
        e.2 += 1;
        if out {
            e.1 += Sum::from(m.amount());
        }
        if inn {
            e.0 += Sum::from(m.amount());
        }
        let (dir, other) = if out { ("out", m.to) } else { ("in ", m.from) };
        let other = if other.is_none() {
            if m.kind() == fundtrail::model::MoveKind::Fee {
                "(fee)".to_string()
            } else {
                "(new money)".to_string()
            }
        } else {
            l.address(l.account_addr(other)).to_string()
        };
        lines.push(format!(
            "  {}  block {:>9}  {dir} {:>28}  {} {}  tx {}",
            utc(l.time_of(m.block)),
            m.block,
            human(
                m.amount(),
                info.symbol.as_deref(),
                info.decimals,
                &info.name
            ),
            if out { "to" } else { "from" },
            other,
            l.txid(m.tx)
        ));
    }
    let spent: HashSet<u32> = l.inputs.iter().map(|i| i.spent).collect();
    for t in &l.utxo_txs {
        let info = l.asset(t.asset);
        for (k, out) in l.tx_outputs(t).iter().enumerate() {
            if !ids.contains(&out.owner) {
                continue;
            }
            let g = t.outputs[0] + k as u32;
            let e = bal.entry(info.name.clone()).or_default();
            e.0 += Sum::from(out.value());
            e.2 += 1;
            if spent.contains(&g) {
                e.1 += Sum::from(out.value());
            }
            lines.push(format!(
                "  {}  block {:>9}  in  {:>28}  output {}:{}{}",
                utc(t.time),
                t.block,
                human(
                    out.value(),
                    info.symbol.as_deref(),
                    info.decimals,
                    &info.name
                ),
                l.txid(t.txid),
                k,
                if spent.contains(&g) {
                    " (spent)"
                } else {
                    " (unspent)"
                }
            ));
        }
    }
    let _ = writeln!(o, "balances in the sample:");
    for (asset, (inn, out, n)) in &bal {
        let id = l.asset_id(asset);
        let info = id.map(|i| l.asset(i).clone());
        let h = |v| {
            info.as_ref()
                .map(|i| human_sum(v, i.symbol.as_deref(), i.decimals, asset))
                .unwrap_or_default()
        };
        let model = info.as_ref().map(|i| i.model);
        let net = if inn >= out {
            h(inn - out)
        } else if model == Some(ChainModel::Account) {
            format!(
                "{} short: held at least that before the sample",
                h(out - inn)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {asset}: {n} movements, received {}, sent {}, balance {net}",
            h(*inn),
            h(*out)
        );
    }
    let total = lines.len();
    let _ = writeln!(o, "movements ({total}):");
    for line in lines.iter().take(a.limit) {
        let _ = writeln!(o, "{line}");
    }
    if total > a.limit {
        let _ = writeln!(o, "  ... {} more (use --limit)", total - a.limit);
    }
    emit(&o, None)
}

pub fn gen(a: &GenArgs) -> Result<()> {
    use fundtrail::synth;
    let format = match &a.format {
        None => None,
        Some(f) => Some(synth::Format::parse(f).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown format {f:?}: the formats are {}",
                synth::Format::NAMES
            )
        })?),
    };
    let s = synth::generate(&a.scenario, a.seed, a.scale, format, &a.out)?;
    eprintln!("fundtrail: wrote {s} to {}", a.out.display());
    Ok(())
}

pub fn eval(a: &EvalArgs, quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(&a.truth)
        .with_context(|| format!("reading {}", a.truth.display()))?;
    let truth: fundtrail::eval::Truth = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a truth file: {e}", a.truth.display()))?;
    let mut policies = Vec::new();
    for p in a
        .policies
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        policies.push(Policy::parse(p).ok_or_else(|| {
            anyhow::anyhow!("--policies: {p:?} is not one of poison, haircut, fifo, lifo, tiho")
        })?);
    }
    if policies.is_empty() {
        bail!("--policies: give at least one of poison, haircut, fifo, lifo, tiho");
    }
    let min_taint = fundtrail::amount::parse_integer(&a.min_taint)
        .map_err(|e| anyhow::anyhow!("--min-taint: {e} (give an integer amount in base units)"))?;
    let ledger = load(&a.inputs, &a.input, quiet)?;
    let labels = LabelSet::load(&a.labels).map_err(said)?;
    let mut cats = stop_categories(&a.stop_at);
    let mut stops = labelled(&ledger, &labels, &cats);
    let min_share_ppm = fundtrail::amount::parse_decimal_scaled(&a.min_share, 6)
        .ok()
        .filter(|p| *p <= 1_000_000)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--min-share: {:?} is not a share between 0 and 1 with at most 6 decimals",
                a.min_share
            )
        })? as u64;
    let mix = mixers(&ledger, &labels, &a.mixers, &mut stops, &mut cats)?;
    let (mix_mode, cj_mode) = (mix.mode, mix.coinjoin);
    let plan = fundtrail::eval::EvalPlan {
        stops,
        min_taint,
        min_share_ppm,
        mixers: mix.pools,
        demix: mix.demix,
        coinjoins: mix.coinjoins,
    };
    let links = plan
        .demix
        .as_deref()
        .map(|d| fundtrail::eval::evaluate_links(&ledger, &truth, d));
    let scores = fundtrail::eval::evaluate(&ledger, &truth, &policies, &plan)?;
    if a.format == TraceFormat::Json {
        let mut m = serde_json::Map::new();
        for (p, s) in &scores {
            m.insert(
                p.name().to_string(),
                json!({
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "located_share": s.located_share,
                    "decoy_share": s.decoy_share,
                    "seconds": s.seconds,
                    "true_endpoints_found": s.true_positives,
                    "endpoints_found": s.found,
                    "true_endpoints": s.truth,
                }),
            );
        }
        let mut v = json!({"cases": truth.cases.len(), "min_taint": min_taint.to_string(), "min_share": a.min_share, "stop_at": cats, "mixer": mix_mode, "coinjoin": cj_mode, "policies": m});
        if let Some(l) = &links {
            let by: serde_json::Map<String, serde_json::Value> = l
                .by_heuristic
                .iter()
                .map(|(h, w, ok)| {
                    (
                        h.to_string(),
                        json!({"linked": w, "correct": ok, "precision": if *w > 0.0 { ok / w } else { 0.0 }}),
                    )
                })
                .collect();
            v["demix"] = json!({
                "thief_deposits": l.deposits,
                "thief_withdrawals": l.withdrawals,
                "linked": l.linked,
                "correct": l.correct,
                "precision": l.precision,
                "recall": l.recall,
                "by_heuristic": by,
            });
        }
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?), None);
    }
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} cases, min taint {min_taint}, stop at {}",
        truth.cases.len(),
        if cats.is_empty() {
            "none".to_string()
        } else {
            cats.join(",")
        }
    );
    if mix_mode != "pass" || cj_mode != "pass" {
        let _ = writeln!(o, "mixers {mix_mode}, CoinJoins {cj_mode}");
    }
    let _ = writeln!(
        o,
        "policy   precision  recall  f1     located  decoys  found/true  seconds"
    );
    for (p, s) in &scores {
        let _ = writeln!(
            o,
            "{:<8} {:>9.3}  {:>6.3}  {:>5.3}  {:>6.1}%  {:>5.1}%  {:>5}/{:<5}  {:.3}",
            p.name(),
            s.precision,
            s.recall,
            s.f1,
            s.located_share * 100.0,
            s.decoy_share * 100.0,
            s.true_positives,
            s.truth,
            s.seconds
        );
    }
    if let Some(l) = &links {
        let _ = writeln!(
            o,
            "\ndemixing links from the thief's {} deposits ({} withdrawals): precision {:.3}, recall {:.3} ({:.2} of {:.2} notes linked land on the thief's withdrawals)",
            l.deposits, l.withdrawals, l.precision, l.recall, l.correct, l.linked
        );
        for (h, w, ok) in &l.by_heuristic {
            let _ = writeln!(
                o,
                "  {h:<15} {w:>9.2} notes linked, precision {:.3}",
                if *w > 0.0 { ok / w } else { 0.0 }
            );
        }
    }
    emit(&o, None)
}

pub fn labels(a: &LabelsArgs) -> Result<()> {
    let set = LabelSet::load(&a.files).map_err(said)?;
    let label_json = |l: &fundtrail::labels::Label| {
        json!({"category": l.category, "label": l.name, "source": l.source,
               "confidence": l.confidence, "actor": l.actor})
    };
    if let Some(addr) = &a.address {
        let canon = fundtrail::model::canonical_address(addr);
        let ls = set.get(&canon);
        if a.format == TraceFormat::Json {
            let v =
                json!({"address": canon, "labels": ls.iter().map(label_json).collect::<Vec<_>>()});
            return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?), None);
        }
        let mut o = format!(
            "{canon}: {} label{}\n",
            ls.len(),
            if ls.len() == 1 { "" } else { "s" }
        );
        for l in ls {
            let mut extra = Vec::new();
            if let Some(c) = &l.confidence {
                extra.push(format!("confidence {c}"));
            }
            if let Some(x) = &l.actor {
                extra.push(format!("actor {x}"));
            }
            let extra = if extra.is_empty() {
                String::new()
            } else {
                format!(" ({})", extra.join(", "))
            };
            o.push_str(&format!(
                "  {:<11} {}{extra}  [{}]\n",
                l.category, l.name, l.source
            ));
        }
        return emit(&o, None);
    }
    let counts = set.category_counts();
    let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
    for ls in set.by_address.values() {
        let mut seen: Vec<&str> = ls.iter().map(|l| l.source.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        for s in seen {
            *sources.entry(s).or_default() += 1;
        }
    }
    if a.format == TraceFormat::Json {
        let v =
            json!({"addresses": set.by_address.len(), "categories": counts, "sources": sources});
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?), None);
    }
    let mut o = format!(
        "{} labelled addresses\nby category (addresses):\n",
        set.by_address.len()
    );
    for (c, n) in &counts {
        o.push_str(&format!("  {c:<14} {n}\n"));
    }
    o.push_str("by source (addresses):\n");
    for (s, n) in &sources {
        o.push_str(&format!("  {n:>7}  {s}\n"));
    }
    emit(&o, None)
}

/// `fundtrail detect`: mixer pools and their links, CoinJoins, peel chains.
pub fn detect(a: &DetectArgs, quiet: bool) -> Result<()> {
    use fundtrail::heuristics::{coinjoin, mixer, peel};
    let demix_opts = demix_options(&a.demix)?;
    let ledger = load(&a.inputs, &a.input, quiet)?;
    let labels = LabelSet::load(&a.labels).map_err(said)?;
    let mut pools: Vec<AddrId> = labelled(&ledger, &labels, &["mixer".to_string()])
        .into_iter()
        .collect();
    pools.sort_unstable();
    let d = mixer::analyse(&ledger, &pools, &demix_opts);
    let cjs = coinjoin::detect_all(&ledger);
    let opts = peel::PeelOptions {
        min_len: a.min_peel_steps.max(1),
        ..Default::default()
    };
    let chains = peel::detect_all(&ledger, &opts);
    let top = |n: usize| if a.top == 0 { n } else { n.min(a.top) };
    let amount = |asset: fundtrail::model::AssetId, v: u128| {
        let info = ledger.asset(asset);
        human(v, info.symbol.as_deref(), info.decimals, &info.name)
    };

    // per pool: notes and link weight by heuristic
    let pool_rows: Vec<serde_json::Value> = d
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let i = i as u32;
            let deposits = d.deposits.iter().filter(|x| x.pool == i).count();
            let withdrawals = d.withdrawals.iter().filter(|x| x.pool == i).count();
            let mut by: std::collections::BTreeMap<&str, f64> = Default::default();
            let mut links = 0;
            for l in d
                .links
                .iter()
                .filter(|l| d.deposits[l.deposit as usize].pool == i)
            {
                links += 1;
                for h in l.heuristics.names() {
                    *by.entry(h).or_default() += l.ppm as f64 / mixer::PPM as f64;
                }
            }
            json!({
                "address": ledger.address(p.addr),
                "asset": ledger.asset(p.asset).name,
                "denomination": p.denomination.to_string(),
                "deposits": deposits,
                "withdrawals": withdrawals,
                "links": links,
                "linked_notes": by,
            })
        })
        .collect();
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &cjs {
        *kinds.entry(c.kind.name()).or_default() += 1;
    }
    let mut ranked: Vec<&coinjoin::CoinJoin> = cjs.iter().collect();
    ranked.sort_by(|x, y| {
        y.confidence
            .total_cmp(&x.confidence)
            .then(y.equal_outputs.cmp(&x.equal_outputs))
            .then(x.tx.cmp(&y.tx))
    });
    let cj_rows: Vec<serde_json::Value> = ranked[..top(ranked.len())]
        .iter()
        .map(|c| {
            let t = &ledger.utxo_txs[c.tx];
            json!({
                "tx": ledger.txid(t.txid),
                "block": t.block,
                "kind": c.kind.name(),
                "confidence": c.confidence,
                "denomination": c.denomination.to_string(),
                "equal_outputs": c.equal_outputs,
                "inputs": c.inputs,
                "distinct_input_owners": c.distinct_input_owners,
            })
        })
        .collect();
    let mut longest: Vec<&peel::ChainSummary> = chains.iter().collect();
    longest.sort_by(|x, y| {
        y.total_peeled
            .cmp(&x.total_peeled)
            .then(y.steps.cmp(&x.steps))
    });
    let peel_rows: Vec<serde_json::Value> = longest[..top(longest.len())]
        .iter()
        .map(|c| {
            json!({
                "model": c.model,
                "asset": ledger.asset(c.asset).name,
                "steps": c.steps,
                "first_tx": ledger.txid(c.first_tx),
                "last_tx": ledger.txid(c.last_tx),
                "first_owner": ledger.address(c.first_owner),
                "start_value": c.start_value.to_string(),
                "total_peeled": c.total_peeled.to_string(),
                "final_change": c.final_change.to_string(),
                "final_owner": ledger.address(c.final_owner),
                "summary": c.summary,
            })
        })
        .collect();
    if a.format == TraceFormat::Json {
        let v = json!({
            "mixer_pools": pool_rows,
            "demix_window_seconds": demix_opts.window,
            "coinjoins": {"count": cjs.len(), "by_kind": kinds, "top": cj_rows},
            "peel_chains": {"count": chains.len(), "top": peel_rows},
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?), None);
    }
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "Mixer pools ({}):", d.pools.len());
    if d.pools.is_empty() {
        let _ = writeln!(
            o,
            "  none (pools are the addresses labelled `mixer` in --labels)"
        );
    }
    for (p, row) in d.pools.iter().zip(&pool_rows) {
        let by = row["linked_notes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {:.2}", v.as_f64().unwrap_or(0.0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {} notes of {}: {} deposits, {} withdrawals, {} links (notes linked: {})",
            ledger.address(p.addr),
            amount(p.asset, p.denomination),
            row["deposits"],
            row["withdrawals"],
            row["links"],
            if by.is_empty() {
                "none".to_string()
            } else {
                by
            }
        );
    }
    let _ = writeln!(
        o,
        "\nCoinJoins ({}{}):",
        cjs.len(),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                kinds
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for c in &ranked[..top(ranked.len())] {
        let t = &ledger.utxo_txs[c.tx];
        let _ = writeln!(
            o,
            "  {} block {}: {} (confidence {:.2}), {} equal outputs of {}, {} inputs",
            ledger.txid(t.txid),
            t.block,
            c.kind.name(),
            c.confidence,
            c.equal_outputs,
            amount(t.asset, c.denomination),
            c.inputs
        );
    }
    let _ = writeln!(
        o,
        "\nPeel chains ({}, at least {} steps):",
        chains.len(),
        opts.min_len
    );
    for c in &longest[..top(longest.len())] {
        let _ = writeln!(
            o,
            "  {} (from {}, tx {})",
            c.summary,
            ledger.address(c.first_owner),
            ledger.txid(c.first_tx)
        );
    }
    emit(&o, None)
}

/// `fundtrail path`: trace, then show the heaviest path into each endpoint
/// at one address.
pub fn path(a: &PathArgs, quiet: bool) -> Result<()> {
    let t = &a.trace;
    if t.cases.is_some() {
        bail!("fundtrail path explains one trace: give --seed/--seed-tx, not --cases");
    }
    if !matches!(t.format, ReportFormat::Table | ReportFormat::Json) {
        bail!("fundtrail path writes --format table or json");
    }
    if t.seeds.is_empty() && t.seed_txs.is_empty() {
        bail!("nothing to trace: give the thief's address with --seed ADDR or a theft transaction with --seed-tx HASH");
    }
    let (policy, _) = policies(t)?;
    let min_taint = fundtrail::amount::parse_integer(&t.min_taint)
        .map_err(|e| anyhow::anyhow!("--min-taint: {e} (give an integer amount in base units)"))?;
    // only JSON shows the manifest
    let files = (t.format == ReportFormat::Json).then(|| hash_files(t));
    let ledger = load(&t.inputs, &t.input, quiet)?;
    let labels = LabelSet::load(&t.labels).map_err(said)?;
    let mut cats = stop_categories(&t.stop_at);
    let mut stops = labelled(&ledger, &labels, &cats);
    let mut mix = mixers(&ledger, &labels, &t.mixers, &mut stops, &mut cats)?;
    mix.record_flows = true;
    mix.paths = usize::from(t.paths).max(1);
    let case = Case {
        name: String::new(),
        seeds: t.seeds.clone(),
        seed_txs: t.seed_txs.clone(),
        policy,
        min_taint,
    };
    let spin = crate::progress::spinner("tracing", quiet);
    let rep = run_case(&ledger, &labels, &stops, &cats, &mix, &case);
    spin.finish_and_clear();
    let rep = rep?;
    let to = ledger
        .addr_id(&t_canon(&a.to))
        .ok_or_else(|| anyhow::anyhow!("{} does not appear in the ledger", a.to))?;
    let to_text = ledger.address(to).to_string();
    let ends: Vec<&report::EndpointView> = rep
        .endpoints
        .iter()
        .filter(|e| e.address == to_text)
        .collect();
    if ends.is_empty() {
        bail!(
            "{} is not an endpoint of this trace (no taint at or above --min-taint reached it)",
            a.to
        );
    }
    // peel chains the paths pass, by their number in the steps
    let chains: Vec<&report::PeelChainView> = rep
        .peel_chains
        .iter()
        .filter(|c| {
            ends.iter()
                .flat_map(|e| e.paths.iter().flat_map(|p| &p.steps))
                .any(|s| s.peel_chain == Some(c.id))
        })
        .collect();
    if let Some(files) = files {
        let out: Vec<serde_json::Value> = ends
            .iter()
            .map(|e| {
                json!({
                    "endpoint": e.address,
                    "asset": e.asset,
                    "kind": e.kind,
                    "tainted": e.tainted.to_string(),
                    "score": e.score,
                    "paths": e.paths,
                })
            })
            .collect();
        let v = json!({"policy": policy.name(), "seeds": t.seeds, "to": to_text, "endpoints": out, "peel_chains": chains, "manifest": trace_manifest(t, &mix, files)?});
        return emit(
            &format!("{}\n", serde_json::to_string_pretty(&v)?),
            t.out.as_deref(),
        );
    }
    use std::fmt::Write as _;
    let mut o = String::new();
    for e in &ends {
        let amount = |v: u128| human(v, e.symbol.as_deref(), e.decimals, &e.asset);
        let _ = writeln!(
            o,
            "{} ({}, {}): {} tainted, rank {}, score {:.4}",
            e.address,
            e.symbol.as_deref().unwrap_or(&e.asset),
            e.kind,
            amount(e.tainted),
            e.rank,
            e.score
        );
        if e.paths.is_empty() {
            let _ = writeln!(o, "  no recorded path (taint of unknown origin)");
        }
        for (k, p) in e.paths.iter().enumerate() {
            let _ = writeln!(
                o,
                "  path {} of {}: at least {} at every step",
                k + 1,
                e.paths.len(),
                amount(p.width)
            );
            for (n, s) in p.steps.iter().enumerate() {
                match s.peel_chain {
                    Some(id) => {
                        let _ = writeln!(
                            o,
                            "    {}. peel chain [{id}] of {} transfers, blocks {} .. {} ({} .. {})\n       tx {} .. {}\n       {} -> {}: at least {}",
                            n + 1,
                            s.transfers.unwrap_or(0),
                            s.block,
                            s.last_block.unwrap_or(s.block),
                            utc(s.time),
                            utc(ledger.time_of(s.last_block.unwrap_or(s.block))),
                            s.tx,
                            s.last_tx.as_deref().unwrap_or(""),
                            s.from,
                            s.to,
                            amount(s.tainted)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            o,
                            "    {}. block {} ({}) tx {}\n       {} -> {}: {}",
                            n + 1,
                            s.block,
                            utc(s.time),
                            s.tx,
                            s.from,
                            s.to,
                            amount(s.tainted)
                        );
                    }
                }
            }
        }
    }
    for c in &chains {
        let _ = writeln!(o, "  [{}] {}", c.id, c.summary);
    }
    emit(&o, t.out.as_deref())
}

fn t_canon(s: &str) -> String {
    fundtrail::model::canonical_address(s)
}
