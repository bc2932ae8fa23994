//! Command-line definitions (clap). Help text lives next to each flag.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "fundtrail",
    version,
    about = "Follow stolen cryptocurrency through exported ledger data, exactly.",
    long_about = "Follow stolen cryptocurrency through exported ledger data, exactly.\n\n\
        fundtrail reads ethereum-etl, bitcoin-etl, Bitcoin Core RPC and Etherscan exports (JSON lines \
        or arrays, optionally .gz; a directory means every file in it) or a store written by \
        `fundtrail ingest`, replays value flow from the thief's addresses under a taint policy, and \
        reports where the stolen funds are now, to the base unit.",
    after_help = "Examples:\n  \
        fundtrail trace fixtures/demo --seed 0x6578706c6f69746572626500b45dc71b2a9d5d4b --policy haircut --labels fixtures/demo-labels.csv\n  \
        fundtrail ingest fixtures/demo -o demo.ftl\n  \
        fundtrail eval --truth fixtures/synth/lazarus-eth/truth.json fixtures/synth/lazarus-eth"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress bars (they are shown only when standard error is a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Say on standard error how long each phase took: reading and each
    /// ingest phase (or opening a store), writing a store, tracing, the
    /// report, writing the output, and any wait for the inputs' sha256.
    #[arg(long, global = true)]
    pub timings: bool,
    /// Worker threads for the parallel work (ingest, store checks, reports,
    /// `--cases`); default: RAYON_NUM_THREADS if set, else one per logical
    /// CPU. The output is byte-identical at any count.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read ledger exports and write them to one store file.
    Ingest(IngestArgs),
    /// Trace stolen funds from seed addresses or transactions to their endpoints.
    Trace(TraceArgs),
    /// Summarise a ledger: counts by model and asset, block and time range, rejects.
    Stats(StatsArgs),
    /// Show one address: its movements, balances in the sample, and labels.
    Inspect(InspectArgs),
    /// Generate a synthetic ledger (deterministic for the same arguments).
    Gen(GenArgs),
    /// Score policies against a ground truth (`truth.json` from `gen`): precision, recall, located value.
    Eval(EvalArgs),
    /// Show what label files say: counts by category and source, or one address's labels.
    Labels(LabelsArgs),
    /// Find laundering structures in a ledger: mixer pools (labelled `mixer`)
    /// with their demixing links, CoinJoins, and peel chains.
    Detect(DetectArgs),
    /// The evidence for one endpoint: the heaviest path taint took from the
    /// seeds to it, every transaction with its hash, amount and time.
    Path(PathArgs),
}

