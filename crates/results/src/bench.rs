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
}

impl BenchCell {
    /// Whether the cell measured something valid.
    pub fn ok(&self) -> bool {
        self.status == serde_json::Value::String("ok".into())
            || self.status.get("kind").and_then(|k| k.as_str()) == Some("ok")
    }
}
