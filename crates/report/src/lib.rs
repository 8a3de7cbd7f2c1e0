//! The report: charts as SVG and PNG, a self-contained HTML page (charts inlined, no network),
//! a Markdown summary for a CI job, and the inputs as JSON.
//!
//! [`write_report`] takes [`Inputs`] (results envelopes: bench, build, plan) and writes a
//! directory. It reads only `archbench-results` and `archbench-plan` types. The same inputs
//! give byte-identical files: nothing here reads the clock or iterates a hash map.
//!
//! ```
//! use archbench_plan::model::{plan, Factor, Factors, Profile};
//! use archbench_plan::pricing::Catalog;
//! use archbench_results::{Envelope, HostFacts};
//!
//! let f = Factors {
//!     emulated: Factor::measured(6.0, "example"),
//!     cross: Factor::measured(1.1, "example"),
//!     arm64_build: Factor::modelled(1.0, "example"),
//!     wasm_build: Factor::modelled(1.0, "example"),
//!     wasm_runtime: Factor::measured(1.4, "example"),
//!     arm64_runtime: Factor::modelled(1.0, "example"),
//! };
//! let p = plan(&Profile::default(), &f, &Catalog::builtin()).unwrap();
//! let inputs = archbench_report::Inputs {
//!     benches: vec![],
//!     build: None,
//!     warm_build: None,
//!     classic_build: None,
//!     wasm_build: None,
//!     plan: Envelope::begin(archbench_results::Kind::Plan, HostFacts::default(), p),
//!     notes: vec![],
//! };
//! let dir = tempfile::tempdir().unwrap();
//! let files = archbench_report::write_report(dir.path(), &inputs).unwrap();
//! assert!(files.iter().any(|f| f.ends_with("index.html")));
//! //! ```
#![deny(missing_docs)]

pub mod charts;
mod html;
mod markdown;

use std::path::{Path, PathBuf};

use archbench_plan::model::Plan;
use archbench_results::bench::{Cell as BenchCell, RunnerSpec};
use archbench_results::build::BuildReport;
use archbench_results::Envelope;
use plotters::prelude::*;
use serde::Serialize;

/// What can go wrong writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No font for chart text.
    #[error("{0}")]
    Font(String),
    /// plotters failed.
    #[error("drawing a chart: {0}")]
    Draw(String),
    /// A file could not be written.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    /// Bench results, one envelope per host (a merged directory holds several), in the
    /// reader's name order. Empty when no suite ran.
    pub benches: Vec<Envelope<Vec<BenchCell>>>,
    /// Build results, when the builds ran.
    pub build: Option<Envelope<BuildReport>>,
    /// A warm rebuild of the same builds (`build --warm`), when one ran.
    pub warm_build: Option<Envelope<BuildReport>>,
    /// The same builds by the classic builder, beside BuildKit's, when one ran.
    pub classic_build: Option<Envelope<BuildReport>>,
    /// A build with a Wasm entry (`--platform ...,wasi/wasm`), when `build` has none.
    pub wasm_build: Option<Envelope<BuildReport>>,
    /// The plan.
    pub plan: Envelope<Plan>,
    /// What was skipped and why, and other notes for the reader.
    pub notes: Vec<String>,
}

impl Inputs {
    /// Where each input was made: one machine when all agree, else each named
    /// (`plan: …; bench: …; build: …`).
    pub fn machines(&self) -> String {
        let plan = self.plan.host.summary();
        let others: Vec<(&str, String)> = self
            .benches
            .iter()
            .map(|b| ("bench", b.host.summary()))
            .chain(self.build.as_ref().map(|b| ("build", b.host.summary())))
            .collect();
        if others.iter().all(|(_, h)| *h == plan) {
            return plan;
        }
        let mut parts = vec![format!("plan computed on {plan}")];
        parts.extend(others.into_iter().map(|(k, h)| format!("{k} measured on {h}")));
        parts.join("; ")
    }

    /// Each bench envelope's host label with its cells, labels made unique (`#2`) when two
    /// hosts would read the same.
    pub fn bench_hosts(&self) -> Vec<(String, &[BenchCell])> {
        let mut out: Vec<(String, &[BenchCell])> = Vec::new();
        for b in &self.benches {
            let base = b.host.label();
            let mut label = base.clone();
            let mut n = 1;
            while out.iter().any(|(l, _)| *l == label) {
                n += 1;
                label = format!("{base} #{n}");
            }
            out.push((label, b.payload.as_slice()));
        }
        out
    }

