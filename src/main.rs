//! The `fundtrail` command: parse the command line, run the command, report
//! errors with a non-zero exit.

mod cli;
mod commands;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Ingest(a) => commands::ingest(a),
        Command::Trace(a) => commands::trace(a),
        Command::Stats(a) => commands::stats(a),
        Command::Inspect(a) => commands::inspect(a),
        Command::Gen(a) => commands::gen(a),
    };
    if let Err(e) = result {
        eprintln!("fundtrail: error: {e:#}");
        std::process::exit(1);
    }
}
