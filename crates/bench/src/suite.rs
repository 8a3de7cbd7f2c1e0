//! Running the workload suite: every workload on every runner, with warm-up, a minimum number
//! of runs and a time budget per cell, a correctness gate on checksums, and each runner's
//! slowdown against native with a bootstrap interval.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use archbench_exec::runner::{make_runner_with, Io, Runner, RunnerSpec};
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
    /// The Wasm runners' memory cap in bytes (`None`: [`archbench_exec::wasm::DEFAULT_MAX_MEMORY`]).
    pub max_memory: Option<u64>,
}

/// Where the suite gets its programs and runners: the real ones build the workloads with cargo
/// and run them natively, under QEMU or in wasmtime ([`Real`]); the unit tests give scripted
/// ones, so the loop, the sampling policy and the checksum gate are tested without QEMU.
pub trait Toolbox {
    /// The program `spec` runs (the workloads built for its platform, or a user's file).
    fn artifact(&mut self, spec: &RunnerSpec) -> crate::Result<PathBuf>;
    /// A runner for `spec`.
    fn runner(&mut self, spec: &RunnerSpec) -> Box<dyn Runner>;
}

/// The real toolbox: workloads built from `source` with cargo, runners from
/// [`archbench_exec::runner::make_runner_with`] writing into `scratch`.
pub struct Real<'a> {
    /// The workload sources ([`artifacts::source_dir`]).
    pub source: &'a Path,
    /// The scratch directory runners may write to.
    pub scratch: &'a Path,
    /// The Wasm runners' memory cap ([`Setup::max_memory`]).
    pub max_memory: Option<u64>,
}

impl Toolbox for Real<'_> {
    fn artifact(&mut self, spec: &RunnerSpec) -> crate::Result<PathBuf> {
        artifacts::build(self.source, &spec.platform())
    }
    fn runner(&mut self, spec: &RunnerSpec) -> Box<dyn Runner> {
        let io = Io { max_memory: self.max_memory, ..Io::default() };
        make_runner_with(spec, self.scratch, io)
    }
}

/// Run `workloads` on `runners` as `setup` says. `progress` is told about each cell as it starts.
pub fn run(
    source: &Path,
    workloads: &[Workload],
    runners: &[RunnerSpec],
    quick: bool,
    policy: Policy,
    setup: Setup<'_>,
    progress: impl FnMut(&str),
) -> crate::Result<Vec<Cell>> {
    let scratch = setup.scratch;
    let conditions = Conditions { scratch: scratch.describe(), cpu: setup.cpu };
    let mut tools = Real { source, scratch: scratch.path(), max_memory: setup.max_memory };
    let jobs: Vec<Job> = workloads.iter().map(|w| Job::workload(w, quick)).collect();
    let plan = Plan {
        jobs: &jobs,
        runners,
        policy,
        conditions,
        cpu: setup.cpu,
        check: Check::LastLine,
        profile: None,
    };
    run_with(&mut tools, &plan, scratch.path(), progress)
}

/// One thing to time on every runner: a suite workload at its size, or a user's program with
/// its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The name cells carry (`sha256`, or the user's program name).
    pub name: String,
    /// Its class (`integer`, …, `user program`).
    pub class: String,
    /// The size recorded in the cell (0 for a user's program).
    pub size: u64,
    /// The arguments given to the program (without argv[0]).
    pub args: Vec<String>,
}

impl Job {
    /// A suite workload at its full or quick size.
    pub fn workload(w: &Workload, quick: bool) -> Job {
        let size = if quick { w.quick } else { w.full };
        Job {
            name: w.name.into(),
            class: w.class.into(),
            size,
            args: vec![w.name.into(), size.to_string()],
        }
    }
}

/// What makes two runs' outputs "the same".
#[derive(Debug, Clone)]
pub enum Check {
    /// The last line of stdout (the suite's workloads print a checksum line last).
    LastLine,
    /// All of stdout, by its SHA-256; the first sample keeps up to 64 KiB of it so that a
    /// difference can be shown by line.
    Output,
    /// What this pattern matches in stdout (its first group where it has one), every match.
    Regex(regex::Regex),
    /// Nothing: for programs whose output varies (timestamps, addresses).
    Nothing,
}