    /// The bench table: one row per workload, size and runner, one column per host. A cell is
    /// that host's median and its slowdown against the same host's native run; a host that
    /// did not run the row shows nothing. `None` without bench results.
    pub fn bench_table(&self) -> Option<Table> {
        let hosts = self.bench_hosts();
        if hosts.is_empty() {
            return None;
        }
        let mut keys: Vec<(String, u64, String)> = Vec::new();
        for (_, cells) in &hosts {
            for c in cells.iter() {
                let k = (c.workload.clone(), c.size, c.runner.to_string());
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let mut headers = vec!["workload".to_owned(), "size".into(), "runner".into()];
        headers.extend(hosts.iter().map(|(l, _)| l.clone()));
        let rows = keys
            .iter()
            .map(|(w, size, runner)| {
                let mut row = vec![w.clone(), size.to_string(), runner.clone()];
                row.extend(hosts.iter().map(|(_, cells)| {
                    cells
                        .iter()
                        .find(|c| {
                            c.workload == *w && c.size == *size && c.runner.to_string() == *runner
                        })
                        .map_or_else(String::new, table_cell)
                }));
                row
            })
            .collect();
        Some(Table { headers, rows })
    }
}

impl Inputs {
    /// The builds, one row per run in the order run: platform, strategy, builder, wall time,
    /// the build's own work (no base pulls) and its ratio against the host's native build,
    /// or the failure. `None` without build results.
    pub fn build_table(&self) -> Option<Table> {
        let b = &self.build.as_ref()?.payload;
        if b.runs.is_empty() {
            return None;
        }
        let rows = b
            .runs
            .iter()
            .map(|r| {
                let ratio = b
                    .ratios
                    .iter()
                    .find(|x| x.platform == r.platform && x.strategy == r.strategy)
                    .map_or_else(String::new, |x| format!("{:.2}× {}", x.ratio, x.against));
                let outcome = if r.ok {
                    format!("{:.2}", r.work_seconds)
                } else {
                    format!("failed: {}", r.error.as_deref().unwrap_or("no reason recorded"))
                };
                vec![
                    r.platform.to_string(),
                    r.strategy.to_string(),
                    format!("{:?}", r.builder).to_lowercase(),
                    format!("{:.2}", r.seconds),
                    outcome,
                    ratio,
                ]
            })
            .collect();
        Some(Table {
            headers: [
                "platform",
                "strategy",
                "builder",
                "wall (s)",
                "work without base pulls (s)",
                "work / native",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        })
    }

    /// The classic builder beside BuildKit: one row per platform × strategy both built, cold,
    /// timed the same way (request to image ID), and what each index stores.
    pub fn builders_table(&self) -> Option<Table> {
        let (kit, classic) = (self.build.as_ref()?, self.classic_build.as_ref()?);
        let mut rows = paired_rows(&classic.payload, &kit.payload, false, |k| {
            k.builder == archbench_results::build::Builder::Buildkit
        });
        let stored = |b: &BuildReport| {
            b.layers.as_ref().map_or_else(
                || "—".to_owned(),
                |l| {
                    format!(
                        "{:.1} MiB, {} shared layers",
                        l.stored_bytes as f64 / 1048576.0,
                        l.shared.len()
                    )
                },
            )
        };
        if rows.is_empty() {
            return None;
        }
        rows.push(vec![
            "index".into(),
            "stored once".into(),
            stored(&classic.payload),
            stored(&kit.payload),
            String::new(),
        ]);
        Some(Table {
            headers: ["platform", "strategy", "classic (s)", "BuildKit (s)", "BuildKit / classic"]
                .map(String::from)
                .to_vec(),
            rows,
        })
    }

    /// The build whose index has a Wasm entry: the main one when it has, else `wasm_build`.
    pub fn with_wasm(&self) -> Option<&Envelope<BuildReport>> {
        let has = |b: &&Envelope<BuildReport>| {
            b.payload.runs.iter().any(|r| r.ok && r.platform.arch == archbench_platform::Arch::Wasm)
        };
        self.build.as_ref().filter(has).or(self.wasm_build.as_ref().filter(has))
    }

    /// Which entry of the index with a Wasm entry each kind of host runs, by `run`'s rule
    /// (native, else Wasm, else emulated; QEMU assumed installed where emulation is needed),
    /// and the time to expect against native on that host: measured where a bench file from
    /// such a host measured it, else modelled, and labelled so.
    pub fn where_table(&self) -> Option<Table> {
        use archbench_results::run::RunHow;
        use archbench_run::{choose, classify};
        let build = self.with_wasm()?;
        let mut entries: Vec<archbench_platform::Platform> = Vec::new();
        for r in build.payload.runs.iter().filter(|r| r.ok) {
            if !entries.contains(&r.platform) {
                entries.push(r.platform.clone());
            }
        }
        let hosts: [archbench_platform::Platform; 3] = [
            archbench_platform::Platform::linux_amd64(),
            archbench_platform::Platform::linux_arm64(),
            "linux/arm/v7".parse().expect("a known platform"),
        ];
        let mut rows = Vec::new();
        for host in &hosts {
            let classified: Vec<(String, Result<RunHow, String>)> =
                entries.iter().map(|p| (p.to_string(), classify(p, host, &|_| Ok(())))).collect();
            let Some((i, _)) = choose(&classified, host) else { continue };
            let how = classified[i].1.clone().expect("chosen entries run");
            let (time, basis) = match how {
                RunHow::Native => ("1×".to_owned(), "native: the host's own entry".to_owned()),
                RunHow::Wasm => self.expected(
                    host,
                    &RunnerSpec::Wasm(archbench_results::bench::WasmTier::Cranelift),
                ),
                RunHow::Emulated => self.expected(host, &RunnerSpec::Qemu(entries[i].clone())),
            };
            rows.push(vec![
                host.to_string(),
                classified[i].0.clone(),
                how.to_string(),
                time,
                basis,
            ]);
        }
        (!rows.is_empty()).then(|| Table {
            headers: ["host", "runs the entry", "how", "time vs native", "basis"]
                .map(String::from)
                .to_vec(),
            rows,
        })
    }

    /// `runner`'s slowdown on a host like `host`: from a bench file of a host known to be that
    /// architecture (measured), else from any other host's (modelled: assumed the same), else
    /// from the plan's factor (its own basis).
    fn expected(
        &self,
        host: &archbench_platform::Platform,
        runner: &RunnerSpec,
    ) -> (String, String) {
        // The plan's like-with-like rule (an in-process start-up is not a process spawn).
        let of = |cells: &[BenchCell]| {
            archbench_plan::measure::like_with_like(Path::new(""), cells, runner)
                .map(|(f, _)| (f.value, f.workloads.len()))
        };
        let same = self.benches.iter().rev().find_map(|b| {
            let p = b.host.platform.as_ref()?;
            (b.host.known_native() && p.arch == host.arch).then_some(())?;
            of(&b.payload).map(|g| (g, b.host.label()))
        });
        if let Some(((g, n), label)) = same {
            return (
                format!("{g:.2}×"),
                format!("measured on {label} ({runner}, geometric mean of {n} workloads)"),
            );
        }
        if let Some(((g, n), label)) =
            self.benches.iter().rev().find_map(|b| of(&b.payload).map(|g| (g, b.host.label())))
        {
            return (
                format!("{g:.2}×"),
                format!("modelled: measured on {label} ({runner}, {n} workloads), assumed the same on {host}"),
            );
        }
        match runner {
            RunnerSpec::Wasm(_) => {
                let f = &self.plan.payload.factors.wasm_runtime;
                (
                    format!("{:.2}×", f.value),
                    format!(
                        "modelled: no bench results for {runner}; the plan's Wasm runtime factor"
                    ),
                )
            }
            _ => ("—".into(), format!("modelled: no bench results for {runner}; not estimated")),
        }
    }

    /// Cold builds beside warm rebuilds (a one-line change, the cache kept): one row per
    /// platform × strategy both ran, times measured the same way (request to image ID).
    pub fn cold_warm_table(&self) -> Option<Table> {
        let (cold, warm) = (self.build.as_ref()?, self.warm_build.as_ref()?);
        let rows = paired_rows(&cold.payload, &warm.payload, true, |_| true);
        (!rows.is_empty()).then(|| Table {
            headers: ["platform", "strategy", "cold (s)", "warm (s)", "warm / cold"]
                .map(String::from)
                .to_vec(),
            rows,
        })
    }
}

/// Rows for two builds of the same runs, `before` and `after`: one per successful run of
/// `after` that `keep` accepts and that `before` also built (same platform and strategy, and
/// same builder when `same_builder`), with both times (request to image ID) and their ratio
/// after / before.
fn paired_rows(
    before: &BuildReport,
    after: &BuildReport,
    same_builder: bool,
    keep: impl Fn(&archbench_results::build::BuildRun) -> bool,
) -> Vec<Vec<String>> {
    after
        .runs
        .iter()
        .filter(|a| a.ok && keep(a))
        .filter_map(|a| {
            let b = before.runs.iter().find(|b| {
                b.ok && b.platform == a.platform
                    && b.strategy == a.strategy
                    && (!same_builder || b.builder == a.builder)
            })?;
            Some(vec![
                a.platform.to_string(),
                a.strategy.to_string(),
                format!("{:.1}", b.seconds),
                format!("{:.1}", a.seconds),
                format!("{:.2}×", a.seconds / b.seconds),
            ])
        })
        .collect()
}

/// One bench cell as table text: `12.3 ms (4.56× native)`, or its status when it did not run.
fn table_cell(c: &BenchCell) -> String {
    use archbench_results::bench::CellStatus;
    match &c.status {
        CellStatus::Ok => {}
        CellStatus::InvalidChecksum { .. } => return "wrong output".into(),
        CellStatus::Failed { reason } => {
            return format!("failed: {}", reason.chars().take(60).collect::<String>())
        }
        CellStatus::Interrupted { .. } => return "interrupted".into(),
    }
    let median = c.wall.as_ref().map_or_else(|| "—".to_owned(), |w| format_seconds(w.median));
    match c.slowdown {
        Some((m, _)) => format!("{median} ({m:.2}× native)"),
        None => median,
    }
}

fn format_seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// The stage chart of the build with a Wasm entry, when it is not the main build.
fn wasm_build_chart(chart_dir: &Path, inputs: &Inputs) -> Result<Option<Chart>> {
    use archbench_results::build::StrategyKind;
    // Shown when the main build has no Wasm entry of its own (its chart shows that one).
    let main_has_wasm = inputs.build.as_ref().is_some_and(|b| {
        b.payload.runs.iter().any(|r| r.platform.arch == archbench_platform::Arch::Wasm)
    });
    let Some(w) = inputs.wasm_build.as_ref().filter(|_| !main_has_wasm) else {
        return Ok(None);
    };
    let build = &w.payload;
    let wasm =
        build.runs.iter().find(|r| r.ok && r.platform.arch == archbench_platform::Arch::Wasm);
    let native = build.runs.iter().find(|r| r.ok && r.strategy == StrategyKind::Native);
    let ratio = match (wasm, native) {
        (Some(w), Some(n)) if n.work_seconds > 0.0 => format!(
            " Here the Wasm entry's build took {:.1} s and the native one {:.1} s without base pulls ({:.2}×): that ratio is the plan's measured Wasm build factor.",
            w.work_seconds, n.work_seconds, w.work_seconds / n.work_seconds
        ),
        _ => String::new(),
    };
    let emulated = build.runs.iter().any(|r| r.ok && r.strategy == StrategyKind::Emulated);
    let title = if emulated {
        "Build time per stage: native, emulated and Wasm (seconds)"
    } else {
        "Build time per stage: native and Wasm (seconds)"
    };
    Ok(Some(Chart {
        name: "build-stages-wasm",
        title: "Build time per stage, with a Wasm entry",
        caption: format!("One Dockerfile builds every entry of one index ({}). The Wasm entry is compiled on the build \
platform, so nothing of it runs under emulation, and its image holds the module alone.{ratio}",
            build.runs.iter().filter(|r| r.ok).map(|r| format!("{} {}", r.platform, r.strategy)).collect::<Vec<_>>().join(", ")),
        svg: render(chart_dir, "build-stages-wasm", Box::new(|r| charts::build_stages(r, build, title)), Box::new(|r| charts::build_stages(r, build, title)))?,
    }))
}

const STAGES_TITLE: &str = "Build time per stage: native, cross and emulated (seconds)";

/// A table for the page and the summary: header cells and rows of text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column headings.
    pub headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

/// One chart in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// File stem (`slowdown`).
    pub name: &'static str,
    /// Title.
    pub title: &'static str,
    /// What it shows, for a student.
    pub caption: String,
    /// The SVG text.
    #[serde(skip)]
    pub svg: String,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    archbench_results::write_bytes_atomic(path, bytes)
        .map_err(|e| Error::Write { path: path.to_owned(), message: e.to_string() })
}

type DrawFn<'a> = Box<dyn Fn(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()> + 'a>;
type DrawPng<'a> =
    Box<dyn Fn(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<()> + 'a>;

fn render(
    dir: &Path,
    name: &'static str,
    svg_draw: DrawFn<'_>,
    png_draw: DrawPng<'_>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, charts::SIZE).into_drawing_area();
        svg_draw(&root)?;
    }
    write(&dir.join(format!("{name}.svg")), svg.as_bytes())?;
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, charts::SIZE).into_drawing_area();
        png_draw(&root)?;
    }
    Ok(svg)
}

