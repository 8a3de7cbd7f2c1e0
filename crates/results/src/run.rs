//! `archbench run`: which entry of an index this host runs, why, and what each run printed
//! (kind "run").

use serde::{Deserialize, Serialize};

use crate::Seconds;

/// How an entry runs on this host, in the order `run` prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunHow {
    /// The host's own platform, as a container through the engine.
    Native,
    /// A Wasm module in archbench's process, on wasmtime's Cranelift tier.
    Wasm,
    /// Another architecture under QEMU (binfmt), as a container through the engine.
    Emulated,
}

impl RunHow {
    /// In words, for output.
    pub fn describe(self) -> &'static str {
        match self {
            RunHow::Native => "natively, as a container through the engine",
            RunHow::Wasm => "in process on wasmtime (Cranelift)",
            RunHow::Emulated => "under QEMU (binfmt), as a container through the engine",
        }
    }
}

impl std::fmt::Display for RunHow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            RunHow::Native => "native",
            RunHow::Wasm => "wasm",
            RunHow::Emulated => "emulated",
        })
    }
}

/// A slowdown against native for one way of running, and where the figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    /// Times native (1.0 for native itself).
    pub value: f64,
    /// Measured (a bench file named in `from`) or modelled (`from` says on what).
    pub measured: bool,
    /// The source, in words.
    pub from: String,
}

/// One entry of the index and whether this host can run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The platform the entry declares, as written (`wasip1/wasm` stays as written).
    pub declared: String,
    /// How it runs here, when it can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<RunHow>,
    /// Why it cannot, and the fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_runnable: Option<String>,
    /// Its expected slowdown here, when `how` is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<Slowdown>,
}

/// One run of one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRun {
    /// The entry's declared platform.
    pub declared: String,
    /// How it ran.
    pub how: RunHow,
    /// Exit status, when the program exited (none after a trap or a timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// The trap message, when a Wasm module trapped: never a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trap: Option<String>,
    /// The run hit `--timeout`.
    #[serde(default)]
    pub timed_out: bool,
    /// The program's own time: the module's `_start` in process, or the container's command by
    /// the engine's clock (`StartedAt` to `FinishedAt`).
    pub seconds: Seconds,
    /// What came before it: compiling and instantiating the module, or pulling, creating and
    /// starting the container, seen from archbench.
    pub startup_seconds: Seconds,
    /// Standard output (bounded).
    pub stdout: String,
    /// Standard error (bounded).
    pub stderr: String,
    /// Bytes of standard output past the bound (1 MiB), dropped; `run` says so on stderr.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stdout_dropped: u64,
    /// Bytes of standard error past the bound, dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stderr_dropped: u64,
    /// Why the kernel killed a container for its memory (`--max-memory`, or the host's), when
    /// it did: its exit status is then 137, not the program's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_memory: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl EntryRun {
    /// A run that counts as a result: it exited 0, without a trap or a timeout.
    pub fn ok(&self) -> bool {
        self.exit_code == Some(0)
            && self.trap.is_none()
            && !self.timed_out
            && self.out_of_memory.is_none()
    }
}

/// The payload of a `run` results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The image as given.
    pub image: String,
    /// This host's platform.
    pub host: String,
    /// Every entry of the index.
    pub entries: Vec<RunEntry>,
    /// The entry chosen (absent with `--compare`, which runs them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<String>,
    /// Why that entry, in words.
    pub why: String,
    /// The runs, in the order made.
    pub runs: Vec<EntryRun>,
    /// With `--compare`: whether every run succeeded and printed the same output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agree: Option<bool>,
}