/// How much of a user's output the first sample keeps, to show where runners differ.
const KEPT_OUTPUT: usize = 64 << 10;

impl Check {
    /// The value two runs must share, from `stdout`; `None` when nothing is checked.
    pub fn key(&self, stdout: &str) -> Option<String> {
        match self {
            Check::LastLine => Some(stdout.lines().last().unwrap_or("").trim().to_owned()),
            Check::Output => {
                use sha2::{Digest, Sha256};
                Some(format!("sha256:{}", hex::encode(Sha256::digest(stdout.as_bytes()))))
            }
            Check::Regex(re) => Some(
                re.captures_iter(stdout)
                    .map(|c| c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str()).to_owned())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Check::Nothing => None,
        }
    }

    /// What a recorded sample keeps of `stdout`, whose [`Check::key`] is `key`.
    fn kept(&self, stdout: String, key: Option<String>, first: bool) -> String {
        match self {
            Check::Output if first => {
                let mut s = stdout;
                if s.len() > KEPT_OUTPUT {
                    let mut end = KEPT_OUTPUT;
                    while !s.is_char_boundary(end) {
                        end -= 1;
                    }
                    s.truncate(end);
                }
                s
            }
            Check::Output | Check::Nothing => String::new(),
            _ => key.unwrap_or_default(),
        }
    }
}

/// What [`run_with`] measures, and how.
pub struct Plan<'a> {
    /// The jobs.
    pub jobs: &'a [Job],
    /// The runners, native first.
    pub runners: &'a [RunnerSpec],
    /// How many samples.
    pub policy: Policy,
    /// Recorded with each cell.
    pub conditions: Conditions,
    /// Pin the samples to this CPU.
    pub cpu: Option<usize>,
    /// What outputs must agree on.
    pub check: Check,
    /// The build profile cells record; `None`: the suite's, per platform.
    pub profile: Option<String>,
}