// Long (about 150 lines) because each chart is one literal with its caption, read as prose; a
// table of charts would hide the captions a teacher edits. Past this size, move the captions out.
/// Render every chart the inputs allow into `dir/charts`, then `index.html`, `summary.md` and
/// `report.json`. Returns the files written.
pub fn write_report(dir: &Path, inputs: &Inputs) -> Result<Vec<PathBuf>> {
    charts::init_font()?;
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir)
        .map_err(|e| Error::Write { path: chart_dir.clone(), message: e.to_string() })?;
    let mut list: Vec<Chart> = Vec::new();
    let plan = &inputs.plan.payload;
    let hosts = inputs.bench_hosts();
    if !hosts.is_empty() {
        let hosts = hosts.as_slice();
        // The Wasm split is one host's: the first that ran the Wasm tiers.
        let (wasm_host, cells) = hosts
            .iter()
            .find(|(_, cells)| cells.iter().any(|c| matches!(c.runner, RunnerSpec::Wasm(_))))
            .unwrap_or(&hosts[0]);
        let cells: &[BenchCell] = cells;
        list.push(Chart {
            name: "slowdown",
            title: "How much slower than native",
            caption: "Each dot is one workload on one runner, as a multiple of the same program run natively (1 = as fast). \
QEMU translates every guest instruction into several host instructions, so integer and memory work costs a few times native and \
floating point far more; syscall-heavy work suffers less because the kernel does that part at full speed. Wasm tiers trade \
compile effort for speed: Cranelift compiles most, Pulley interprets. The bars are 95% confidence intervals."
                .to_owned()
                + &if hosts.len() > 1 {
                    format!(
                        " One panel per host ({}), each against its own native run; a host marked emulated ran archbench itself \
under QEMU, so its \"native\" is not native speed.",
                        hosts.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join("; ")
                    )
                } else {
                    String::new()
                }
                + &cells
                    .iter()
                    .find_map(|c| c.conditions.as_ref())
                    .map(|c| format!(" {}", c.sentence()))
                    .unwrap_or_default(),
            svg: render(&chart_dir, "slowdown", Box::new(|r| charts::slowdown(r, hosts)), Box::new(|r| charts::slowdown(r, hosts)))?,
        });
        list.push(Chart {
            name: "wasm-split",
            title: "Where Wasm time goes",
            caption: "For each wasmtime tier: compiling the module (paid once), creating an instance, and running the whole suite. \
An optimising compiler costs more up front and less per run; an interpreter starts at once and runs slowly."
                .to_owned()
                + &if hosts.len() > 1 { format!(" Measured on {wasm_host}.") } else { String::new() },
            svg: render(&chart_dir, "wasm-split", Box::new(|r| charts::wasm_split(r, cells)), Box::new(|r| charts::wasm_split(r, cells)))?,
        });
    }
    if let Some(b) = &inputs.build {
        let build = &b.payload;
        list.push(Chart {
            name: "build-stages",
            title: "Build time per stage",
            caption: "The same Dockerfile built three ways. Native: an amd64 build on amd64. Emulated: the arm64 build runs its \
compiler under QEMU, so the compile stage takes many times longer. Cross: the compile stage runs natively with a cross compiler \
and only the final, copy-only stage is arm64 — which is why cross wins for compiled projects."
                .into(),
            svg: render(&chart_dir, "build-stages", Box::new(|r| charts::build_stages(r, build, STAGES_TITLE)), Box::new(|r| charts::build_stages(r, build, STAGES_TITLE)))?,
        });
        if build.runs.iter().any(|r| !r.vertices.is_empty()) {
            let totals: Vec<String> = build
                .runs
                .iter()
                .filter_map(|r| {
                    r.timeline.map(|t| {
                        format!(
                            "{} {}: wall {:.1} s, critical path {:.1} s, steps added up {:.1} s",
                            r.platform, r.strategy, t.wall, t.critical_path, t.steps_sum
                        )
                    })
                })
                .collect();
            list.push(Chart {
                name: "build-timeline",
                title: "What BuildKit did, and when",
                caption: format!(
                    "Each bar is one vertex of BuildKit's build graph (a Dockerfile step, or BuildKit's own work such as loading \
the context and exporting the image), from its start to its end; bars that overlap ran at the same time. The critical path is \
the longest chain of steps that wait for each other: no parallelism can make the build shorter. {}.",
                    totals.join("; ")
                ),
                svg: render(&chart_dir, "build-timeline", Box::new(|r| charts::timeline(r, build)), Box::new(|r| charts::timeline(r, build)))?,
            });
        }
    }
    if let Some(c) = wasm_build_chart(&chart_dir, inputs)? {
        list.push(c);
    }
    let best = plan.recommended.map_or_else(|| "no option".to_owned(), |o| o.to_string());
    list.push(Chart {
        name: "cost-curves",
        title: "Monthly build cost",
        caption: format!(
            "What a month of multi-arch builds costs with each way to build as volume grows (builds of {:.0} min, hosted runners \
billed per job rounded up to a minute, prices of {}). A matrix runs the platforms on two runners at once and adds a merge job; a \
self-hosted arm64 worker costs its price all month, so it pays off only above its break-even volume. Emulation's line rises fastest \
because every arm64 build takes {:.1}× as long ({}). The thick line is the recommendation, {best}; faint lines are options that \
cannot build this project.",
            plan.profile.minutes_per_build,
            plan.priced_on,
            plan.factors.emulated.value,
            plan.factors.emulated.basis_word()
        ),
        svg: render(&chart_dir, "cost-curves", Box::new(|r| charts::cost_curves(r, plan)), Box::new(|r| charts::cost_curves(r, plan)))?,
    });
    list.push(Chart {
        name: "sensitivity",
        title: "How sure the choice is",
        caption: format!(
            "Each bar is one factor, changed alone: the recommendation ({best}) — or, for the arm64 runtime factor, the decision \
to move the service — stays the same for any value inside the bar, drawn as a multiple of the factor's value. Past an edge the \
decision becomes the option named there. A short bar around 1 means a small error in that factor would change the answer; \
red bars are modelled factors, which nothing here measured. Black whiskers are a factor's likely range from the bench CIs; \
where a whisker crosses an edge, the data cannot yet settle the choice."
        ),
        svg: render(&chart_dir, "sensitivity", Box::new(|r| charts::sensitivity(r, plan)), Box::new(|r| charts::sensitivity(r, plan)))?,
    });
    list.push(Chart {
        name: "runtime-cost",
        title: "Running the service on arm64",
        caption: format!(
            "{:.0} instance-hours a month on {} versus {}. Moving pays while arm64 needs less than {:.2}× x86's instance-hours \
(the two prices' ratio). {}",
            plan.profile.service_hours_per_month,
            plan.migration.x86_instance,
            plan.migration.arm64_instance,
            plan.migration.break_even_arm64_runtime,
            if plan.migration.modelled {
                "The arm64 speed is MODELLED (no arm64 machine measured it here): arm64 is assumed as fast per vCPU, so only the price differs."
            } else {
                "The arm64 speed is measured from bench results of an arm64 host."
            }
        ),
        svg: render(&chart_dir, "runtime-cost", Box::new(|r| charts::runtime_cost(r, plan)), Box::new(|r| charts::runtime_cost(r, plan)))?,
    });
    let mut files: Vec<PathBuf> = list
        .iter()
        .flat_map(|c| {
            [chart_dir.join(format!("{}.svg", c.name)), chart_dir.join(format!("{}.png", c.name))]
        })
        .collect();
    let page = html::page(inputs, &list);
    write(&dir.join("index.html"), page.as_bytes())?;
    write(&dir.join("summary.md"), markdown::summary(inputs, &list).as_bytes())?;
    let json = serde_json::to_vec_pretty(
        &serde_json::json!({ "kind": "report", "inputs": inputs, "charts": list }),
    )
    .expect("json");
    write(&dir.join("report.json"), &json)?;
    files.extend([dir.join("index.html"), dir.join("summary.md"), dir.join("report.json")]);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use archbench_plan::model::{plan, Factor, Factors, Profile};
    use archbench_plan::pricing::Catalog;
    use archbench_results::build::{
        BuildRun, StageTiming, StepTiming, StrategyKind, StrategyRatio,
    };
    use archbench_results::HostFacts;

    // Long (about 105 lines) because it is data: one literal per input a report renders.
    fn inputs() -> Inputs {
        let f = Factors {
            emulated: Factor::measured(6.0, "t"),
            cross: Factor::measured(1.1, "t"),
            arm64_build: Factor::modelled(1.0, "t"),
            wasm_build: Factor::modelled(1.0, "t"),
            wasm_runtime: Factor::measured(1.4, "t"),
            arm64_runtime: Factor::modelled(1.0, "t"),
        };
        let p = plan(&Profile::default(), &f, &Catalog::builtin()).unwrap();
        let mut plan_env = Envelope::begin(archbench_results::Kind::Plan, HostFacts::default(), p);
        plan_env.started_at = "2026-01-01T00:00:00Z".into();
        plan_env.finished_at = "2026-01-01T00:00:01Z".into();
        let cell = |runner: &str, s: f64| BenchCell {
            workload: "sha256".into(),
            class: "integer".into(),
            size: 512,
            runner: runner.parse().unwrap(),
            via: String::new(),
            runner_version: None,
            profile: "release".into(),
            checksum: None,
            compile_seconds: runner.starts_with("wasm:").then_some(0.2),
            wall: Some(archbench_results::bench::Summary {
                n: 10,
                median: s,
                mean: s,
                stddev: 0.0,
                mad: 0.0,
                min: s,
                max: s,
                median_ci: (s * 0.9, s * 1.1),
                outliers: Default::default(),
            }),
            slowdown: Some((s, (s * 0.9, s * 1.1))),
            status: archbench_results::bench::CellStatus::Ok,
            samples: vec![],
            conditions: Some(archbench_results::bench::Conditions {
                scratch: "/dev/shm/archbench-bench-x (tmpfs)".into(),
                cpu: Some(1),
            }),
        };
        let bench = Envelope::begin(
            archbench_results::Kind::Bench,
            HostFacts::default(),
            vec![cell("native", 1.0), cell("qemu:linux/arm64", 6.0), cell("wasm:cranelift", 1.2)],
        );
        let stage = |name: &str, secs: f64| StageTiming {
            name: name.into(),
            runs_as: archbench_platform::Platform::linux_amd64(),
            emulated: false,
            seconds: secs,
            steps: vec![StepTiming {
                number: 1,
                instruction: "RUN make".into(),
                seconds: secs,
                cached: false,
            }],
        };
        let run = |strategy: StrategyKind, secs: f64| BuildRun {
            platform: archbench_platform::Platform::linux_arm64(),
            strategy,
            builder: Default::default(),
            engine: "unix:///var/run/docker.sock".into(),
            note: String::new(),
            ok: true,
            error: None,
            seconds: secs,
            work_seconds: secs,
            stages: vec![stage("build", secs - 1.0), stage("stage 1", 1.0)],
            image_id: None,
            manifest_digest: None,
            image_bytes: 1,
            vertices: vec![],
            timeline: None,
        };
        let build = Envelope::begin(
            archbench_results::Kind::Build,
            HostFacts::default(),
            BuildReport {
                context: "c".into(),
                dockerfile: "Dockerfile".into(),
                runs: vec![run(StrategyKind::Native, 10.0), run(StrategyKind::Emulated, 60.0)],
                ratios: vec![StrategyRatio {
                    platform: archbench_platform::Platform::linux_arm64(),
                    strategy: StrategyKind::Emulated,
                    against: archbench_platform::Platform::linux_amd64(),
                    ratio: 6.0,
                }],
                destination: None,
                index_digest: None,
                verified: Some(true),
                layers: None,
                warm: false,
            },
        );
        Inputs {
            benches: vec![bench],
            build: Some(build),
            warm_build: None,
            classic_build: None,
            wasm_build: None,
            plan: plan_env,
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn same_inputs_give_identical_files_and_a_self_contained_page() {
        let i = inputs();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let fa = write_report(a.path(), &i).unwrap();
        let fb = write_report(b.path(), &i).unwrap();
        assert_eq!(fa.len(), 15, "6 charts × 2 formats + html, md, json");
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(
                std::fs::read(x).unwrap(),
                std::fs::read(y).unwrap(),
                "{} differs",
                x.display()
            );
        }
        let html = std::fs::read_to_string(a.path().join("index.html")).unwrap();
        assert_eq!(html.matches("<img ").count(), 6);
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "nothing is fetched"
        );
        assert!(html.contains("modelled"));
        // How the runs were taken is stated under the slowdown chart.
        assert!(html.contains("Runs pinned to CPU 1; workload files on tmpfs."), "{html}");
        let md = std::fs::read_to_string(a.path().join("summary.md")).unwrap();
        assert!(
            md.contains(
                "Modelled, not measured: arm64 / amd64 build, wasm / native build, arm64 / x86 runtime."
            ),
            "{md}"
        );
    }

    /// Issue 19: an index with native, emulated and Wasm entries. Each host kind gets the entry
    /// `run` would choose; the Wasm slowdown is measured only for a host of the bench file's
    /// architecture and labelled modelled for the others; the Wasm build gets its chart.
    #[test]
    fn which_entry_runs_where_is_measured_or_labelled_modelled() {
        let mut i = inputs();
        i.benches[0].host = HostFacts {
            platform: Some(archbench_platform::Platform::linux_amd64()),
            hostname: Some("x".into()),
            emulated: Some(false),
            ..Default::default()
        };
        let mut w = i.build.clone().unwrap();
        let mut wasm = w.payload.runs[0].clone();
        wasm.platform = archbench_platform::Platform::wasi_wasm();
        wasm.strategy = StrategyKind::Cross;
        w.payload.runs[0].platform = archbench_platform::Platform::linux_amd64();
        w.payload.runs.push(wasm);
        i.wasm_build = Some(w);
        let t = i.where_table().unwrap();
        let rows: Vec<Vec<&str>> =
            t.rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        assert_eq!(rows[0][..4], ["linux/amd64", "linux/amd64", "native", "1×"]);
        assert_eq!(rows[1][..4], ["linux/arm64", "linux/arm64", "native", "1×"]);
        assert_eq!(rows[2][..4], ["linux/arm/v7", "wasi/wasm", "wasm", "1.20×"]);
        assert!(
            rows[2][4].starts_with("modelled: measured on linux/amd64 on x (wasm:cranelift, 1 workloads), assumed the same on linux/arm/v7"),
            "{}",
            rows[2][4]
        );
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), &i).unwrap();
        assert!(dir.path().join("charts/build-stages-wasm.svg").is_file());
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(md.contains("| linux/arm/v7 | wasi/wasm | wasm | 1.20× | modelled:"), "{md}");
    }

    /// Issue 15: results from two hosts, one of them archbench run under QEMU. The table gets a
    /// column per host, the emulated one says so, rows a host did not run stay empty, and the
    /// slowdown chart has one panel per host.
    #[test]
    fn two_hosts_get_a_column_and_a_panel_each() {
        let mut i = inputs();
        let x86 = HostFacts {
            platform: Some(archbench_platform::Platform::linux_amd64()),
            hostname: Some("ci-x64".into()),
            emulated: Some(false),
            ..Default::default()
        };
        let arm = HostFacts {
            platform: Some(archbench_platform::Platform::linux_arm64()),
            hostname: Some("ci-x64".into()),
            emulated: Some(true),
            ..Default::default()
        };
        i.benches[0].host = x86;
        let mut second = i.benches[0].clone();
        second.host = arm;
        second.payload.truncate(1);
        second.payload[0].wall.as_mut().unwrap().median = 7.5;
        i.benches.push(second);
        let t = i.bench_table().unwrap();
        assert_eq!(
            t.headers,
            [
                "workload",
                "size",
                "runner",
                "linux/amd64 on ci-x64",
                "linux/arm64 on ci-x64 (emulated)"
            ]
        );
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0][2..], ["native", "1.00 s (1.00× native)", "7.50 s (1.00× native)"]);
        assert_eq!(t.rows[1][4], "", "the emulated host ran no QEMU runner");
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), &i).unwrap();
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(md.contains("| workload | size | runner | linux/amd64 on ci-x64 | linux/arm64 on ci-x64 (emulated) |"), "{md}");
        let svg = std::fs::read_to_string(dir.path().join("charts/slowdown.svg")).unwrap();
        assert!(
            svg.contains("linux/arm64 on ci-x64 (emulated): × its own native"),
            "one panel per host"
        );
        assert!(svg.contains("linux/amd64 on ci-x64: × its own native"));
        // An unknown host is never shown as native.
        assert_eq!(HostFacts::default().label(), "unknown platform (native or emulated: unknown)");
    }

    /// Issue 24: a build with `multi` beside native and cross runs says what one solve saved, in
    /// the page and the summary; without the builds apart it says nothing.
    #[test]
    fn one_solve_is_compared_with_the_platforms_built_apart() {
        use archbench_platform::Platform;
        use archbench_results::build::{Builder, VertexTiming};
        let mut i = inputs();
        let b = i.build.as_mut().unwrap();
        let v = |name: &str, start: f64, end: f64| VertexTiming {
            name: name.into(),
            stage: None,
            digest: name.into(),
            inputs: vec![],
            start,
            end,
            cached: false,
            error: None,
            log: vec![],
        };
        let template = b.payload.runs[0].clone();
        let run = |p: Platform, k: StrategyKind, vertices: Vec<VertexTiming>| BuildRun {
            platform: p,
            strategy: k,
            builder: Builder::Buildkit,
            vertices,
            ..template.clone()
        };
        let (amd, arm) = (Platform::linux_amd64(), Platform::linux_arm64());
        b.payload.runs = vec![
            run(amd.clone(), StrategyKind::Native, vec![v("[build 2/2] RUN make", 0.0, 4.0)]),
            run(arm.clone(), StrategyKind::Cross, vec![v("[build 2/2] RUN make", 0.0, 4.0)]),
            run(amd, StrategyKind::Multi, vec![v("[linux/amd64 build 2/2] RUN make", 0.0, 5.0)]),
            run(
                arm,
                StrategyKind::Multi,
                vec![v("[linux/amd64->arm64 build 2/2] RUN make", 0.0, 5.0)],
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), &i).unwrap();
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(html.contains("One solve for every platform"), "the section");
        assert!(html.contains("took 5.0 s; built apart (native linux/amd64, cross linux/arm64) 8.0 s; one solve saves 3.0 s (38%)"));
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(md.contains("one solve saves 3.0 s"), "{md}");
        i.build.as_mut().unwrap().payload.runs.remove(1);
        write_report(dir.path(), &i).unwrap();
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(!html.contains("One solve for every platform"), "no arm64 build apart, no figure");
    }

    /// Issue 16: a BuildKit run gets a timeline chart (a lane per run, a bar per vertex) and
    /// its critical path in the summary.
    #[test]
    fn buildkit_runs_get_a_timeline() {
        use archbench_results::build::{Builder, Timeline, VertexTiming};
        let mut i = inputs();
        let b = i.build.as_mut().unwrap();
        let v =
            |name: &str, stage: Option<&str>, start: f64, end: f64, cached: bool| VertexTiming {
                name: name.into(),
                stage: stage.map(str::to_owned),
                digest: name.into(),
                inputs: vec![],
                start,
                end,
                cached,
                error: None,
                log: vec![],
            };
        let run = &mut b.payload.runs[0];
        run.builder = Builder::Buildkit;
        run.vertices = vec![
            v("[internal] load build context", None, 0.0, 0.5, false),
            v("[build 2/3] RUN make", Some("build"), 0.5, 8.0, false),
            v("[other 1/1] RUN true", Some("other"), 0.6, 2.0, true),
            v("[stage-2 1/1] COPY --from=build /x /x", Some("stage-2"), 8.0, 8.5, false),
        ];
        run.vertices[1].inputs = vec!["[internal] load build context".into()];
        run.vertices[3].inputs = vec!["[build 2/3] RUN make".into()];
        run.timeline = Timeline::of(&run.vertices);
        let dir = tempfile::tempdir().unwrap();
        let files = write_report(dir.path(), &i).unwrap();
        assert!(files.iter().any(|f| f.ends_with("charts/build-timeline.svg")));
        let svg = std::fs::read_to_string(dir.path().join("charts/build-timeline.svg")).unwrap();
        assert!(
            svg.contains("stage build") && svg.contains("stage other"),
            "the legend names the stages"
        );
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(
            md.contains("| linux/arm64 | native | BuildKit | 10.0 | 10.0 | 8.5 | yes |"),
            "{md}"
        );
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(html.contains("critical path 8.5 s, steps added up 9.9 s"), "{html}");
    }

    /// Issue 16 (item 4): with a warm rebuild beside the cold builds, the page and the summary
    /// show both, with the ratio of the same measure.
    #[test]
    fn cold_and_warm_side_by_side() {
        let mut i = inputs();
        let mut warm = i.build.clone().unwrap();
        warm.payload.warm = true;
        for r in &mut warm.payload.runs {
            r.seconds /= 4.0;
        }
        i.warm_build = Some(warm);
        let t = i.cold_warm_table().unwrap();
        assert_eq!(t.rows[0], ["linux/arm64", "native", "10.0", "2.5", "0.25×"]);
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), &i).unwrap();
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(md.contains("| linux/arm64 | emulated | 60.0 | 15.0 | 0.25× |"), "{md}");
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(html.contains("<h2>Cold and warm builds</h2>"));
    }

    /// Issue 16 (item 5): the classic builder beside BuildKit, per strategy, with what each
    /// index stores.
    #[test]
    fn classic_and_buildkit_side_by_side() {
        use archbench_results::build::{Builder, LayerSharing};
        let mut i = inputs();
        let b = i.build.as_mut().unwrap();
        for r in &mut b.payload.runs {
            r.builder = Builder::Buildkit;
        }
        b.payload.layers =
            Some(LayerSharing { platform_bytes: 3 << 20, stored_bytes: 2 << 20, shared: vec![] });
        let mut classic = b.clone();
        for r in &mut classic.payload.runs {
            r.builder = Builder::Classic;
            r.seconds *= 2.0;
        }
        i.classic_build = Some(classic);
        let t = i.builders_table().unwrap();
        assert_eq!(t.rows[0], ["linux/arm64", "native", "20.0", "10.0", "0.50×"]);
        assert_eq!(t.rows[2][3], "2.0 MiB, 0 shared layers");
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), &i).unwrap();
        let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(md.contains("| linux/arm64 | emulated | 120.0 | 60.0 | 0.50× |"), "{md}");
    }
}
