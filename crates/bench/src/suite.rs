//! Running the workload suite: every workload on every runner, with warm-up, a minimum number
//! of runs and a time budget per cell, a correctness gate on checksums, and each runner's
//! slowdown against native with a bootstrap interval.

use std::path::Path;
use std::time::{Duration, Instant};

use archbench_exec::runner::{make_runner, Runner, RunnerSpec};
use serde::{Deserialize, Serialize};

use crate::artifacts;
use crate::scratch::Scratch;
use crate::stats::{ratio_ci, summarize};

/// One workload of the suite.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Workload {
    /// Kernel name passed to the program.
    pub name: &'static str,
    /// The class a user recognises.
    pub class: &'static str,
    /// Size for the full suite (about 50–100 ms natively on the reference machine).
    pub full: u64,
    /// Size for `--quick` (roughly an eighth).
    pub quick: u64,
}

/// The suite.
pub const WORKLOADS: &[Workload] = &[
    Workload { name: "sha256", class: "integer", full: 4096, quick: 512 },
    Workload { name: "crc32", class: "integer", full: 2048, quick: 256 },
    Workload { name: "nbody", class: "floating point", full: 1_000_000, quick: 125_000 },
    Workload { name: "matmul", class: "floating point", full: 400, quick: 200 },
    Workload { name: "sort", class: "memory", full: 2000, quick: 250 },
    Workload { name: "hashmap", class: "memory", full: 400, quick: 50 },
    Workload { name: "tokenize", class: "branchy parsing", full: 12288, quick: 1536 },
    Workload { name: "alloc", class: "allocation", full: 2000, quick: 250 },
    Workload { name: "syscall", class: "syscall", full: 2500, quick: 300 },
    Workload { name: "startup", class: "startup", full: 0, quick: 0 },
];

/// How many samples a cell gets.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Policy {
    /// Unrecorded runs first.
    pub warmup: u32,
    /// At least this many recorded runs.
    pub min_runs: u32,
    /// At most this many.
    pub max_runs: u32,
    /// Keep sampling (between min and max) until this many seconds were spent on the cell.
    pub budget_seconds: f64,
    /// A single run longer than this is killed and the cell fails.
    pub timeout_seconds: f64,
}

impl Policy {
    /// Defaults for the full suite or `--quick`.
    pub fn new(quick: bool) -> Self {
        if quick {
            Policy {
                warmup: 1,
                min_runs: 3,
                max_runs: 10,
                budget_seconds: 0.5,
                timeout_seconds: 60.0,
            }
        } else {
            Policy {
                warmup: 1,
                min_runs: 10,
                max_runs: 50,
                budget_seconds: 3.0,
                timeout_seconds: 300.0,
            }
        }
    }
}

pub use archbench_results::bench::{Cell, CellStatus, Conditions};

/// How the suite takes its samples.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// Where workloads write files.
    pub scratch: &'a Scratch,
    /// Pin the sampling thread, and so every process it starts, to this CPU.
    pub cpu: Option<usize>,
}

/// Run `workloads` on `runners` as `setup` says. `progress` is told about each cell as it starts.
pub fn run(
    source: &Path,
    workloads: &[Workload],
    runners: &[RunnerSpec],
    quick: bool,
    policy: Policy,
    setup: Setup<'_>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Cell>, String> {
    let scratch = setup.scratch;
    let conditions = Conditions { scratch: scratch.describe(), cpu: setup.cpu };
    let env = [("WORKLOAD_TMP".to_owned(), scratch.path().display().to_string())];
    let timeout = Duration::from_secs_f64(policy.timeout_seconds);
    let mut cells = Vec::new();
    for spec in runners {
        if interrupted() {
            break;
        }
        progress(&format!("building workloads for {}", spec.platform()));
        let artifact = artifacts::build(source, &spec.platform())?;
        let mut runner = make_runner(spec, scratch.path());
        let prepared = runner.prepare(&artifact);
        for w in workloads {
            if interrupted() {
                break;
            }
            let size = if quick { w.quick } else { w.full };
            progress(&format!("{} on {spec}", w.name));
            let mut cell = Cell {
                workload: w.name.into(),
                class: w.class.into(),
                size,
                runner: spec.clone(),
                via: String::new(),
                runner_version: None,
                profile: artifacts::profile(&spec.platform()),
                compile_seconds: None,
                checksum: None,
                wall: None,
                slowdown: None,
                status: CellStatus::Ok,
                samples: Vec::new(),
                conditions: Some(conditions.clone()),
            };
            match &prepared {
                Ok(p) => {
                    cell.via = p.via.clone();
                    cell.compile_seconds = p.compile_seconds;
                    cell.runner_version = p.version.clone();
                }
                Err(e) => {
                    cell.status = CellStatus::Failed { reason: e.to_string() };
                    cells.push(cell);
                    continue;
                }
            }
            let args = [w.name.to_owned(), size.to_string()];
            // Pinned for the samples only; the guard restores the affinity after the cell.
            let _pinned = setup.cpu.map(crate::pin::Pinned::to).transpose()?;
            take_samples(runner.as_mut(), &mut cell, &args, &env, timeout, policy);
            let walls: Vec<f64> = cell.samples.iter().map(|s| s.wall).collect();
            cell.wall = summarize(&walls);
            cells.push(cell);
        }
    }
    gate_and_compare(&mut cells);
    Ok(cells)
}