/// The suite loop over any [`Toolbox`]: every workload on every runner, sampled by the policy,
/// then the checksum gate and the slowdowns. `scratch` is passed to the workloads as
/// `WORKLOAD_TMP`.
pub fn run_with(
    tools: &mut dyn Toolbox,
    plan: &Plan<'_>,
    scratch: &Path,
    mut progress: impl FnMut(&str),
) -> crate::Result<Vec<Cell>> {
    let Plan { jobs, runners, policy, ref conditions, cpu, ref check, ref profile } = *plan;
    let env = [("WORKLOAD_TMP".to_owned(), scratch.display().to_string())];
    let timeout = Duration::from_secs_f64(policy.timeout_seconds);
    let mut cells = Vec::new();
    for spec in runners {
        if interrupted() {
            break;
        }
        progress(&format!("preparing the program for {spec}"));
        let artifact = tools.artifact(spec)?;
        let mut runner = tools.runner(spec);
        let prepared = runner.prepare(&artifact);
        for job in jobs {
            if interrupted() {
                break;
            }
            progress(&format!("{} on {spec}", job.name));
            let mut cell = Cell {
                workload: job.name.clone(),
                class: job.class.clone(),
                size: job.size,
                runner: spec.clone(),
                via: String::new(),
                runner_version: None,
                profile: profile.clone().unwrap_or_else(|| artifacts::profile(&spec.platform())),
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
                    cell.status = CellStatus::Failed { reason: archbench_results::error_line(&e) };
                    cells.push(cell);
                    continue;
                }
            }
            // Pinned for the samples only; the guard restores the affinity after the cell.
            let _pinned = cpu.map(crate::pin::Pinned::to).transpose()?;
            let sampling = Sampling { args: &job.args, env: &env, timeout, policy, check };
            take_samples(runner.as_mut(), &mut cell, &sampling);
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
fn take_samples(runner: &mut dyn Runner, cell: &mut Cell, how: &Sampling<'_>) {
    let Sampling { args, env, timeout, policy, check } = *how;
    let started = Instant::now();
    let mut recorded = 0u32;
    for i in 0.. {
        if interrupted() {
            cell.status = CellStatus::Interrupted { recorded };
            break;
        }
        let s = runner.run(args, env, timeout);
        if interrupted() {
            // The interrupt stopped this run (see `archbench_results::cleanup`): it is not a
            // result, whatever it returned.
            cell.status = CellStatus::Interrupted { recorded };
            break;
        }
        let s = match s {
            Ok(s) => s,
            Err(e) => {
                cell.status = CellStatus::Failed { reason: archbench_results::error_line(&e) };
                break;
            }
        };
        if !s.outcome.success() {
            cell.status = CellStatus::Failed {
                reason: format!("{} {}", s.outcome, s.stderr_tail).trim().to_owned(),
            };
            break;
        }
        let key = check.key(&s.stdout);
        if i == 0 {
            cell.checksum = key.clone();
        } else if cell.checksum != key {
            cell.status = CellStatus::Failed {
                reason: format!(
                    "output changed between runs: {:?}",
                    key.unwrap_or_default().chars().take(200).collect::<String>()
                ),
            };
            break;
        }
        if i < policy.warmup {
            continue;
        }
        let mut s = s;
        s.stdout = check.kept(std::mem::take(&mut s.stdout), key, recorded == 0);
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

/// How one cell is sampled.
#[derive(Clone, Copy)]
struct Sampling<'a> {
    args: &'a [String],
    env: &'a [(String, String)],
    timeout: Duration,
    policy: Policy,
    check: &'a Check,
}

/// Whether the user asked the suite to stop (see `archbench_results::cleanup`): checked before
/// each run and after it (the interrupt stops the run in progress, which is then not counted).
fn interrupted() -> bool {
    archbench_results::cleanup::interrupt_requested()
}

/// The first line where `ours` differs from `native`, in words.
pub fn first_difference(native: &str, ours: &str) -> Option<String> {
    let (mut a, mut b) = (native.lines(), ours.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&str>| match l {
                    Some(l) => format!("{:?}", l.chars().take(120).collect::<String>()),
                    None => "nothing (the output ended)".to_owned(),
                };
                return Some(format!(
                    "line {n}: native printed {}, this runner {}",
                    show(x),
                    show(y)
                ));
            }
        }
    }
    None
}

/// Mark cells whose checksum differs from native's, and compute slowdowns against native.
pub fn gate_and_compare(cells: &mut [Cell]) {
    let native: Vec<(String, Option<String>, Vec<f64>, String)> = cells
        .iter()
        .filter(|c| c.runner == RunnerSpec::Native && c.status == CellStatus::Ok)
        .map(|c| {
            let first = c.samples.first().map(|s| s.stdout.clone()).unwrap_or_default();
            (c.workload.clone(), c.checksum.clone(), c.walls(), first)
        })
        .collect();
    for c in cells.iter_mut() {
        let Some((_, sum, walls, out)) = native.iter().find(|(w, ..)| *w == c.workload) else {
            continue;
        };
        if c.status == CellStatus::Ok && c.checksum != *sum {
            let mine = c.samples.first().map(|s| s.stdout.as_str()).unwrap_or("");
            let whole = sum.as_deref().is_some_and(|s| s.starts_with("sha256:"));
            c.status = CellStatus::InvalidChecksum {
                expected: sum.clone().unwrap_or_default(),
                difference: whole.then(|| first_difference(out, mine)).flatten(),
            };
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
    use archbench_platform::Platform;

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
                    stdout_dropped: 0,
                    stderr_tail: String::new(),
                    wasm: None,
                    startup: None,
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
        assert_eq!(
            cells[2].status,
            CellStatus::InvalidChecksum { expected: "sum=1".into(), difference: None }
        );
        assert!(cells[2].slowdown.is_none());
    }

    /// A scripted runner: each run prints `checksum` (or what `outputs` says for that run) and
    /// takes the next wall time; `fail_at` makes that run die with SIGILL, as a missing CPU
    /// feature does under QEMU.
    /// Every run the fake runners were asked for: runner and arguments.
    type RunLog = std::sync::Arc<std::sync::Mutex<Vec<(RunnerSpec, Vec<String>)>>>;

    #[derive(Clone, Default)]
    struct Script {
        checksum: String,
        walls: Vec<f64>,
        fail_at: Option<usize>,
        outputs: Vec<(usize, String)>,
        prepare_error: Option<String>,
    }

    struct FakeRunner {
        spec: RunnerSpec,
        script: Script,
        runs: RunLog,
        n: usize,
    }

    impl Runner for FakeRunner {
        fn spec(&self) -> &RunnerSpec {
            &self.spec
        }
        fn prepare(
            &mut self,
            _: &Path,
        ) -> archbench_exec::Result<archbench_exec::runner::Prepared> {
            match &self.script.prepare_error {
                Some(e) => Err(archbench_exec::Error::Io {
                    action: "finding QEMU for",
                    path: e.clone(),
                    source: std::io::ErrorKind::NotFound.into(),
                }),
                None => Ok(archbench_exec::runner::Prepared {
                    via: "fake".into(),
                    compile_seconds: None,
                    version: Some(format!("fake {}", self.spec)),
                }),
            }
        }
        fn run(
            &mut self,
            args: &[String],
            env: &[(String, String)],
            _: Duration,
        ) -> archbench_exec::Result<Sample> {
            assert_eq!(env[0].0, "WORKLOAD_TMP");
            self.runs.lock().unwrap().push((self.spec.clone(), args.to_vec()));
            let i = self.n;
            self.n += 1;
            let outcome = if self.script.fail_at == Some(i) {
                Outcome::Signaled { signal: 4, name: "SIGILL".into() }
            } else {
                Outcome::Exited { code: 0 }
            };
            let stdout = self
                .script
                .outputs
                .iter()
                .find(|(at, _)| *at == i)
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| format!("noise\n{}", self.script.checksum));
            Ok(Sample {
                wall: self.script.walls[i % self.script.walls.len()],
                user: 0.0,
                sys: 0.0,
                max_rss: None,
                stderr_tail: if outcome.success() {
                    String::new()
                } else {
                    "qemu: uncaught target signal 4".into()
                },
                outcome,
                stdout,
                stdout_dropped: 0,
                wasm: None,
                startup: None,
            })
        }
    }

    #[derive(Default)]
    struct FakeTools {
        scripts: Vec<(RunnerSpec, Script)>,
        built: Vec<Platform>,
        runs: RunLog,
    }

    impl Toolbox for FakeTools {
        fn artifact(&mut self, spec: &RunnerSpec) -> crate::Result<PathBuf> {
            self.built.push(spec.platform());
            Ok(PathBuf::from(format!("/fake/{spec}")))
        }
        fn runner(&mut self, spec: &RunnerSpec) -> Box<dyn Runner> {
            let script = self.scripts.iter().find(|(s, _)| s == spec).unwrap().1.clone();
            Box::new(FakeRunner { spec: spec.clone(), script, runs: self.runs.clone(), n: 0 })
        }
    }

    fn policy(min: u32, max: u32) -> Policy {
        Policy {
            warmup: 1,
            min_runs: min,
            max_runs: max,
            budget_seconds: 0.0,
            timeout_seconds: 1.0,
        }
    }

    fn run_fake(tools: &mut FakeTools, workloads: &[Workload], p: Policy) -> Vec<Cell> {
        let runners: Vec<RunnerSpec> = tools.scripts.iter().map(|(s, _)| s.clone()).collect();
        let jobs: Vec<Job> = workloads.iter().map(|w| Job::workload(w, true)).collect();
        let plan = Plan {
            jobs: &jobs,
            runners: &runners,
            policy: p,
            conditions: Conditions { scratch: "/fake (tmpfs)".into(), cpu: None },
            cpu: None,
            check: Check::LastLine,
            profile: None,
        };
        run_with(tools, &plan, Path::new("/fake"), |_| {}).unwrap()
    }

    fn qemu() -> RunnerSpec {
        "qemu:linux/arm64".parse().unwrap()
    }

    fn script(sum: &str, walls: &[f64]) -> Script {
        Script { checksum: sum.into(), walls: walls.to_vec(), ..Default::default() }
    }

    /// The loop builds once per runner, drops the warm-up, stops at the policy's minimum when
    /// the budget is spent, keeps only the checksum line and records the runner's version,
    /// and computes the slowdown against native.
    #[test]
    fn the_loop_samples_by_policy_and_compares_against_native() {
        let mut t = FakeTools {
            scripts: vec![
                (RunnerSpec::Native, script("sum=1", &[9.0, 1.0, 1.0, 1.0])),
                (qemu(), script("sum=1", &[99.0, 5.0, 5.0, 5.0])),
            ],
            ..Default::default()
        };
        let cells = run_fake(&mut t, &WORKLOADS[..2], policy(3, 10));
        assert_eq!(t.built, [Platform::host(), Platform::linux_arm64()]);
        assert_eq!(cells.len(), 4);
        for c in &cells {
            assert_eq!(c.status, CellStatus::Ok, "{c:?}");
            assert_eq!(c.samples.len(), 3, "warm-up dropped, minimum kept");
            assert!(c.samples.iter().all(|s| s.stdout == "sum=1"));
            assert_eq!(c.size, WORKLOADS.iter().find(|w| w.name == c.workload).unwrap().quick);
        }
        assert_eq!(cells[2].runner_version.as_deref(), Some("fake qemu:linux/arm64"));
        assert_eq!(cells[2].slowdown.unwrap().0, 5.0);
        assert_eq!(cells[2].wall.as_ref().unwrap().median, 5.0);
        let runs = t.runs.lock().unwrap();
        assert_eq!(runs.len(), 16, "4 runs (1 warm-up + 3) per cell");
        assert_eq!(runs[0].1, ["sha256", "512"]);
    }

    /// With budget left, sampling goes on up to the maximum.
    #[test]
    fn sampling_stops_at_the_maximum() {
        let mut t = FakeTools {
            scripts: vec![(RunnerSpec::Native, script("s", &[0.001]))],
            ..Default::default()
        };
        let mut p = policy(2, 7);
        p.budget_seconds = 3600.0;
        let cells = run_fake(&mut t, &WORKLOADS[..1], p);
        assert_eq!(cells[0].samples.len(), 7);
    }

    /// The failure paths: a crash under QEMU (SIGILL, with stderr), a checksum that differs
    /// from native's, an output that changes between runs, and a runner that cannot start.
    /// Each cell gets its status and no slowdown; the other cells still run.
    #[test]
    fn failures_are_recorded_per_cell_and_never_counted() {
        let wasm: RunnerSpec = "wasm:winch".parse().unwrap();
        let riscv: RunnerSpec = "qemu:linux/riscv64".parse().unwrap();
        let arm: RunnerSpec = "qemu:linux/arm/v7".parse().unwrap();
        let mut t = FakeTools {
            scripts: vec![
                (RunnerSpec::Native, script("sum=1", &[1.0])),
                (qemu(), Script { fail_at: Some(2), ..script("sum=1", &[5.0]) }),
                (wasm.clone(), script("sum=2", &[2.0])),
                (
                    riscv.clone(),
                    Script { outputs: vec![(3, "sum=9".into())], ..script("sum=1", &[3.0]) },
                ),
                (
                    arm.clone(),
                    Script { prepare_error: Some("no qemu-arm".into()), ..script("sum=1", &[1.0]) },
                ),
            ],
            ..Default::default()
        };
        let cells = run_fake(&mut t, &WORKLOADS[..1], policy(3, 3));
        let by = |r: &RunnerSpec| cells.iter().find(|c| c.runner == *r).unwrap();
        assert_eq!(by(&RunnerSpec::Native).status, CellStatus::Ok);
        match &by(&qemu()).status {
            CellStatus::Failed { reason } => {
                assert!(reason.contains("killed by SIGILL"), "{reason}");
                assert!(reason.contains("uncaught target signal"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            by(&wasm).status,
            CellStatus::InvalidChecksum { expected: "sum=1".into(), difference: None }
        );
        assert!(
            matches!(&by(&riscv).status, CellStatus::Failed { reason } if reason.contains("output changed between runs")),
            "{:?}",
            by(&riscv).status
        );
        assert!(
            matches!(&by(&arm).status, CellStatus::Failed { reason } if reason.contains("no qemu-arm")),
            "{:?}",
            by(&arm).status
        );
        for c in cells.iter().filter(|c| c.runner != RunnerSpec::Native) {
            assert!(c.slowdown.is_none(), "{} has no slowdown", c.runner);
        }
    }
}
