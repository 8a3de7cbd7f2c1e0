//! `archbench bench`: the workload suite on native, QEMU and Wasm runners.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use archbench_bench::pin;
use archbench_bench::scratch::Scratch;
use archbench_bench::suite::{self, Cell, CellStatus, Policy, Setup, WORKLOADS};
use archbench_exec::host::host_facts;
use archbench_exec::runner::RunnerSpec;
use archbench_results::{write_atomic, Envelope};
use clap::Args;

use crate::exit::{Code, Findings};
use crate::output::{print_json, spinner, Align, Table};

/// Build the workloads for each runner's platform, run every workload on every runner, and
/// print median, 95% CI and slowdown against native. A runner whose checksum differs from
/// native's fails the run (exit 5).
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    #[command(subcommand)]
    action: Option<BenchAction>,

    /// Your own programs instead of the built-in suite: one build per platform (an ELF for
    /// this machine runs natively, a foreign ELF under QEMU, a .wasm module on every wasmtime
    /// tier), all with the same ARGS, standard input and environment.
    #[arg(value_name = "FILE", conflicts_with_all = ["workload", "quick"])]
    files: Vec<PathBuf>,

    /// Arguments for your programs (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,

    /// Your program as a command line naming its build per platform, hyperfine style:
    /// `target/{triple}/release/app --n 5` with {platform}, {os}, {arch}, {variant} and {triple}
    /// (the platform's first Rust target) filled in for each --platform.
    #[arg(long, value_name = "TEMPLATE", conflicts_with_all = ["files", "workload", "quick"], requires = "platform")]
    command: Option<String>,

    /// The platforms for --command (comma-separated, or repeated).
    #[arg(long, value_name = "P,P", value_delimiter = ',', requires = "command")]
    platform: Vec<archbench_platform::Platform>,

    /// A command (after `--`; default: the image's own) run inside each platform of this
    /// multi-arch registry image, through the Docker Engine: one container per platform,
    /// started once per run, native for this machine's platform and under QEMU for the others.
    #[arg(long, value_name = "REF", conflicts_with_all = ["files", "command", "workload", "quick"])]
    image: Option<String>,

    /// For your programs: the sysroot of a dynamically linked foreign binary, given to QEMU
    /// (Debian's cross C libraries are in /usr/aarch64-linux-gnu, /usr/arm-linux-gnueabihf, …).
    #[arg(short = 'L', long = "sysroot", value_name = "DIR")]
    sysroot: Option<PathBuf>,

    /// For your programs: standard input is read from this file on every run.
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,

    /// For your programs: set this in their environment (repeatable). Processes also inherit
    /// archbench's environment; a Wasm guest sees only these.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,

    /// Kill a run after this many seconds (with its whole process group) and fail its cell.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,

    /// Cap each Wasm run's linear memory at SIZE (512MiB, 2GiB; default 1GiB): a guest that
    /// asks for more traps with that reason and its cell fails. With --image, each container's
    /// memory limit, swap included (default: the engine's, none).
    #[arg(long, value_name = "SIZE", value_parser = super::flags::parse_memory)]
    max_memory: Option<u64>,

    /// For your programs: do not require every runner's output to equal native's.
    #[arg(long, conflicts_with = "check_regex")]
    no_check: bool,

    /// For your programs: compare only what this regular expression matches in the output
    /// (its first group, where it has one), for programs whose output varies.
    #[arg(long, value_name = "REGEX")]
    check_regex: Option<String>,

    /// For your programs: the name in tables, charts and results (default: the first file's
    /// name without its extension).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,

    /// Also write the runs as hyperfine's JSON export.
    #[arg(long, value_name = "FILE")]
    export_json: Option<PathBuf>,

    /// Also write the runs as hyperfine's CSV export.
    #[arg(long, value_name = "FILE")]
    export_csv: Option<PathBuf>,

    /// Also write the runs as hyperfine's Markdown table.
    #[arg(long, value_name = "FILE")]
    export_markdown: Option<PathBuf>,

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
    let o: Envelope<Vec<Cell>> = archbench_results::read(old, archbench_results::Kind::Bench)?;
    let n: Envelope<Vec<Cell>> = archbench_results::read(new, archbench_results::Kind::Bench)?;
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
    let mut table = Table::new(
        0,
        &[
            ("workload", Align::Left),
            ("runner", Align::Left),
            ("old", Align::Right),
            ("new", Align::Right),
            ("new/old (95% CI)", Align::Right),
            ("verdict", Align::Left),
        ],
    );
    for c in &changes {
        let (r, (lo, hi)) = c.ratio;
        table.row([
            c.workload.clone(),
            c.runner.to_string(),
            fmt_time(c.old_median),
            fmt_time(c.new_median),
            format!("{r:.2}x [{lo:.2}, {hi:.2}]"),
            c.verdict.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// `--command` for each platform: the program (the first word) and the arguments, which must be
/// the same on every platform.
fn expand_template(
    template: &str,
    platforms: &[archbench_platform::Platform],
) -> anyhow::Result<(Vec<PathBuf>, Vec<String>)> {
    let mut files = Vec::new();
    let mut first_args: Option<Vec<String>> = None;
    for p in platforms {
        let triple = p.rust_targets().first().copied().unwrap_or("");
        let line = template
            .replace("{platform}", &p.to_string())
            .replace("{os}", &p.os.to_string())
            .replace("{arch}", &p.arch.to_string())
            .replace("{variant}", p.variant.as_deref().unwrap_or(""))
            .replace("{triple}", triple);
        let words = shell_words::split(&line)
            .map_err(|e| anyhow::anyhow!("--command {template:?}: {e}"))?;
        let Some((program, args)) = words.split_first() else {
            anyhow::bail!("--command is empty");
        };
        files.push(PathBuf::from(program));
        match &first_args {
            None => first_args = Some(args.to_vec()),
            Some(a) if a.as_slice() == args => {}
            Some(_) => anyhow::bail!(
                "--command {template:?}: the arguments differ between platforms; put the placeholders only in the program's path, so every build gets the same arguments"
            ),
        }
    }
    Ok((files, first_args.unwrap_or_default()))
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?}: write NAME=VALUE"))
}

/// The cells as a table: median, its 95% CI, and the slowdown against native or the verdict.
fn print_table(cells: &[Cell]) {
    let mut table = Table::new(
        0,
        &[
            ("workload", Align::Left),
            ("runner", Align::Left),
            ("median", Align::Right),
            ("95% CI", Align::Right),
            // Left: a failed cell's reason is long text, not a number.
            ("slowdown (95% CI)", Align::Left),
        ],
    );
    for c in cells {
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
            (CellStatus::InvalidChecksum { difference: None, .. }, _) => "INVALID checksum".into(),
            (CellStatus::InvalidChecksum { difference: Some(d), .. }, _) => {
                format!("OUTPUT DIFFERS: {d}")
            }
            (CellStatus::Failed { reason }, _) => format!("FAILED: {reason}"),
            (CellStatus::Interrupted { recorded }, _) => {
                format!("INTERRUPTED after {recorded} runs")
            }
        };
        table.row([c.workload.clone(), c.runner.to_string(), median, ci, slow]);
    }
    table.print();
}

fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

impl BenchCommand {
    /// The sampling policy: the defaults for the suite size, with --runs and --timeout.
    fn policy(&self, quick: bool) -> Policy {
        let mut policy = Policy::new(quick);
        if let Some(n) = self.runs {
            policy.min_runs = n;
            policy.max_runs = n.max(1);
            policy.budget_seconds = 0.0;
        }
        if let Some(t) = self.timeout {
            policy.timeout_seconds = t as f64;
        }
        policy
    }

    /// Scratch directory and CPU, as for the suite.
    fn conditions(&self, warn_syscall: bool) -> anyhow::Result<(Scratch, Option<usize>)> {
        let scratch = Scratch::create(self.scratch.as_deref())?;
        if let Some(w) = scratch.warning() {
            if warn_syscall {
                eprintln!("warning: {w}");
            }
        }
        let cpu = match (self.no_pin, self.cpu) {
            (true, _) => None,
            (false, Some(c)) => Some(pin::check(c)?),
            (false, None) => pin::default_cpu(),
        };
        Ok((scratch, cpu))
    }

    /// `bench --image REF -- CMD`: the command in a container of each platform of the image.
    fn run_image(&self, reference: &str) -> anyhow::Result<()> {
        let (entries, skipped) = archbench_bench::image::entries(reference, &Default::default())?;
        for s in &skipped {
            eprintln!("cannot run {reference} for {s}");
        }
        anyhow::ensure!(!entries.is_empty(), "no platform of {reference} can run here (see above)");
        let policy = self.policy(false);
        let engine = archbench_engine::Engine::connect(
            None,
            Duration::from_secs_f64(policy.timeout_seconds + 60.0),
        )?;
        let mut runners: Vec<RunnerSpec> = entries.iter().map(|e| e.runner.clone()).collect();
        runners.sort_by_key(|r| *r != RunnerSpec::Native);
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| self.args.first().cloned().unwrap_or_else(|| "entrypoint".into()));
        let (scratch, _) = self.conditions(false)?;
        let jobs = [suite::Job { name, class: "image command".into(), size: 0, args: vec![] }];
        let plan = suite::Plan {
            jobs: &jobs,
            runners: &runners,
            policy,
            conditions: archbench_results::bench::Conditions {
                scratch: scratch.describe(),
                cpu: None,
            },
            // The command runs in the engine's processes, which pinning this thread cannot reach.
            cpu: None,
            check: self.check()?,
            profile: Some(format!("image {reference}")),
        };
        let mut tools = archbench_bench::image::ImageTools {
            engine: std::sync::Arc::new(engine),
            entries: entries.clone(),
            cmd: self.args.clone(),
            env: self.env.clone(),
            memory: self.max_memory,
        };
        let cells = self.measure(&mut tools, &plan, &scratch)?;
        drop(tools);
        let mut notes: Vec<String> = entries
            .iter()
            .map(|e| format!("{} runs {} ({})", e.runner, e.pinned, e.platform))
            .collect();
        notes.push("times are the command's own, by the engine's clock; each sample's `startup` holds the container start and stop around it".into());
        notes.extend(skipped.iter().map(|s| format!("not run: {s}")));
        self.finish(&cells, &scratch, None, &notes)
    }

    /// Run `plan` over `tools` with a progress spinner; Ctrl-C stops after the run in progress
    /// and the cells done so far are kept.
    fn measure(
        &self,
        tools: &mut dyn suite::Toolbox,
        plan: &suite::Plan<'_>,
        scratch: &Scratch,
    ) -> anyhow::Result<Vec<Cell>> {
        archbench_results::cleanup::defer_interrupts();
        let bar = spinner(!self.json, "benchmarking");
        let cells = suite::run_with(tools, plan, scratch.path(), |m| bar.set_message(m.to_owned()))
            .map_err(anyhow::Error::from);
        bar.finish_and_clear();
        cells
    }

    /// The output check the flags ask for (all of stdout by default).
    fn check(&self) -> anyhow::Result<suite::Check> {
        Ok(match (&self.check_regex, self.no_check) {
            (Some(re), _) => suite::Check::Regex(
                regex::Regex::new(re).map_err(|e| anyhow::anyhow!("--check-regex: {e}"))?,
            ),
            (None, true) => suite::Check::Nothing,
            (None, false) => suite::Check::Output,
        })
    }

    /// `bench FILE... [-- ARGS]` and `bench --command`: the user's programs, one per platform.
    fn run_programs(&self) -> anyhow::Result<()> {
        if let Some(reference) = &self.image {
            return self.run_image(reference);
        }
        let (files, args) = match &self.command {
            Some(t) => expand_template(t, &self.platform)?,
            None => (self.files.clone(), self.args.clone()),
        };
        let mut tiers = Vec::new();
        for r in &self.runner {
            match r {
                RunnerSpec::Wasm(t) => tiers.push(*t),
                other => anyhow::bail!(
                    "--runner {other} with your own programs: each file's platform decides its runner; --runner picks only Wasm tiers (wasm:cranelift, wasm:winch, wasm:pulley)"
                ),
            }
        }
        let (programs, refused) =
            archbench_bench::user::plan(&files, &tiers, self.sysroot.as_deref());
        for r in &refused {
            eprintln!("cannot run {r}");
        }
        anyhow::ensure!(!programs.is_empty(), "none of the files can run here (see above)");
        let mut runners: Vec<RunnerSpec> = programs.iter().map(|p| p.runner.clone()).collect();
        // Native first: the others are compared with it.
        runners.sort_by_key(|r| *r != RunnerSpec::Native);
        let name = self.name.clone().unwrap_or_else(|| {
            let stem = files[0].file_stem().map(|s| s.to_string_lossy().into_owned());
            stem.unwrap_or_else(|| "program".into())
        });
        let check = self.check()?;
        if let Some(path) = &self.stdin {
            // Refused here, before any run: every run reads the file again from its start, so
            // it must be a regular file (a FIFO would also block the open past --timeout).
            archbench_input::open(
                path,
                archbench_input::Kind::Stdin,
                archbench_input::Named::ByUser,
            )
            .context("--stdin")?;
        }
        let (scratch, cpu) = self.conditions(false)?;
        let jobs = [suite::Job { name, class: "user program".into(), size: 0, args }];
        let plan = suite::Plan {
            jobs: &jobs,
            runners: &runners,
            policy: self.policy(false),
            conditions: archbench_results::bench::Conditions { scratch: scratch.describe(), cpu },
            cpu,
            check,
            profile: Some("as given".into()),
        };
        let io = archbench_exec::runner::Io {
            stdin: self.stdin.clone(),
            env: self.env.clone(),
            wasm_cwd: true,
            argv0: None,
            sysroot: self.sysroot.clone(),
            max_memory: self.max_memory,
        };
        let mut tools =
            archbench_bench::user::UserTools { programs: &programs, scratch: scratch.path(), io };
        let cells = self.measure(&mut tools, &plan, &scratch)?;
        let mut notes: Vec<String> = programs
            .iter()
            .map(|p| format!("{} runs on {} ({})", p.path.display(), p.runner, p.what))
            .collect();
        if !runners.contains(&RunnerSpec::Native) {
            notes.push(format!(
                "no program for this machine's platform ({}): there is no slowdown and no output check without one",
                archbench_platform::Platform::host()
            ));
        }
        notes.extend(refused.iter().map(|r| format!("not run: {r}")));
        self.finish(&cells, &scratch, cpu, &notes)?;
        if !refused.is_empty() {
            return Err(Findings {
                code: Code::Incomplete,
                message: format!(
                    "{} of the files could not run here (see the notes)",
                    refused.len()
                ),
            }
            .into());
        }
        Ok(())
    }

    // Long (about 130 lines): CLI glue, flags into a Plan for the suite, then the table and the
    // exit status; the work is archbench_bench::suite.
    pub fn execute(self) -> anyhow::Result<()> {
        if let Some(BenchAction::Compare { old, new, json }) = &self.action {
            return compare_files(old, new, *json);
        }
        if !self.files.is_empty() || self.command.is_some() || self.image.is_some() {
            return self.run_programs();
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
        let policy = self.policy(self.quick);
        let source = archbench_bench::artifacts::source_dir(self.workloads_dir.as_deref())?;
        let (scratch, cpu) = self.conditions(workloads.iter().any(|w| w.name == "syscall"))?;
        let setup = Setup { scratch: &scratch, cpu, max_memory: self.max_memory };
        // Ctrl-C stops the run in progress and the suite; the cells done so far are written.
        archbench_results::cleanup::defer_interrupts();
        let bar = spinner(!self.json, "benchmarking");
        let cells: Vec<Cell> =
            suite::run(&source, &workloads, &runners, self.quick, policy, setup, |m| {
                bar.set_message(m.to_owned())
            })?;
        bar.finish_and_clear();
        self.finish(&cells, &scratch, cpu, &[])
    }

    /// The hyperfine-format exports the flags ask for.
    fn export(&self, cells: &[Cell]) -> anyhow::Result<()> {
        let export = archbench_bench::export::results(cells);
        if let Some(f) = &self.export_json {
            write_atomic(f, &export)?;
        }
        if let Some(f) = &self.export_csv {
            archbench_results::write_bytes_atomic(
                f,
                archbench_bench::export::csv(&export).as_bytes(),
            )?;
        }
        if let Some(f) = &self.export_markdown {
            archbench_results::write_bytes_atomic(
                f,
                archbench_bench::export::markdown(&export).as_bytes(),
            )?;
        }
        Ok(())
    }

    /// Write, print and export `cells`, and say how the run went (exit 5 for a failed or
    /// invalid cell, 130 after an interrupt). `notes` are printed after the table.
    fn finish(
        &self,
        cells: &[Cell],
        scratch: &Scratch,
        cpu: Option<usize>,
        notes: &[String],
    ) -> anyhow::Result<()> {
        let kept = archbench_input::show_bytes(archbench_exec::process::OUTPUT_LIMIT as u64);
        for c in cells {
            if let Some(most) = c.samples.iter().map(|s| s.stdout_dropped).max().filter(|&d| d > 0)
            {
                eprintln!(
                    "warning: {} on {} printed up to {} past the {} of output archbench keeps \
                     per run; they were read and dropped, so its output was checked (and compared \
                     with native) on the first {} only",
                    c.workload,
                    c.runner,
                    archbench_input::show_bytes(most),
                    kept,
                    kept,
                );
            }
        }
        let envelope =
            Envelope::begin(archbench_results::Kind::Bench, host_facts(None), cells).finish();
        if let Some(out) = &self.output {
            write_atomic(out, &envelope)?;
        }
        self.export(cells)?;
        if self.json {
            print_json(&envelope)?;
        } else {
            print_table(cells);
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
            for n in notes {
                println!("note: {n}");
            }
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
