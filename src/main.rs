//! The `fundtrail` command: parse the command line, run the command, report
//! errors with a non-zero exit.

mod cli;
mod commands;
mod progress;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // before anything runs on the pool, so this cannot already be set
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global()
        {
            eprintln!("fundtrail: error: cannot start {n} worker threads: {e}");
            std::process::exit(1);
        }
    }
    commands::set_timings(cli.timings);
    let result = match &cli.command {
        Command::Ingest(a) => commands::ingest(a, cli.quiet),
        Command::Trace(a) => commands::trace(a, cli.quiet),
        Command::Stats(a) => commands::stats(a, cli.quiet),
        Command::Inspect(a) => commands::inspect(a, cli.quiet),
        Command::Gen(a) => commands::gen(a),
        Command::Eval(a) => commands::eval(a, cli.quiet),
        Command::Labels(a) => commands::labels(a),
        Command::Detect(a) => commands::detect(a, cli.quiet),
        Command::Path(a) => commands::path(a, cli.quiet),
    };
    if let Err(e) = result {
        eprintln!("fundtrail: error: {e:#}");
        std::process::exit(1);
    }
}
