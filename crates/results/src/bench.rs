//! The payload of a `bench` results file: one [`Cell`] per workload × runner.
//!
//! `archbench-bench` writes exactly these types and `plan`, `report` and `bench compare` read
//! exactly these types: there is no second "view" of a cell. The runner is typed
//! ([`RunnerSpec`]), the status is typed ([`CellStatus`]), and every cell carries what makes it
//! comparable with another ([`Comparable`]): two cells whose keys differ are never put in one
//! ratio.

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// A wasmtime execution tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WasmTier {
    /// Optimising compiler.
    Cranelift,
    /// Baseline compiler.
    Winch,
    /// Interpreter.
    Pulley,
}

impl WasmTier {
    /// All tiers, fastest code first.
    pub const ALL: [WasmTier; 3] = [WasmTier::Cranelift, WasmTier::Winch, WasmTier::Pulley];

    /// Lowercase name as used in runner specs (`wasm:winch`).
    pub fn name(self) -> &'static str {
        match self {
            WasmTier::Cranelift => "cranelift",
            WasmTier::Winch => "winch",
            WasmTier::Pulley => "pulley",
        }
    }

    /// Parse a tier name.
    pub fn parse(s: &str) -> Option<WasmTier> {
        WasmTier::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// Which runner executed a cell, as written on the command line and in results files
/// (`native`, `qemu:linux/arm64`, `wasm:cranelift`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RunnerSpec {
    /// The host's own architecture.
    Native,
    /// QEMU user-mode for a foreign platform.
    Qemu(Platform),
    /// wasmtime in process.
    Wasm(WasmTier),
}

/// How a runner times a sample: a process per run, or inside archbench's own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A child process is spawned and waited for (native, QEMU).
    Process,
    /// The module is instantiated and run in archbench's process (wasmtime).
    InProcess,
}

impl RunnerSpec {
    /// The platform whose artifact this runner executes.
    pub fn platform(&self) -> Platform {
        match self {
            RunnerSpec::Native => Platform::host(),
            RunnerSpec::Qemu(p) => p.clone(),
            RunnerSpec::Wasm(_) => Platform::wasi_wasm(),
        }
    }

    /// How this runner's samples are timed.
    pub fn method(&self) -> Method {
        match self {
            RunnerSpec::Wasm(_) => Method::InProcess,
            _ => Method::Process,
        }
    }

    /// The default set: native, QEMU for arm64, arm/v7 and riscv64, and the three Wasm tiers.
    pub fn default_set() -> Vec<RunnerSpec> {
        let mut v = vec![RunnerSpec::Native];
        v.extend(
            [Platform::linux_arm64(), Platform::linux_arm_v7(), Platform::linux_riscv64()]
                .into_iter()
                .filter(|p| *p != Platform::host())
                .map(RunnerSpec::Qemu),
        );
        v.extend(WasmTier::ALL.map(RunnerSpec::Wasm));
        v
    }
}

impl std::fmt::Display for RunnerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that `{:<22}` in a table lines the runners up.
        f.pad(&match self {
            RunnerSpec::Native => "native".to_owned(),
            RunnerSpec::Qemu(p) => format!("qemu:{p}"),
            RunnerSpec::Wasm(t) => format!("wasm:{}", t.name()),
        })
    }
}

impl std::str::FromStr for RunnerSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let accepted = "native, qemu:<platform> (qemu:linux/arm64, qemu:arm/v7, qemu:riscv64), wasm:cranelift, wasm:winch, wasm:pulley";
        if s == "native" {
            return Ok(RunnerSpec::Native);
        }
        if let Some(p) = s.strip_prefix("qemu:") {
            let p: Platform = p.parse().map_err(|e| format!("runner {s:?}: {e}"))?;
            if p.qemu_arch().is_none() {
                return Err(format!("runner {s:?}: QEMU cannot emulate {p}"));
            }
            return Ok(RunnerSpec::Qemu(p));
        }
        if let Some(t) = s.strip_prefix("wasm:") {
            return WasmTier::parse(t)
                .map(RunnerSpec::Wasm)
                .ok_or_else(|| format!("runner {s:?}: unknown tier {t:?}; accepted: {accepted}"));
        }
        Err(format!("unknown runner {s:?}; accepted: {accepted}"))
    }
}

impl From<RunnerSpec> for String {
    fn from(r: RunnerSpec) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for RunnerSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// Counts of Tukey outliers (outside 1.5 or 3 interquartile ranges from the quartiles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outliers {
    /// Below Q1 − 3·IQR.
    pub severe_low: usize,
    /// Between Q1 − 3·IQR and Q1 − 1.5·IQR.
    pub mild_low: usize,
    /// Between Q3 + 1.5·IQR and Q3 + 3·IQR.
    pub mild_high: usize,
    /// Above Q3 + 3·IQR.
    pub severe_high: usize,
}

