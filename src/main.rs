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

/// On SIGINT or SIGTERM: stop the run in progress, then either let the command save what it
/// finished (a command that deferred interrupts, the first time) or remove what was
/// half-written (see `archbench_results::cleanup`) and exit as the signal would have (130, 143).
/// The handler runs on its own thread, so it may take locks and touch the filesystem, which a
/// signal context may not.
fn handle_interrupts() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        tracing::warn!("could not install the interrupt handler: an interrupted copy may leave .partial- files");
        return;
    };
    std::thread::spawn(move || {
        for sig in signals.forever() {
            // The run in progress (a child's process group, a Wasm guest) is stopped at once in
            // either case: a deferred interrupt saves what finished before it, and a process
            // group left running would outlive archbench.
            let stopped = archbench_results::cleanup::stop_running();
            if archbench_results::cleanup::defer_signal() {
                eprintln!(
                    "archbench: interrupted; {}saving what is done (interrupt again to stop at once)",
                    if stopped > 0 { "stopped the current run, " } else { "" }
                );
                continue;
            }
            let removed = archbench_results::cleanup::remove_registered();
            if removed > 0 {
                eprintln!("archbench: interrupted; removed {removed} partly written file(s)");
            }
            exit::on_signal(sig);
        }
    });
}

fn main() -> std::process::ExitCode {
    archbench_results::mark_command_start();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    handle_interrupts();
    match cli.command.execute() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => exit::report(&err),
    }
}
