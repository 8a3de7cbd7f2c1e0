//! `archbench report`: the main job. Doctor, the bench suite, the build strategies on the
//! compute fixture, the plan, then charts, HTML and Markdown in `reports/<run>/`.
//!
//! Each measuring step runs as a child `archbench` process (the same binary), so a component
//! that is missing or fails costs that step only: the report says what it skipped and why.
//!
//! Decision (issue 13, item 3): the steps stay processes rather than library calls. A child
//! gives each step its own log file, exit code and crash boundary (a wasmtime or bollard panic
//! in one step cannot take the report down), and an interrupt is passed to it as SIGINT so it
//! saves its own results. What the issue found wrong, argument vectors nobody checked, is
//! fixed: every vector is built by one function per step and parsed by the same clap
//! definition `main` uses before it runs ([`checked`]), and a unit test parses them all. The
//! computation after the steps (results reader, plan, charts) is library calls.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use archbench_report::{write_report, Inputs};
use clap::Args;

use super::flags::PlanFlags;
use super::plan::{compute_from, print_plan};

/// Run everything and write a report directory (the README's main command).
#[derive(Args)]
pub struct ReportCommand {
    /// Smaller bench and build: the whole job in about three minutes once built.
    #[arg(long)]
    quick: bool,
    /// Report directory (default: reports/<date-time>, with reports/latest pointing at it).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// Reuse bench.json / build.json from reports/latest instead of measuring again.
    #[arg(long)]
    reuse: bool,
    /// Only render the report from the results already in --output, or in reports/latest
    /// without -o (no measuring).
    #[arg(long)]
    render_only: bool,
    /// The compiled fixture to build.
    #[arg(long, default_value = "fixtures/build/compute", value_name = "DIR")]
    fixture: PathBuf,
    /// The fixture built with a Wasm entry beside the native ones (one Dockerfile for all).
    #[arg(long, default_value = "fixtures/programs/primes", value_name = "DIR")]
    wasm_fixture: PathBuf,
    #[command(flatten)]
    plan: PlanFlags,
}

fn run_id() -> String {
    let now = jiff::Timestamp::now();
    now.strftime("%Y%m%d-%H%M%S").to_string()
}

/// A docker-registry on a free loopback port for the build's base images, with its storage in
/// a temporary directory; both go when it is dropped.
struct Registry {
    inner: archbench_exec::registry::LocalRegistry,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let inner = archbench_exec::registry::LocalRegistry::start(dir.path(), "")?;
        Ok(Self { inner, _dir: dir })
    }
}

