//! `archbench run IMAGE [-- ARGS]`: run the entry of a multi-arch index this host should use
//! (native, else Wasm in process, else emulated), say which and why with the measured
//! slowdowns, or run them all side by side with `--compare`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use archbench_exec::host::host_facts;
use archbench_oci::{ImageRef, ImageSource, PlatformImage};
use archbench_platform::Platform;
use archbench_results::bench::{RunnerSpec, WasmTier};
use archbench_results::run::{EntryRun, RunEntry, RunHow, RunReport, Slowdown};
use archbench_results::Envelope;
use archbench_run::{self as entry, RunSpec};
use clap::Args;

use crate::exit::{Code, Findings, ProgramStatus};
use crate::output::{print_json, spinner, Align, Table};

/// Run a multi-arch image's entry for this host: the native one if the index has it, else its
/// Wasm module in process on wasmtime (Cranelift), else an emulated one through the engine.
/// Prints which entry and why, with the slowdowns the latest bench results measured. Exits with
/// the program's status (134 after a Wasm trap, 124 after --timeout).
#[derive(Args)]
pub struct RunCommand {
    /// A registry reference or oci:DIR[:tag] (a layout's container entries are loaded into the
    /// engine; a registry's are pulled by digest).
    #[arg(value_name = "IMAGE")]
    image: String,

    /// Arguments for the program (replace the image's CMD).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,

    /// Run this entry instead of the one archbench would choose.
    #[arg(long, value_name = "P", conflicts_with = "compare")]
    platform: Option<Platform>,

    /// Run every entry that can run here and compare their times and outputs (which must agree;
    /// exit 5 when they do not).
    #[arg(long)]
    compare: bool,

    /// Preopen a host directory for a Wasm module: HOST[:GUEST] (GUEST defaults to HOST);
    /// repeatable.
    #[arg(long = "dir", value_name = "HOST[:GUEST]")]
    dirs: Vec<String>,