/// Run one cell's warm-ups and samples into `cell`, as the policy says; a failed run, an
/// output that changes between runs, or an interrupt ends it with that status.
fn take_samples(
    runner: &mut dyn Runner,
    cell: &mut Cell,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
    policy: Policy,
) {
    let started = Instant::now();
    let mut recorded = 0u32;
    for i in 0.. {
        if interrupted() {
            cell.status = CellStatus::Interrupted { recorded };
            break;
        }
        let s = match runner.run(args, env, timeout) {
            Ok(s) => s,
            Err(e) => {
                cell.status = CellStatus::Failed { reason: e.to_string() };
                break;
            }
        };
        if !s.outcome.success() {
            cell.status = CellStatus::Failed {
                reason: format!("{} {}", s.outcome, s.stderr_tail).trim().to_owned(),
            };
            break;
        }
        let line = s.stdout.lines().last().unwrap_or("").trim().to_owned();
        cell.checksum.get_or_insert(line.clone());
        if cell.checksum.as_deref() != Some(line.as_str()) {
            cell.status =
                CellStatus::Failed { reason: format!("output changed between runs: {line:?}") };
            break;
        }
        if i < policy.warmup {
            continue;
        }
        let mut s = s;
        s.stdout = line;
        cell.samples.push(s);
        recorded += 1;
        let spent = started.elapsed().as_secs_f64();
        if recorded >= policy.max_runs
            || (recorded >= policy.min_runs && spent >= policy.budget_seconds)
        {
            break;
        }
    }
}

/// Whether the user asked the suite to stop (see `archbench_results::cleanup`): checked before
/// each run, so a run in progress finishes (or times out) first.
fn interrupted() -> bool {
    archbench_results::cleanup::interrupt_requested()
}

/// Mark cells whose checksum differs from native's, and compute slowdowns against native.
pub fn gate_and_compare(cells: &mut [Cell]) {
    let native: Vec<(String, Option<String>, Vec<f64>)> = cells
        .iter()
        .filter(|c| c.runner == RunnerSpec::Native && c.status == CellStatus::Ok)
        .map(|c| {
            (c.workload.clone(), c.checksum.clone(), c.samples.iter().map(|s| s.wall).collect())
        })
        .collect();
    for c in cells.iter_mut() {
        let Some((_, sum, walls)) = native.iter().find(|(w, _, _)| *w == c.workload) else {
            continue;
        };
        if c.status == CellStatus::Ok && c.checksum != *sum {
            c.status = CellStatus::InvalidChecksum { expected: sum.clone().unwrap_or_default() };
        }
        if c.status == CellStatus::Ok {
            let mine: Vec<f64> = c.samples.iter().map(|s| s.wall).collect();
            c.slowdown = ratio_ci(&mine, walls);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use archbench_exec::process::Outcome;
    use archbench_exec::runner::Sample;

    use super::*;

    pub(crate) fn cell(runner: &str, checksum: &str, walls: &[f64]) -> Cell {
        Cell {
            workload: "sha256".into(),
            class: "integer".into(),
            size: 1,
            runner: runner.parse().unwrap(),
            via: String::new(),
            runner_version: None,
            profile: "release".into(),
            compile_seconds: None,
            checksum: Some(checksum.into()),
            wall: summarize(walls),
            slowdown: None,
            status: CellStatus::Ok,
            samples: walls
                .iter()
                .map(|&w| Sample {
                    wall: w,
                    user: w,
                    sys: 0.0,
                    max_rss: None,
                    outcome: Outcome::Exited { code: 0 },
                    stdout: checksum.into(),
                    stderr_tail: String::new(),
                    wasm: None,
                })
                .collect(),
            conditions: None,
        }
    }

    #[test]
    fn a_wrong_checksum_is_invalid_and_slowdowns_are_against_native() {
        let mut cells = vec![
            cell("native", "sum=1", &[1.0, 1.1, 0.9]),
            cell("qemu:linux/arm64", "sum=1", &[8.0, 8.8, 7.2]),
            cell("wasm:winch", "sum=2", &[2.0, 2.0, 2.0]),
        ];
        gate_and_compare(&mut cells);
        assert_eq!(cells[1].status, CellStatus::Ok);
        let (r, (lo, hi)) = cells[1].slowdown.unwrap();
        assert!((r - 8.0).abs() < 1e-9 && lo <= r && r <= hi);
        assert_eq!(cells[2].status, CellStatus::InvalidChecksum { expected: "sum=1".into() });
        assert!(cells[2].slowdown.is_none());
    }
}