/// Run this binary with `args`; Ok(()) or the reason, from its last lines of output.
///
/// The step's output goes to `log` as it runs. The step runs in a process group of its own, so
/// a Ctrl-C at the terminal reaches only the report; each interrupt of the report (the first
/// deferred, see `archbench_results::cleanup`) is passed on to the step once, by a stopper the
/// signal handler calls: on the first the step saves what it has and exits, and the report then
/// renders what exists; on a second both stop at once. A report that dies otherwise takes the
/// step with it (the parent-death signal below).
fn step(label: &str, step: &Step<'_>, log: &Path) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt as _;

    use rustix::process::{kill_process, waitid, Pid, Signal, WaitId, WaitIdOptions};
    let args = &step.args();
    checked(args)?;
    let exe = std::env::current_exe().context("finding archbench's own executable")?;
    eprintln!("[report] {label}: archbench {}", args.join(" "));
    let started = Instant::now();
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().with_context(|| format!("opening {}", log.display()))?)
        .stderr(file)
        .process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and makes one system call
    // (prctl), which allocates nothing and takes no lock. With it, a report that dies without
    // passing an interrupt on (SIGHUP when its terminal closes, SIGKILL) takes its step down
    // too: SIGTERM, which the step treats as an interrupt and saves what it has.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(Signal::TERM))
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd.spawn().context("starting archbench")?;
    let pid = Pid::from_child(&child);
    // Registered only while the child is unreaped (the wait below does not reap it), so the
    // pid it signals is always this child's. `sent` makes the interrupt that arrived before
    // the stopper existed (during the spawn) reach the child once, and no more than once.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = {
        let sent = sent.clone();
        archbench_results::cleanup::Stopper::new(move || {
            sent.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = kill_process(pid, Signal::INT);
        })
    };
    if archbench_results::cleanup::interrupt_requested()
        && !sent.swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        let _ = kill_process(pid, Signal::INT);
    }
    let exited = loop {
        match waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other,
        }
    };
    drop(stopper);
    match exited {
        // Reaped elsewhere (SIGCHLD ignored): the pid is no longer ours to signal.
        Err(rustix::io::Errno::CHILD) => {
            anyhow::bail!("archbench {label} ended and was reaped before its status was read");
        }
        Err(e) => {
            // Still our unreaped child (waitid failed otherwise), so the pid is its own.
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::from(e))
                .with_context(|| format!("waiting for archbench {label}"));
        }
        Ok(_) => {}
    }
    let status = child.wait().with_context(|| format!("waiting for archbench {label}"))?;
    eprintln!(
        "[report] {label}: {} in {:.0} s",
        if status.success() { "done" } else { "failed" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect();
    anyhow::bail!(
        "{} (exit {}; full log in {})",
        tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
        status.code().unwrap_or(-1),
        log.display()
    )
}

/// `args` as clap parses them for `main`: an argument vector the CLI would refuse is an error
/// here, before any process starts.
fn checked(args: &[String]) -> anyhow::Result<()> {
    use clap::Parser;
    let argv = std::iter::once("archbench".to_owned()).chain(args.iter().cloned());
    crate::Cli::try_parse_from(argv).map(|_| ()).with_context(|| {
        format!("archbench assembled arguments its CLI refuses: {}", args.join(" "))
    })
}

/// A step's failure as a note of the report says it: the error and its causes, on one line.
fn why(e: &anyhow::Error) -> String {
    archbench_results::error_line(e.as_ref())
}

/// One step of the report: an archbench command, defined once as a typed value. Its argument
/// vector is derived from it ([`Step::args`]) and parsed by the CLI's own definition before
/// the child runs ([`checked`]); a child process per step keeps each step's output, exit
/// status and interrupt handling exactly those of the command a user would type.
enum Step<'a> {
    /// `doctor`: what works here decides what runs.
    Doctor,
    /// `bench`: the suite, or with `quick` one workload per class the plan reads.
    Bench { quick: bool, out: &'a Path },
    /// `base bootstrap`: a builder image into the report's registry as `tag`.
    Base { platforms: &'a str, include: &'a str, extra: Option<&'a str>, tag: &'a str },
    /// `build`.
    Build(Build<'a>),
}

/// A build step's settings.
struct Build<'a> {
    fixture: &'a Path,
    platforms: &'a str,
    strategies: Vec<&'static str>,
    /// `--build-arg NAME=VALUE`, in order.
    build_args: Vec<(&'static str, String)>,
    /// `-t`: each build of the report its own, so no index replaces another's.
    tag: &'static str,
    /// The layout the images go to (`--output oci:DIR`).
    images: PathBuf,
    /// `-o`: the results file.
    out: PathBuf,
    /// `--warm`.
    warm: bool,
    /// `--builder classic`.
    classic: bool,
    /// `--source-date-epoch off` (the one-solve build beside the others: like with like).
    epoch_off: bool,
}

/// The bench workloads of `report --quick`: one per class the plan's factors read (integer,
/// floating point, memory, syscall) and start-up.
const QUICK_WORKLOADS: [&str; 5] = ["sha256", "nbody", "sort", "syscall", "startup"];

impl Build<'_> {
    /// The main build: the compiled fixture for amd64 and arm64, native, cross and emulated.
    fn compute<'a>(
        fixture: &'a Path,
        builder: &str,
        quick: bool,
        dir: &Path,
        out: &Path,
    ) -> Build<'a> {
        Build {
            fixture,
            platforms: "linux/amd64,linux/arm64",
            strategies: vec!["native", "cross", "emulated"],
            build_args: vec![
                ("BUILDER", builder.to_owned()),
                ("SCALE", if quick { "60" } else { "200" }.to_owned()),
            ],
            tag: "archbench/compute:report",
            images: dir.join("images"),
            out: out.to_owned(),
            warm: false,
            classic: false,
            epoch_off: false,
        }
    }

    /// The Wasm build: the native entry, the emulated ones and the Wasm entry of one index.
    fn primes<'a>(fixture: &'a Path, builder: &str, platforms: &'a str, dir: &Path) -> Build<'a> {
        Build {
            fixture,
            platforms,
            strategies: vec!["native", "emulated"],
            build_args: vec![("BUILDER", builder.to_owned())],
            tag: "archbench/primes:report",
            images: dir.join("images"),
            out: dir.join("build-wasm.json"),
            warm: false,
            classic: false,
            epoch_off: false,
        }
    }
}