    /// Stop a run after this many seconds.
    #[arg(long, default_value_t = 600.0, value_name = "SECS",
          value_parser = super::flags::parse_seconds)]
    timeout: f64,

    /// Cap a Wasm module's linear memory at SIZE (512MiB, 2GiB; default 1GiB): a module that
    /// asks for more traps with that reason. A container gets SIZE as its memory limit, swap
    /// included (default: the engine's, none), and is killed past it, which the run says.
    #[arg(long, value_name = "SIZE", value_parser = super::flags::parse_memory)]
    max_memory: Option<u64>,

    /// Bench results to read slowdowns from (default: reports/latest when it exists).
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,

    #[command(flatten)]
    registry: super::flags::RegistryFlags,

    /// Print JSON (a results envelope of kind "run") instead of the program's output.
    #[arg(long)]
    json: bool,

    /// Also write the envelope to this file (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl RunCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let reference = ImageRef::parse(&self.image)?;
        let src = ImageSource::open_with(&reference, &self.registry.options()?)?;
        let mut images = src.images().with_context(|| format!("reading {}", src.describe()))?;
        // Attestation manifests (provenance, SBOM) describe entries; none is one to run.
        images.retain(|i| !i.is_attestation());
        let host = Platform::host();
        let slowdowns = Slowdowns::load(self.results.as_deref())?;
        let classified: Vec<(String, Result<RunHow, String>)> = images
            .iter()
            .map(|i| {
                let how = match i.declared_platform() {
                    Some(p) => entry::classify(p, &host, &entry::binfmt_here),
                    None => Err(format!("{} is not a platform archbench knows", i.declared())),
                };
                (i.declared().to_string(), how)
            })
            .collect();
        let entries: Vec<RunEntry> = classified
            .iter()
            .zip(&images)
            .map(|((declared, how), image)| RunEntry {
                declared: declared.clone(),
                how: how.as_ref().ok().copied(),
                not_runnable: how.as_ref().err().cloned(),
                slowdown: how
                    .as_ref()
                    .ok()
                    .and_then(|h| image.declared_platform().map(|p| slowdowns.of(*h, p))),
            })
            .collect();
        let (picked, why) = self.pick(&images, &classified, &host)?;
        if !self.json {
            self.announce(&entries, &picked, &why);
        }
        let mut runs = Vec::new();
        for &i in &picked {
            let how = classified[i].1.clone().map_err(anyhow::Error::msg)?;
            // The program's output is captured and printed when it ends; until then a spinner
            // (on a terminal) says what is happening.
            let bar = spinner(!self.json, &format!("{} {}", classified[i].0, how.describe()));
            let run = self.run_one(&reference, &src, &images[i], how);
            bar.finish_and_clear();
            let run = run?;
            if !self.json && !self.compare {
                print!("{}", run.stdout);
                eprint!("{}", run.stderr);
                let _ = std::io::stdout().flush();
            }
            for (stream, dropped) in
                [("stdout", run.stdout_dropped), ("stderr", run.stderr_dropped)]
            {
                if dropped > 0 {
                    eprintln!(
                        "archbench: the {} run wrote {dropped} bytes to {stream} past the first 1 MiB, which archbench keeps; they were dropped{}",
                        run.declared,
                        if self.json { " (the JSON says so too)" } else { "" }
                    );
                }
            }
            runs.push(run);
        }
        let agree = self.compare.then(|| entry::agreement(&runs));
        let report = RunReport {
            image: self.image.clone(),
            host: host.to_string(),
            entries,
            chosen: (!self.compare).then(|| classified[picked[0]].0.clone()),
            why,
            runs,
            agree: agree.as_ref().map(|(ok, _)| *ok),
        };
        let env = Envelope::begin(archbench_results::Kind::Run, host_facts(None), &report).finish();
        if let Some(out) = &self.output {
            archbench_results::write_atomic(out, &env)?;
        }
        if self.json {
            print_json(&env)?;
        }
        self.finish(&report, agree)
    }

    /// The entries to run, and why: all that run here with `--compare`, the one `--platform`
    /// names, else the one [`entry::choose`] prefers.
    fn pick(
        &self,
        images: &[PlatformImage],
        classified: &[(String, Result<RunHow, String>)],
        host: &Platform,
    ) -> anyhow::Result<(Vec<usize>, String)> {
        if self.compare {
            let all: Vec<usize> =
                (0..classified.len()).filter(|i| classified[*i].1.is_ok()).collect();
            anyhow::ensure!(!all.is_empty(), entry::nothing_runs(&self.image, host, classified));
            return Ok((all, format!("--compare: every entry that runs on this {host} host")));
        }
        if let Some(want) = &self.platform {
            let i = images.iter().position(|i| i.declared_platform() == Some(want)).ok_or_else(
                || {
                    anyhow::anyhow!(
                        "{} has no {want} entry; it has: {}",
                        self.image,
                        classified.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>().join(", ")
                    )
                },
            )?;
            if let Err(why) = &classified[i].1 {
                anyhow::bail!("the {want} entry cannot run here: {why}");
            }
            return Ok((vec![i], "--platform chose it".to_owned()));
        }
        match entry::choose(classified, host) {
            Some((i, why)) => Ok((vec![i], why)),
            None => anyhow::bail!(entry::nothing_runs(&self.image, host, classified)),
        }
    }

    /// The exit status: with `--compare`, whether the entries agree (5 when not); else the
    /// program's own, 134 after a trap and 124 after `--timeout`.
    fn finish(&self, report: &RunReport, agree: Option<(bool, Vec<String>)>) -> anyhow::Result<()> {
        if let Some((ok, problems)) = agree {
            if !self.json {
                print_comparison(&report.runs, &report.entries);
            }
            if !ok {
                return Err(Findings {
                    code: Code::BenchInvalid,
                    message: format!("the entries do not agree: {}", problems.join("; ")),
                }
                .into());
            }
            return Ok(());
        }
        let run = &report.runs[0];
        if let Some(why) = &run.out_of_memory {
            eprintln!("archbench: the {} container was {why}", run.declared);
        }
        // Every status leaves through `exit.rs`, after the destructors of this command ran.
        if let Some(t) = &run.trap {
            return Err(Findings {
                code: Code::Trapped,
                message: format!("the {} module trapped: {t}", run.declared),
            }
            .into());
        }
        if run.timed_out {
            return Err(Findings {
                code: Code::TimedOut,
                message: format!(
                    "the {} run was stopped after --timeout {} s",
                    run.declared, self.timeout
                ),
            }
            .into());
        }
        match run.exit_code {
            Some(0) => Ok(()),
            Some(c) => Err(ProgramStatus(u8::try_from(c).unwrap_or(1)).into()),
            None => anyhow::bail!("the {} run ended without an exit status", run.declared),
        }
    }

    /// Which entries there are, which runs and why, on standard error (the program owns stdout).
    fn announce(&self, entries: &[RunEntry], picked: &[usize], why: &str) {
        for (i, e) in entries.iter().enumerate() {
            let mark = if picked.contains(&i) { "->" } else { "  " };
            let state = match (&e.how, &e.not_runnable) {
                (Some(h), _) => format!("{h:<8} {}", slowdown_text(e.slowdown.as_ref())),
                (None, Some(why)) => format!("cannot run: {why}"),
                _ => String::new(),
            };
            eprintln!("archbench: {mark} {:<14} {state}", e.declared);
        }
        if let Some(&i) = picked.first().filter(|_| !self.compare) {
            let how = entries[i].how.map(|h| h.describe()).unwrap_or_default();
            eprintln!("archbench: running {} {how}: {why}", entries[i].declared);
        }
    }

    fn run_one(
        &self,
        reference: &ImageRef,
        src: &ImageSource,
        image: &PlatformImage,
        how: RunHow,
    ) -> anyhow::Result<EntryRun> {
        let dirs = self.preopens()?;
        let spec = RunSpec {
            args: &self.args,
            dirs: &dirs,
            timeout: Duration::from_secs_f64(self.timeout),
            max_memory: self.max_memory,
        };
        let declared = image.declared().to_string();
        let run = match how {
            RunHow::Wasm => {
                entry::module_of(src, image).and_then(|m| entry::run_module(&declared, &m, &spec))
            }
            RunHow::Native | RunHow::Emulated if !dirs.is_empty() => Err(entry::Error::Image(format!(
                "--dir preopens a directory for a Wasm module; the {declared} entry runs as a container, which gets no host directories from archbench (run it with --platform wasi/wasm, or without --dir)"
            ))),
            RunHow::Native | RunHow::Emulated => {
                let platform = image.declared_platform().cloned().expect("classified entries parse");
                let image = entry::container_image(src, reference, &self.image, image)?;
                let engine = archbench_engine::Engine::connect(
                    None,
                    Duration::from_secs_f64(self.timeout + 120.0),
                )
                .with_context(|| {
                    format!(
                        "the {declared} entry runs as a container through the engine: start it (archbench doctor checks), or run the index's Wasm entry, if it has one, with --platform wasi/wasm"
                    )
                })?;
                entry::run_container(&engine, image, &platform, how, &declared, &spec)
            }
        };
        Ok(run?)
    }

    /// `--dir HOST[:GUEST]`, each host directory checked to exist.
    fn preopens(&self) -> anyhow::Result<Vec<(PathBuf, String)>> {
        self.dirs
            .iter()
            .map(|d| {
                let (host, guest) = d.split_once(':').unwrap_or((d, d));
                anyhow::ensure!(Path::new(host).is_dir(), "--dir {d}: {host} is not a directory");
                Ok((PathBuf::from(host), guest.to_owned()))
            })
            .collect()
    }
}