#[derive(Args, Debug)]
pub struct PathArgs {
    /// The endpoint's address (any case for EVM addresses).
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    #[command(flatten)]
    pub trace: TraceArgs,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Ledger export files or directories, or one store file.
    #[arg(required = true, value_name = "FILES|STORE")]
    pub inputs: Vec<PathBuf>,
    /// Label files or folders; addresses labelled `mixer` are the pools.
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    #[command(flatten)]
    pub demix: DemixArgs,
    /// Shortest peel chain listed, in steps.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub min_peel_steps: usize,
    /// List at most this many CoinJoins and peel chains each (the counts
    /// cover all of them); 0 lists all.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub format: TraceFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Args, Debug)]
pub struct LabelsArgs {
    /// Label files or folders: CSV (`address,category,label`), GraphSense
    /// TagPack YAML, OFAC lists (`sanctioned_addresses_<ASSET>.txt|json`),
    /// Etherscan label folders (`<label>/accounts.json`).
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Show every label of this address (any case for EVM addresses).
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub format: TraceFormat,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// The scenario. Presets: `lazarus-eth` (Ronin 2022: look-alike dust,
    /// fan-out, exchanges, a 100 ETH mixer, bridge, swap, peel chain),
    /// `bybit-eth` (Bybit 2025: 40 x 10,000 ETH fan-out, layers, bridge,
    /// swap, exchanges), `bitfinex-btc` (Bitfinex 2016: peel chains to
    /// exchanges), `background` (no theft). Or one laundering typology, or
    /// several comma-separated and applied in order: fan-out, peel-chain,
    /// mixer, scatter-gather, gather-scatter, cycle, layers, bridge, swap,
    /// decoys, cash-out.
    #[arg(long, default_value = "background")]
    pub scenario: String,
    /// Random seed: the same seed and arguments give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Total movements to write, background and laundering together.
    #[arg(long, default_value_t = 100_000)]
    pub scale: u64,
    /// Output format: ethereum-etl, bitcoin-etl or native. Default: native
    /// for `background` (the benchmarks' ledger), otherwise the scenario's
    /// chain's ETL format.
    #[arg(long)]
    pub format: Option<String>,
    /// Directory to write into (created if missing): the ledger file(s),
    /// labels.csv and truth.json.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// What to do with a record that cannot be used: `fail` stops with an error
    /// naming file, line and field; `skip` goes on, counts it and writes it to
    /// the rejects file.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
    /// Where `--on-error skip` writes the rejected records (one per line, as read).
    #[arg(long, value_name = "FILE", default_value = "fundtrail-rejects.jsonl")]
    pub rejects: PathBuf,
}

/// How demixing links notes (`--mixer demix`, `detect`).
#[derive(Args, Debug, Clone)]
pub struct DemixArgs {
    /// `--mixer demix`: a withdrawal links only to deposits at most this long
    /// before it (`30m`, `48h`, `7d`, or seconds).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub demix_window: String,
    /// `--mixer demix`: notes of one address this close together form a
    /// burst (batch cohorts).
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub demix_burst: String,
}

/// How the trace treats mixer pools (addresses labelled `mixer`).
#[derive(Args, Debug, Clone)]
pub struct MixerArgs {
    /// Mixer pools (addresses labelled `mixer` in --labels): `pass` treats a
    /// pool as an ordinary account under the policy; `stop` makes it an
    /// endpoint that absorbs taint; `demix` links withdrawals to the deposits
    /// they most likely spend (address match, unique gas price, portfolios,
    /// linked addresses, batch cohorts, then the time window) and taint follows the links in
    /// proportion to their confidence. Endpoints reached through a pool say so.
    /// Default: `stop` when --stop-at names `mixer`, else `pass`.
    #[arg(long, value_enum)]
    pub mixer: Option<MixerArg>,
    #[command(flatten)]
    pub demix: DemixArgs,
    /// CoinJoins (UTXO; equal-output, Wasabi, Whirlpool and JoinMarket
    /// shapes, detected with a confidence): `pass` follows taint through
    /// them under the policy and flags the endpoints reached; `stop` absorbs
    /// taint entering one at the input's address.
    #[arg(long, value_enum, default_value_t = CoinJoinArg::Pass)]
    pub coinjoin: CoinJoinArg,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoinJoinArg {
    /// Follow taint through CoinJoins under the policy; flag what it reaches.
    Pass,
    /// Taint entering a CoinJoin stops there.
    Stop,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum MixerArg {
    /// The pool is an ordinary account under the policy.
    Pass,
    /// The pool is an endpoint: taint that reaches it stays there.
    Stop,
    /// Follow demixing links between deposits and withdrawals.
    Demix,
}

impl MixerArg {
    pub fn name(self) -> &'static str {
        match self {
            MixerArg::Pass => "pass",
            MixerArg::Stop => "stop",
            MixerArg::Demix => "demix",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    Fail,
    Skip,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Ledger export files or directories.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// The store file to write (replaced atomically).
    #[arg(short, long, value_name = "STORE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// Any taint taints everything the account holds and sends (upper bound; does not conserve).
    Poison,
    /// Each payment carries the account's tainted share, floor(x*T/B).
    Haircut,
    /// First in, first out: the oldest coins leave first.
    Fifo,
    /// Last in, first out: the newest coins leave first.
    Lifo,
    /// Taint in, highest out: tainted coins leave first.
    Tiho,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Table,
    Json,
}

/// Output formats of a trace.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A ranked table for the terminal.
    Table,
    /// SPEC.md §5 plus every score factor, evidence paths, the flow graph,
    /// mixer/CoinJoin/peel-chain facts and the run manifest.
    Json,
    /// One row per endpoint (RFC 4180).
    Csv,
    /// The flow graph for Graphviz.
    Dot,
    /// The flow graph for Gephi and yEd.
    Graphml,
    /// One self-contained HTML file: summary, totals, sortable endpoints,
    /// interactive flow graph, evidence paths, manifest (no network use).
    Html,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Ledger export files or directories, or one store file.
    #[arg(required = true, value_name = "FILES|STORE")]
    pub inputs: Vec<PathBuf>,
    /// A thief's address: everything it holds or receives is tainted. Repeatable.
    #[arg(long = "seed", value_name = "ADDR")]
    pub seeds: Vec<String>,
    /// A theft transaction: every amount it moves is tainted where it lands. Repeatable.
    #[arg(long = "seed-tx", value_name = "HASH")]
    pub seed_txs: Vec<String>,
    /// The taint policy (SPEC.md §3).
    #[arg(long, value_enum, required_unless_present = "policies")]
    pub policy: Option<PolicyArg>,
    /// Trace under each of these policies (comma-separated) and say, per
    /// endpoint, which of them list it and the least and most taint they
    /// give; the report is the first policy's (or --policy's).
    #[arg(long, value_name = "POLICY,...")]
    pub policies: Option<String>,
    /// Label files or folders (CSV `address,category,label`, GraphSense TagPack
    /// YAML, OFAC lists, Etherscan label folders). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// Label categories that absorb taint (custodial services), comma-separated; `none` for none.
    #[arg(long, value_name = "CATEGORY,...", default_value = "exchange")]
    pub stop_at: String,
    /// Taint smaller than this (base units, per movement) is not followed but
    /// counted as below threshold; 0 follows everything.
    #[arg(long, value_name = "N", default_value = "0")]
    pub min_taint: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// List only the N best-ranked endpoints in the table, CSV and HTML
    /// (the HTML shows 1000 unless told; the totals cover all; JSON always
    /// lists all).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Evidence: the K heaviest paths from the seeds into each endpoint, in
    /// JSON and HTML (and `fundtrail path`); 0 records none, which saves
    /// keeping every tainted transfer of the trace.
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=50))]
    pub paths: u8,
    /// Write the result to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Trace many independent thefts at once, in parallel: a JSON-lines file,
    /// each line `{"name": .., "seeds": [..]}` with optional `seed_txs`,
    /// `policy` and `min_taint` (default: the flags). Writes one result per
    /// case, in the file's order (`--format json`: one JSON line per case).
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    #[command(flatten)]
    pub mixers: MixerArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Ledger export files or directories, or one store file.
    #[arg(required = true, value_name = "FILES|STORE")]
    pub inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub format: TraceFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A store file (or ledger exports).
    #[arg(value_name = "STORE")]
    pub store: PathBuf,
    /// The address to show (any case for EVM addresses).
    #[arg(value_name = "ADDR")]
    pub address: String,
    /// Label files to show the address's labels from. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// Show at most this many movements.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The ground truth (`truth.json`, as `fundtrail gen` writes it).
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Ledger export files or directories, or one store file.
    #[arg(required = true, value_name = "FILES|STORE")]
    pub inputs: Vec<PathBuf>,
    /// Policies to score, comma-separated.
    #[arg(
        long,
        value_name = "POLICY,...",
        default_value = "poison,haircut,fifo,lifo,tiho"
    )]
    pub policies: String,
    /// Label files (CSV `address,category,label`); their stop categories absorb taint. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// Label categories that absorb taint, comma-separated; `none` for none.
    #[arg(long, value_name = "CATEGORY,...", default_value = "exchange")]
    pub stop_at: String,
    /// An endpoint counts when it holds at least this much (base units).
    #[arg(long, value_name = "N", default_value = "0")]
    pub min_taint: String,
    /// An endpoint counts only when it holds at least this share of its
    /// case's stolen amount (e.g. 0.001 for 0.1%; 0: every endpoint).
    #[arg(long, value_name = "SHARE", default_value = "0")]
    pub min_share: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub format: TraceFormat,
    #[command(flatten)]
    pub mixers: MixerArgs,
    #[command(flatten)]
    pub input: InputArgs,
}