impl Step<'_> {
    /// The command line, without the program name.
    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| (*s).to_owned()));
        match self {
            Step::Doctor => push(&["doctor"]),
            Step::Bench { quick, out } => {
                push(&["bench", "-o", &out.display().to_string()]);
                if *quick {
                    push(&["--quick"]);
                    for w in QUICK_WORKLOADS {
                        push(&["--workload", w]);
                    }
                }
            }
            Step::Base { platforms, include, extra, tag } => {
                push(&["base", "bootstrap", "--platform", platforms, "--include", include]);
                if let Some(e) = extra {
                    push(&["--extra", e]);
                }
                push(&["-t", tag]);
            }
            Step::Build(b) => {
                push(&["build", &b.fixture.display().to_string(), "--platform", b.platforms]);
                push(&["--strategy", &b.strategies.join(",")]);
                for (name, value) in &b.build_args {
                    push(&["--build-arg", &format!("{name}={value}")]);
                }
                push(&["-t", b.tag, "--output", &format!("oci:{}", b.images.display())]);
                push(&["-o", &b.out.display().to_string()]);
                if b.warm {
                    push(&["--warm"]);
                }
                if b.classic {
                    push(&["--builder", "classic"]);
                }
                if b.epoch_off {
                    push(&["--source-date-epoch", "off"]);
                }
            }
        }
        a
    }
}

/// The step that bootstraps the builder image (gcc, make, and the aarch64 cross toolchain on
/// amd64) into the report's registry as `tag`.
fn base_step(tag: &str) -> Step<'_> {
    Step::Base {
        platforms: "linux/amd64,linux/arm64",
        include: "gcc,make,libc6-dev",
        extra: Some("linux/amd64=gcc-aarch64-linux-gnu,libc6-dev-arm64-cross"),
        tag,
    }
}

/// The Rust builder: rustc, the wasm32 standard library and wasm-ld (Debian's lld-14).
fn rust_base_step<'a>(platforms: &'a str, tag: &'a str) -> Step<'a> {
    Step::Base { platforms, include: "rustc,libstd-rust-dev-wasm32,lld-14", extra: None, tag }
}

/// Whether the engine at `DOCKER_HOST` can build every platform in one solve (probed as
/// `doctor` does); why not, in its words.
fn one_solve_here() -> anyhow::Result<()> {
    let engine = archbench_engine::Engine::connect(None, std::time::Duration::from_secs(30))?;
    let facts = engine.buildkit_facts()?.ok_or_else(|| {
        anyhow::anyhow!("archbench cannot open its own BuildKit session to this engine (TLS)")
    })?;
    for name in ["oci-export", "multi-platform"] {
        match facts.capabilities.iter().find(|c| c.name == name) {
            Some(c) if c.available => {}
            Some(c) => anyhow::bail!("the engine's BuildKit lacks {name} ({})", c.detail),
            None => anyhow::bail!("the engine's BuildKit did not report {name}"),
        }
    }
    Ok(())
}

fn interrupted() -> bool {
    archbench_results::cleanup::interrupt_requested()
}