fn slowdown_text(s: Option<&Slowdown>) -> String {
    match s {
        Some(s) if s.value == 1.0 && s.from == "native itself" => "1.00x".to_owned(),
        Some(s) if s.measured => format!("{:.2}x native, measured ({})", s.value, s.from),
        Some(s) => format!("{:.2}x native, modelled ({})", s.value, s.from),
        None => String::new(),
    }
}

/// The runs side by side: how, times, status and the first line of output.
fn print_comparison(runs: &[EntryRun], entries: &[RunEntry]) {
    let mut table = Table::new(
        0,
        &[
            ("ENTRY", Align::Left),
            ("HOW", Align::Left),
            ("PROGRAM s", Align::Right),
            ("START-UP s", Align::Right),
            ("STATUS", Align::Right),
            ("output", Align::Left),
        ],
    );
    for r in runs {
        let status = match (&r.trap, r.timed_out, r.exit_code) {
            (Some(_), _, _) => "trap".to_owned(),
            (_, true, _) => "timeout".to_owned(),
            _ if r.out_of_memory.is_some() => "oom".to_owned(),
            (_, _, Some(c)) => c.to_string(),
            _ => "?".to_owned(),
        };
        table.row([
            r.declared.clone(),
            r.how.to_string(),
            format!("{:.3}", r.seconds),
            format!("{:.3}", r.startup_seconds),
            status,
            r.stdout.lines().next().unwrap_or("").to_owned(),
        ]);
    }
    table.print();
    // A ratio only between runs timed the same way: two containers' commands by the engine's
    // clock. A module's `_start` in process against a container's command (which includes the
    // exec) is not like with like, so the bench suite's figure stands in, labelled.
    if let Some(native) = runs.iter().find(|r| r.how == RunHow::Native && r.ok()) {
        for r in runs.iter().filter(|r| r.how != RunHow::Native && r.ok()) {
            let bench = entries
                .iter()
                .find(|e| e.declared == r.declared)
                .and_then(|e| e.slowdown.as_ref())
                .map_or("no bench figure".to_owned(), |s| slowdown_text(Some(s)));
            match r.how {
                RunHow::Emulated => println!(
                    "{} / native: {:.2}x program time (both containers' commands by the engine's clock); the bench suite: {bench}",
                    r.declared,
                    r.seconds / native.seconds
                ),
                _ => println!(
                    "{} / native: no ratio from these runs (the module's _start in process against a container's command, which includes its exec); the bench suite: {bench}",
                    r.declared
                ),
            }
        }
    }
    if entry::agreement(runs).0 {
        println!("outputs agree ({} entries)", runs.len());
    }
}