/// Summary of one set of samples (seconds); `archbench_bench::stats::summarize` computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one sample.
    pub stddev: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Bootstrap 95% confidence interval of the median, (low, high).
    pub median_ci: (f64, f64),
    /// Tukey outlier counts.
    pub outliers: Outliers,
}

/// The median of sorted, non-empty data: the middle value, or the mean of the two middle ones.
/// The one median in archbench: the statistics, the bootstrap and the charts use it.
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The median of `xs` in any order; `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    Some(median_of_sorted(&v))
}

/// How a measured run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// It exited with this status.
    Exited {
        /// The exit status.
        code: i32,
    },
    /// It was killed by a signal it did not ask for (SIGSEGV, SIGILL under emulation, ...), or
    /// a Wasm guest trapped (signal 0, name `trap: …`).
    Signaled {
        /// Signal number.
        signal: i32,
        /// Signal name (`SIGILL`).
        name: String,
    },
    /// It ran past the timeout and its process group was killed.
    TimedOut {
        /// The limit that was exceeded, in seconds.
        limit_seconds: f64,
    },
}

impl Outcome {
    /// True for a zero exit status.
    pub fn success(&self) -> bool {
        matches!(self, Outcome::Exited { code: 0 })
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Exited { code } => write!(f, "exit status {code}"),
            Outcome::Signaled { name, .. } => write!(f, "killed by {name}"),
            Outcome::TimedOut { limit_seconds } => {
                write!(f, "timed out after {limit_seconds:.1} s")
            }
        }
    }
}

/// Separate timings of one Wasm execution, seconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct WasmTimings {
    /// Compiling the module (zero when a cached compilation was reused).
    pub compile: f64,
    /// Creating the store and instantiating with WASI imports.
    pub instantiate: f64,
    /// Running `_start` to its end.
    pub run: f64,
}

/// One execution of a workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Wall-clock seconds (for Wasm: instantiate + run; compile is paid once per cell).
    pub wall: f64,
    /// User CPU seconds.
    pub user: f64,
    /// System CPU seconds.
    pub sys: f64,
    /// Peak RSS in bytes, for processes (a Wasm guest shares the host process, so none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss: Option<u64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Standard output (in results files: trimmed to the checksum line).
    pub stdout: String,
    /// Bytes of standard output past the 1 MiB kept, read and dropped: the checksum and the
    /// comparison with native then cover the kept part only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stdout_dropped: u64,
    /// The tail of standard error, when it ended badly.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub stderr_tail: String,
    /// Wasm stage timings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm: Option<WasmTimings>,
    /// For a command in a container: the seconds around it (start request to exit, less the
    /// command's own time by the engine's clock), which `wall` does not include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<f64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The state of a cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CellStatus {
    /// Samples recorded and the checksum matches native.
    Ok,
    /// The checksum differs from native's: the runner computed something else.
    InvalidChecksum {
        /// What native printed (the checksum line, or the hash of its whole output).
        expected: String,
        /// Where the outputs first differ, by line, when whole outputs were compared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        difference: Option<String>,
    },
    /// A run failed (exit status, signal, trap, timeout) or the runner could not start.
    Failed {
        /// Why.
        reason: String,
    },
    /// The user interrupted the suite during this cell; its samples so far are kept, and no
    /// statistic of it is used.
    Interrupted {
        /// Samples recorded before the interrupt.
        recorded: u32,
    },
}

/// Conditions shared by every sample of one bench run, recorded with each cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    /// The directory workloads wrote their files in, with its filesystem
    /// (`/dev/shm/archbench-bench-x (tmpfs)`): it decides what the syscall workload measures.
    pub scratch: String,
    /// The CPU the samples were pinned to; `None` when the scheduler placed them.
    pub cpu: Option<usize>,
}

impl Conditions {
    /// The scratch filesystem's name (`tmpfs`), from the trailing parenthesis of `scratch`.
    pub fn scratch_fs(&self) -> Option<&str> {
        let open = self.scratch.rfind(" (")?;
        self.scratch[open + 2..].strip_suffix(')')
    }

    /// One sentence for a caption: `Runs pinned to CPU 1; workload files on tmpfs.`
    pub fn sentence(&self) -> String {
        let cpu = match self.cpu {
            Some(c) => format!("Runs pinned to CPU {c}"),
            None => "Runs placed by the scheduler (not pinned)".to_owned(),
        };
        match self.scratch_fs() {
            Some(fs) => format!("{cpu}; workload files on {fs}."),
            None => format!("{cpu}."),
        }
    }
}

/// One workload × runner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Workload name.
    pub workload: String,
    /// Its class (`integer`, `floating point`, `startup`, …).
    pub class: String,
    /// Size argument given to the workload.
    pub size: u64,
    /// The runner.
    pub runner: RunnerSpec,
    /// How the runner executed (binfmt entry, explicit QEMU, wasmtime tier).
    pub via: String,
    /// The runner's own version (`qemu-aarch64 version 7.2.22 …`, `wasmtime 48.0.8`); `None`
    /// for native, which has no runner between the program and the CPU.
    #[serde(default)]
    pub runner_version: Option<String>,
    /// How the workload program was built (`release x86_64-unknown-linux-musl`).
    pub profile: String,
    /// Wasm compile time, paid once per runner and artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile_seconds: Option<f64>,
    /// The checksum line the workload printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Wall-time summary of the recorded samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<Summary>,
    /// Median wall time over native's, with a bootstrap 95% interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<(f64, (f64, f64))>,
    /// Verdict.
    pub status: CellStatus,
    /// Raw samples (stdout trimmed to the checksum line).
    pub samples: Vec<Sample>,
    /// Where and how the samples were taken (absent in files from before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Conditions>,
}

/// What two cells must share for a ratio of their times to mean anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparable<'a> {
    /// Workload name.
    pub workload: &'a str,
    /// Its size argument.
    pub size: u64,
    /// The runner.
    pub runner: &'a RunnerSpec,
    /// The runner's version.
    pub runner_version: Option<&'a str>,
    /// The build profile of the program.
    pub profile: &'a str,
}

impl Cell {
    /// Whether the cell measured something valid.
    pub fn ok(&self) -> bool {
        self.status == CellStatus::Ok
    }

    /// Its wall times, in sample order.
    pub fn walls(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.wall).collect()
    }

    /// The key two cells must share to be compared.
    pub fn comparable(&self) -> Comparable<'_> {
        Comparable {
            workload: &self.workload,
            size: self.size,
            runner: &self.runner,
            runner_version: self.runner_version.as_deref(),
            profile: &self.profile,
        }
    }

    /// `None` when `self` and `other` measure the same thing the same way; else what differs,
    /// in words (`size 512 against 4096`).
    pub fn differs_from(&self, other: &Cell) -> Option<String> {
        let (a, b) = (self.comparable(), other.comparable());
        let mut d = Vec::new();
        if a.workload != b.workload {
            d.push(format!("workload {} against {}", a.workload, b.workload));
        }
        if a.size != b.size {
            d.push(format!("size {} against {}", a.size, b.size));
        }
        if a.runner != b.runner {
            d.push(format!("runner {} against {}", a.runner, b.runner));
        }
        if a.runner_version != b.runner_version {
            let v = |v: Option<&str>| v.unwrap_or("unrecorded").to_owned();
            d.push(format!(
                "runner version {} against {}",
                v(a.runner_version),
                v(b.runner_version)
            ));
        }
        if a.profile != b.profile {
            d.push(format!("build profile {} against {}", a.profile, b.profile));
        }
        (!d.is_empty()).then(|| d.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_as_a_sentence() {
        let c = Conditions { scratch: "/dev/shm/x (tmpfs)".into(), cpu: Some(3) };
        assert_eq!(c.scratch_fs(), Some("tmpfs"));
        assert_eq!(c.sentence(), "Runs pinned to CPU 3; workload files on tmpfs.");
        let c = Conditions { scratch: "/odd".into(), cpu: None };
        assert_eq!(c.scratch_fs(), None);
        assert_eq!(c.sentence(), "Runs placed by the scheduler (not pinned).");
    }

    #[test]
    fn runner_specs_round_trip_and_refuse_what_cannot_run() {
        for s in ["native", "qemu:linux/arm64", "qemu:linux/arm/v7", "wasm:winch"] {
            let r: RunnerSpec = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
            assert_eq!(format!("{r:<20}|").len(), 21, "padded in tables");
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<RunnerSpec>(&json).unwrap(), r);
        }
        assert!("qemu:wasi/wasm".parse::<RunnerSpec>().unwrap_err().contains("cannot emulate"));
        assert!("wasm:v8".parse::<RunnerSpec>().unwrap_err().contains("accepted"));
        assert_eq!(RunnerSpec::Wasm(WasmTier::Pulley).method(), Method::InProcess);
        assert_eq!(RunnerSpec::Native.method(), Method::Process);
    }

    fn cell(size: u64, version: Option<&str>) -> Cell {
        Cell {
            workload: "sha256".into(),
            class: "integer".into(),
            size,
            runner: "qemu:linux/arm64".parse().unwrap(),
            via: String::new(),
            runner_version: version.map(str::to_owned),
            profile: "release".into(),
            compile_seconds: None,
            checksum: None,
            wall: None,
            slowdown: None,
            status: CellStatus::Ok,
            samples: vec![],
            conditions: None,
        }
    }

    #[test]
    fn differences_that_break_a_ratio_are_named() {
        assert_eq!(cell(512, Some("7.2")).differs_from(&cell(512, Some("7.2"))), None);
        assert_eq!(
            cell(512, Some("7.2")).differs_from(&cell(4096, Some("8.0"))).unwrap(),
            "size 512 against 4096, runner version 7.2 against 8.0"
        );
        assert_eq!(
            cell(512, None).differs_from(&cell(512, Some("8.0"))).unwrap(),
            "runner version unrecorded against 8.0"
        );
    }
}
