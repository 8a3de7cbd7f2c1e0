//! The `archbench` command line. The only place that knows about terminals: every subcommand
//! turns its flags into a library config, calls the library, and renders the result.

mod commands;
mod exit;
mod output;

use clap::Parser;

use crate::commands::Command;

/// Measure and do multi-architecture work: emulation, cross-compilation, native workers, Wasm.
#[derive(Parser)]
#[command(name = "archbench", version, about, max_term_width = 100)]
struct Cli {
    /// More log output (repeat for more); also honours RUST_LOG.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match cli.command.execute() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => exit::report(&err),
    }
}
