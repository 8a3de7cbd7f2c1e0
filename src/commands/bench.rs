//! `archbench bench`: the workload suite on native, QEMU and Wasm runners.

use std::path::PathBuf;

use archbench_bench::pin;
use archbench_bench::scratch::Scratch;
use archbench_bench::suite::{self, Cell, CellStatus, Policy, Setup, WORKLOADS};
use archbench_exec::host::host_facts;
use archbench_exec::runner::RunnerSpec;
use archbench_results::{write_atomic, Envelope};
use clap::Args;

use crate::exit::{Code, Findings};
use crate::output::{print_json, spinner};

/// Build the workloads for each runner's platform, run every workload on every runner, and
/// print median, 95% CI and slowdown against native. A runner whose checksum differs from
/// native's fails the run (exit 5).
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    #[command(subcommand)]
    action: Option<BenchAction>,

    /// Workloads to run (repeatable); default: all.
    #[arg(long, value_name = "W")]
    workload: Vec<String>,

    /// Runners (repeatable): native, qemu:<platform>, wasm:cranelift|winch|pulley; default: native,
    /// qemu arm64, arm/v7, riscv64 and the three Wasm tiers.
    #[arg(long, value_name = "R")]
    runner: Vec<RunnerSpec>,

    /// Smaller sizes and fewer runs: the whole suite in a few minutes.
    #[arg(long)]
    quick: bool,

    /// Exactly this many recorded runs per cell (overrides the time budget); at least 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,

    /// Directory in which workloads write their files (a private subdirectory is made and
    /// removed). Default: /dev/shm or $XDG_RUNTIME_DIR when RAM-backed, else the temp dir.
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,

    /// Pin the measured runs to this CPU (default: the highest CPU this process may use).
    #[arg(long, value_name = "N", conflicts_with = "no_pin")]
    cpu: Option<usize>,

    /// Let the scheduler place the measured runs (noisier on small virtual machines).
    #[arg(long)]
    no_pin: bool,

    /// Write the results envelope here (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Print the results as JSON.
    #[arg(long)]
    json: bool,

    /// The workloads source (default: the sources embedded in archbench, written to its cache).
    #[arg(long, value_name = "DIR", hide = true)]
    workloads_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum BenchAction {
    /// Compare two results files cell by cell (runs made separately or on different hosts).
    Compare {
        /// The earlier results file.
        old: PathBuf,
        /// The later results file.
        new: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn compare_files(old: &std::path::Path, new: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let o: Envelope<Vec<Cell>> = archbench_results::read(old, "bench")?;
    let n: Envelope<Vec<Cell>> = archbench_results::read(new, "bench")?;
    let cmp = archbench_bench::compare::compare(&o.payload, &n.payload);
    let refusals: Vec<String> = cmp
        .refused
        .iter()
        .map(|r| format!("not compared: {} on {}: {}", r.workload, r.runner, r.why))
        .collect();
    let changes = cmp.changes;
    if changes.is_empty() {
        anyhow::bail!(
            "{} and {} share no comparable cell (same workload, size, runner and its version, build profile){}",
            old.display(),
            new.display(),
            if refusals.is_empty() { String::new() } else { format!(":\n  {}", refusals.join("\n  ")) }
        );
    }
    for r in &refusals {
        eprintln!("{r}");
    }
    if json {
        return print_json(&changes);
    }
    println!("old: {}\nnew: {}", o.host.summary(), n.host.summary());
    println!(
        "{:<10} {:<22} {:>10} {:>10} {:>22}  verdict",
        "workload", "runner", "old", "new", "new/old (95% CI)"
    );
    for c in &changes {
        let (r, (lo, hi)) = c.ratio;
        println!(
            "{:<10} {:<22} {:>10} {:>10} {:>22}  {}",
            c.workload,
            c.runner,
            fmt_time(c.old_median),
            fmt_time(c.new_median),
            format!("{r:.2}x [{lo:.2}, {hi:.2}]"),
            c.verdict
        );
    }
    Ok(())
}

fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

impl BenchCommand {
    // Long (about 130 lines): CLI glue, flags into a Plan for the suite, then the table and the
    // exit status; the work is archbench_bench::suite.
    pub fn execute(self) -> anyhow::Result<()> {
        if let Some(BenchAction::Compare { old, new, json }) = &self.action {
            return compare_files(old, new, *json);
        }
        let workloads: Vec<_> = if self.workload.is_empty() {
            WORKLOADS.to_vec()
        } else {
            self.workload
                .iter()
                .map(|w| {
                    WORKLOADS.iter().find(|x| x.name == w).copied().ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown workload {w:?}; choose from {}",
                            WORKLOADS.iter().map(|x| x.name).collect::<Vec<_>>().join(", ")
                        )
                    })
                })
                .collect::<anyhow::Result<_>>()?
        };
        let mut runners =
            if self.runner.is_empty() { RunnerSpec::default_set() } else { self.runner.clone() };
        if !runners.contains(&RunnerSpec::Native) {
            // Slowdowns and the checksum gate are relative to native.
            runners.insert(0, RunnerSpec::Native);
        }
        let mut policy = Policy::new(self.quick);
        if let Some(n) = self.runs {
            policy.min_runs = n;
            policy.max_runs = n.max(1);
            policy.budget_seconds = 0.0;
        }
        let source = archbench_bench::artifacts::source_dir(self.workloads_dir.as_deref())
            .map_err(anyhow::Error::msg)?;
        let scratch = Scratch::create(self.scratch.as_deref()).map_err(anyhow::Error::msg)?;
        if let Some(w) = scratch.warning() {
            if workloads.iter().any(|w| w.name == "syscall") {
                eprintln!("warning: {w}");
            }
        }
        let cpu = match (self.no_pin, self.cpu) {
            (true, _) => None,
            (false, Some(c)) => Some(pin::check(c).map_err(anyhow::Error::msg)?),
            (false, None) => pin::default_cpu(),
        };
        let setup = Setup { scratch: &scratch, cpu };
        // Ctrl-C stops the suite after the current run; the cells done so far are written.
        archbench_results::cleanup::defer_interrupts();
        let bar = spinner(!self.json, "benchmarking");
        let cells: Vec<Cell> =
            suite::run(&source, &workloads, &runners, self.quick, policy, setup, |m| {
                bar.set_message(m.to_owned())
            })
            .map_err(anyhow::Error::msg)?;
        bar.finish_and_clear();
        let envelope = Envelope::begin("bench", host_facts(None), &cells).finish();
        if let Some(out) = &self.output {
            write_atomic(out, &envelope)?;
        }
        if self.json {
            print_json(&envelope)?;
        } else {
            println!(
                "{:<10} {:<22} {:>10} {:>23} {:>22}",
                "workload", "runner", "median", "95% CI", "slowdown (95% CI)"
            );
            for c in &cells {
                let (median, ci) = match &c.wall {
                    Some(w) => (
                        fmt_time(w.median),
                        format!("[{}, {}]", fmt_time(w.median_ci.0), fmt_time(w.median_ci.1)),
                    ),
                    None => ("-".into(), String::new()),
                };
                let slow = match (&c.status, c.slowdown) {
                    (CellStatus::Ok, Some((r, (lo, hi)))) => format!("{r:.2}x [{lo:.2}, {hi:.2}]"),
                    (CellStatus::Ok, None) => String::new(),
                    (CellStatus::InvalidChecksum { .. }, _) => "INVALID checksum".into(),
                    (CellStatus::Failed { reason }, _) => format!("FAILED: {reason}"),
                    (CellStatus::Interrupted { recorded }, _) => {
                        format!("INTERRUPTED after {recorded} runs")
                    }
                };
                println!(
                    "{:<10} {:<22} {:>10} {:>23} {:>22}",
                    c.workload, c.runner, median, ci, slow
                );
            }
            println!(
                "\nhost: {}; native arm64 speed is not measured on this host",
                envelope.host.summary()
            );
            println!(
                "scratch: {}; {}",
                scratch.describe(),
                match cpu {
                    Some(c) => format!("runs pinned to CPU {c}"),
                    None => "runs not pinned".to_owned(),
                }
            );
        }
        if archbench_results::cleanup::interrupt_requested() {
            return Err(Findings {
                code: Code::Interrupted,
                message: format!(
                    "interrupted: {} completed cells{}",
                    cells.iter().filter(|c| c.status == CellStatus::Ok).count(),
                    match &self.output {
                        Some(o) => format!(
                            " written to {} (the interrupted one is marked so)",
                            o.display()
                        ),
                        None => " shown above".to_owned(),
                    }
                ),
            }
            .into());
        }
        let bad: Vec<String> = cells
            .iter()
            .filter(|c| c.status != CellStatus::Ok)
            .map(|c| format!("{} on {}", c.workload, c.runner))
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Findings {
                code: Code::BenchInvalid,
                message: format!("invalid or failed cells: {}", bad.join(", ")),
            }
            .into())
        }
    }
}