impl ReportCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let reports = PathBuf::from("reports");
        let dir = match (&self.output, self.render_only) {
            (Some(d), _) => d.clone(),
            // Rendering needs results: without -o, the latest report's.
            (None, true) => {
                let latest = reports.join("latest");
                anyhow::ensure!(
                    latest.is_dir(),
                    "nothing to render: {} does not exist; run `archbench report` first, or pass -o DIR",
                    latest.display()
                );
                latest
            }
            (None, false) => reports.join(run_id()),
        };
        std::fs::create_dir_all(dir.join("logs"))
            .with_context(|| format!("creating {}", dir.display()))?;
        let mut notes: Vec<String> = Vec::new();
        // Ctrl-C stops the step in progress (which saves what it has) and renders what exists.
        archbench_results::cleanup::defer_interrupts();
        if !self.render_only {
            self.measure(&dir, &mut notes)?;
        }
        if interrupted() {
            notes.push("interrupted: the steps after the interrupt did not run, and this report shows what was measured before it".into());
        }
        // One reader for the plan and the charts: the same files, and every skip said.
        let results = archbench_results::dir::load(&dir)?;
        let plan = compute_from(&results, &self.plan.catalog()?, &self.plan.profile())?;
        archbench_results::write_atomic(&dir.join("plan.json"), &plan)?;
        notes.extend(results.skip_notes());
        let benches: Vec<_> = results.benches.iter().map(|(_, e)| e.clone()).collect();
        let build = results.build().cloned();
        let warm_build = results.warm_build().cloned();
        let classic_build = results.classic_build().cloned();
        // The Wasm build is shown beside the main one when the main one has no Wasm entry.
        let wasm_build = results
            .wasm_build()
            .filter(|w| results.build().is_none_or(|b| !std::ptr::eq(*w, b)))
            .cloned();
        let cold: Vec<_> = results.builds.iter().filter(|(_, e)| !e.payload.warm).collect();
        if cold.len() > 1 + usize::from(classic_build.is_some()) + usize::from(wasm_build.is_some())
        {
            let (shown, _) = cold.last().expect("more than one");
            notes.push(format!(
                "{} build results files: the build charts and table show {} only",
                cold.len(),
                shown.display()
            ));
        }
        if benches.is_empty() {
            notes.push("no bench results: the slowdown and Wasm charts are left out, and the Wasm runtime factor is modelled".into());
        }
        if build.is_none() {
            notes.push("no build results: the build-stage chart is left out, and the emulation and cross factors are modelled".into());
        }
        let inputs = Inputs { benches, build, warm_build, classic_build, wasm_build, plan, notes };
        let files = write_report(&dir, &inputs)?;
        if self.output.is_none() && !self.render_only {
            let latest = reports.join("latest");
            let _ = std::fs::remove_file(&latest);
            if let Some(name) = dir.file_name() {
                std::os::unix::fs::symlink(name, &latest)
                    .with_context(|| format!("linking {}", latest.display()))?;
            }
        }
        print_plan(&inputs.plan.payload);
        println!();
        for n in &inputs.notes {
            println!("note: {n}");
        }
        println!(
            "report: {} ({} files; open {})",
            dir.display(),
            files.len(),
            dir.join("index.html").display()
        );
        if interrupted() {
            return Err(crate::exit::Findings {
                code: crate::exit::Code::Interrupted,
                message: format!("interrupted; the partial report is in {}", dir.display()),
            }
            .into());
        }
        Ok(())
    }

    fn measure(&self, dir: &Path, notes: &mut Vec<String>) -> anyhow::Result<()> {
        let logs = dir.join("logs");
        // 1. doctor: what works here decides what runs.
        let doctor = step("doctor", &Step::Doctor, &logs.join("doctor.log"));
        if let Err(e) = &doctor {
            notes.push(format!(
                "doctor reported a failure; the steps below say what it cost: {}",
                why(e)
            ));
        }
        let latest = Path::new("reports/latest");
        if interrupted() {
            return Ok(());
        }
        // 2. the bench suite.
        let bench_json = dir.join("bench.json");
        if self.reuse && reusable(latest, dir, "bench.json") {
            std::fs::copy(latest.join("bench.json"), &bench_json)?;
            notes.push("bench results reused from reports/latest (--reuse)".into());
        } else {
            let bench = Step::Bench { quick: self.quick, out: &bench_json };
            if let Err(e) = step("bench", &bench, &logs.join("bench.log")) {
                notes.push(format!("bench skipped: {}", why(&e)));
            }
        }
        if interrupted() {
            return Ok(());
        }
        // 3. the build strategies on the compiled fixture.
        let build_json = dir.join("build.json");
        if self.reuse && reusable(latest, dir, "build.json") {
            std::fs::copy(latest.join("build.json"), &build_json)?;
            notes.push("build results reused from reports/latest (--reuse)".into());
        } else if !self.fixture.join("Dockerfile").is_file() {
            notes.push(format!(
                "build skipped: no fixture at {} (run from the checkout, or pass --fixture)",
                self.fixture.display()
            ));
        } else {
            match Registry::start() {
                Err(e) => notes.push(format!("build skipped: {}", why(&e))),
                Ok(reg) => self.builds(&reg, dir, &logs, &build_json, notes),
            }
        }
        Ok(())
    }

    /// Step 3 with a registry serving the builder image: the base, the build strategies (and
    /// the one solve where the engine can), then the warm, classic and Wasm builds; each stops
    /// at an interrupt, and a step that fails leaves a note.
    fn builds(
        &self,
        reg: &Registry,
        dir: &Path,
        logs: &Path,
        build_json: &Path,
        notes: &mut Vec<String>,
    ) {
        let builder = format!("{}/archbench/builder:bookworm", reg.inner.host());
        if let Err(e) = step("base", &base_step(&builder), &logs.join("base.log")) {
            notes.push(format!("build skipped: the builder image could not be made: {}", why(&e)));
            return;
        }
        if interrupted() {
            return;
        }
        let mut build = Build::compute(&self.fixture, &builder, self.quick, dir, build_json);
        // One solve for both platforms beside them, where the engine can, its file times left
        // as the others' (like with like).
        match one_solve_here() {
            Ok(()) => {
                build.strategies.push("multi");
                build.epoch_off = true;
            }
            Err(e) => notes.push(format!(
                "no one-solve build (--strategy multi) beside the others: {}",
                why(&e)
            )),
        }
        if let Err(e) = step("build", &Step::Build(build), &logs.join("build.log")) {
            notes.push(format!("build failed: {}", why(&e)));
            return;
        }
        if interrupted() {
            return;
        }
        if let Err(e) = self.warm_rebuild(&builder, dir, logs) {
            notes.push(format!("warm rebuild skipped: {}", why(&e)));
        }
        if interrupted() {
            return;
        }
        if let Err(e) = self.classic_build(&builder, dir, logs) {
            notes.push(format!("classic build skipped: {}", why(&e)));
        }
        if interrupted() {
            return;
        }
        if let Err(e) = self.wasm_build(&reg.inner.host(), dir, logs) {
            notes.push(format!("Wasm build skipped: {}", why(&e)));
        }
    }
}

