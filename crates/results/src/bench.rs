//! A read-only view of a `bench` results file (written by `archbench-bench`), with just what
//! `plan` and `report` need, so they read results without depending on the runners.

use serde::{Deserialize, Serialize};

/// The wall-time summary of a cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallView {
    /// Median seconds.
    pub median: f64,
    /// Bootstrap 95% CI of the median.
    pub median_ci: (f64, f64),
}

/// Wasm stage timings of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasmView {
    /// Compile seconds (charged once).
    pub compile: f64,
    /// Instantiate seconds.
    pub instantiate: f64,
    /// Run seconds.
    pub run: f64,
}

/// One sample, as far as the views need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleView {
    /// Wall seconds.
    pub wall: f64,
    /// Wasm stages, for Wasm runners.
    #[serde(default)]
    pub wasm: Option<WasmView>,
}

/// One workload × runner cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchCell {
    /// Workload name.
    pub workload: String,
    /// Its class (`integer`, `float`, `syscall`, …).
    pub class: String,
    /// Runner (`native`, `qemu:linux/arm64`, `wasm:cranelift`).
    pub runner: String,
    /// Seconds compiling, for Wasm.
    #[serde(default)]
    pub compile_seconds: Option<f64>,
    /// Wall summary.
    #[serde(default)]
    pub wall: Option<WallView>,
    /// Slowdown vs native and its 95% CI.
    #[serde(default)]
    pub slowdown: Option<(f64, (f64, f64))>,
    /// `ok`, or a failure description.
    pub status: serde_json::Value,
    /// Raw samples.
    #[serde(default)]
    pub samples: Vec<SampleView>,
    /// Where and how the samples were taken (absent in files from before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Conditions>,
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

impl BenchCell {
    /// Whether the cell measured something valid.
    pub fn ok(&self) -> bool {
        self.status == serde_json::Value::String("ok".into())
            || self.status.get("kind").and_then(|k| k.as_str()) == Some("ok")
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
}