/// The slowdowns the latest bench results measured, by way of running.
struct Slowdowns {
    inputs: archbench_results::dir::Results,
    dir: Option<PathBuf>,
}

impl Slowdowns {
    fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let latest = Path::new("reports/latest");
        let dir =
            dir.map(Path::to_path_buf).or_else(|| latest.is_dir().then(|| latest.to_path_buf()));
        let inputs = match &dir {
            Some(d) => archbench_results::dir::load(d).with_context(|| {
                format!(
                    "--results {}: pass a directory written by `archbench bench -o`",
                    d.display()
                )
            })?,
            None => Default::default(),
        };
        Ok(Self { inputs, dir })
    }

    fn of(&self, how: RunHow, platform: &Platform) -> Slowdown {
        let runner = match how {
            RunHow::Native => {
                return Slowdown { value: 1.0, measured: true, from: "native itself".into() }
            }
            RunHow::Wasm => RunnerSpec::Wasm(WasmTier::Cranelift),
            RunHow::Emulated => RunnerSpec::Qemu(platform.clone()),
        };
        match archbench_plan::measure::runtime_slowdown(&self.inputs, &runner) {
            Some((f, from)) => Slowdown { value: f.value, measured: true, from },
            None => {
                // The plan's models for what nothing measured: one source for both commands.
                let model = archbench_plan::measure::factors(&Default::default(), false);
                let f = match how {
                    RunHow::Wasm => model.wasm_runtime,
                    _ => model.emulated,
                };
                let on = match &f.basis {
                    archbench_plan::model::Basis::Modelled { why } => why.clone(),
                    archbench_plan::model::Basis::Measured { from }
                    | archbench_plan::model::Basis::Given { from } => from.clone(),
                };
                let value = f.value;
                let hint = match &self.dir {
                    Some(d) => format!("no {runner} cells in {}", d.display()),
                    None => "measure it: archbench bench -o DIR, then --results DIR".to_owned(),
                };
                Slowdown { value, measured: false, from: format!("{on}; {hint}") }
            }
        }
    }
}