/// Whether `--reuse` can take `name` from `latest`: it is there, and `latest` is not the
/// directory being written.
fn reusable(latest: &Path, dir: &Path, name: &str) -> bool {
    latest.join(name).is_file() && latest.canonicalize().ok() != dir.canonicalize().ok()
}

impl ReportCommand {
    /// The warm figures: the fixture copied aside with one line of its source changed, then
    /// built again with the cache the cold build left (`build --warm`), as a CI job that keeps
    /// its cache rebuilds after a commit. The checkout is not touched.
    fn warm_rebuild(&self, builder: &str, dir: &Path, logs: &Path) -> anyhow::Result<()> {
        let copy = tempfile::tempdir().context("making a temporary directory")?;
        copy_tree(&self.fixture, copy.path())
            .with_context(|| format!("copying {}", self.fixture.display()))?;
        let main = copy.path().join("src/main.c");
        let mut text = std::fs::read_to_string(&main).with_context(|| {
            format!("reading {} (the warm rebuild changes one line of it)", main.display())
        })?;
        // A line no earlier report wrote, so the change is new to the engine's cache every
        // time, as a new commit is (a fixed line would be cached from the last report's run).
        let stamp = jiff::Timestamp::now().as_nanosecond();
        text.push_str(&format!(
            "/* archbench report {stamp}-{}: the one-line change of the warm rebuild */\n",
            std::process::id()
        ));
        std::fs::write(&main, text).with_context(|| format!("writing {}", main.display()))?;
        let out = dir.join("build-warm.json");
        let mut build = Build::compute(copy.path(), builder, self.quick, dir, &out);
        build.warm = true;
        build.tag = "archbench/compute:report-warm";
        step("warm rebuild", &Step::Build(build), &logs.join("build-warm.log"))
    }
}

impl ReportCommand {
    /// The same builds by the classic builder, for the side by side with BuildKit's.
    fn classic_build(&self, builder: &str, dir: &Path, logs: &Path) -> anyhow::Result<()> {
        let out = dir.join("build-classic.json");
        let mut build = Build::compute(&self.fixture, builder, self.quick, dir, &out);
        build.classic = true;
        build.tag = "archbench/compute:report-classic";
        step("classic build", &Step::Build(build), &logs.join("build-classic.log"))
    }
}

impl ReportCommand {
    /// The index with a Wasm entry (issue 19): the Rust fixture for amd64 (native), arm64
    /// (emulated; left out with --quick, which bootstraps no arm64 Rust builder) and wasi/wasm,
    /// from one Dockerfile, with a Rust builder image bootstrapped into `registry`.
    fn wasm_build(&self, registry: &str, dir: &Path, logs: &Path) -> anyhow::Result<()> {
        if !self.wasm_fixture.join("Dockerfile").is_file() {
            anyhow::bail!("no Wasm fixture at {}", self.wasm_fixture.display());
        }
        let builder = format!("{registry}/archbench/rust-builder:bookworm");
        let platforms = if self.quick { "linux/amd64" } else { "linux/amd64,linux/arm64" };
        step("Rust builder", &rust_base_step(platforms, &builder), &logs.join("base-rust.log"))?;
        if interrupted() {
            return Ok(());
        }
        let entries = format!("{platforms},wasi/wasm");
        let build = Build::primes(&self.wasm_fixture, &builder, &entries, dir);
        step("Wasm build", &Step::Build(build), &logs.join("build-wasm.log"))
    }
}

/// Copy a directory tree (regular files and directories; the fixture has nothing else).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step the report runs parses with the CLI's own definition, in both sizes and
    /// with every variation the report makes (issue 13, item 3), and the typed definition
    /// gives the command lines it always gave.
    #[test]
    fn every_step_the_report_runs_is_a_valid_command_line() {
        let (dir, out) = (Path::new("reports/x"), Path::new("reports/x/r.json"));
        for quick in [false, true] {
            let compute =
                || Build::compute(Path::new("fixtures/build/compute"), "b", quick, dir, out);
            let mut warm = compute();
            warm.warm = true;
            warm.tag = "archbench/compute:report-warm";
            let mut classic = compute();
            classic.classic = true;
            classic.tag = "archbench/compute:report-classic";
            let mut multi = compute();
            multi.strategies.push("multi");
            multi.epoch_off = true;
            for step in [
                Step::Doctor,
                Step::Bench { quick, out },
                base_step("127.0.0.1:5000/archbench/builder:bookworm"),
                Step::Build(compute()),
                Step::Build(warm),
                Step::Build(classic),
                Step::Build(multi),
                rust_base_step(
                    "linux/amd64,linux/arm64",
                    "127.0.0.1:5000/archbench/rust-builder:bookworm",
                ),
                Step::Build(Build::primes(Path::new("f"), "b", "linux/amd64,wasi/wasm", dir)),
            ] {
                checked(&step.args()).unwrap();
            }
        }
        let mut multi = Build::compute(Path::new("f"), "r/b", true, dir, out);
        multi.strategies.push("multi");
        multi.epoch_off = true;
        assert_eq!(
            Step::Build(multi).args().join(" "),
            "build f --platform linux/amd64,linux/arm64 --strategy native,cross,emulated,multi \
             --build-arg BUILDER=r/b --build-arg SCALE=60 -t archbench/compute:report \
             --output oci:reports/x/images -o reports/x/r.json --source-date-epoch off"
        );
        assert_eq!(
            Step::Bench { quick: true, out }.args().join(" "),
            "bench -o reports/x/r.json --quick --workload sha256 --workload nbody --workload sort \
             --workload syscall --workload startup"
        );
        let e = checked(&["bench".into(), "--runs".into(), "many".into()]).unwrap_err();
        let e = why(&e);
        // The command line, then clap's own reason below it.
        assert!(e.contains("bench --runs many: error: invalid value 'many'"), "{e}");
    }
}
