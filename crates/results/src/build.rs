//! The payload of a `build` results file: per platform × strategy, the time of every Dockerfile
//! step, grouped by stage, and the image it produced.

use serde::{Deserialize, Serialize};

/// Seconds.
pub type Seconds = f64;

/// One Dockerfile instruction as the builder ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    /// 1-based step number across the whole Dockerfile.
    pub number: usize,
    /// The instruction as the builder printed it (`RUN make -j2`).
    pub instruction: String,
    /// Wall time from this step's start to the next one's.
    pub seconds: Seconds,
    /// Whether the builder reused a cached result.
    pub cached: bool,
}

/// One `FROM` stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    /// The stage's name (`AS build`), or its index.
    pub name: String,
    /// The platform the stage's commands ran as (`linux/amd64` for `--platform=$BUILDPLATFORM`
    /// stages under the cross strategy).
    pub runs_as: String,
    /// Whether it has `RUN` steps and they went through QEMU.
    pub emulated: bool,
    /// Sum of its steps.
    pub seconds: Seconds,
    /// Its steps.
    pub steps: Vec<StepTiming>,
}

/// One platform built with one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRun {
    /// Target platform.
    pub platform: String,
    /// `native`, `emulated`, `cross` or `remote`.
    pub strategy: String,
    /// The engine that built it (`unix:///var/run/docker.sock`, `tcp://…`).
    pub engine: String,
    /// What the strategy means on this machine, in words (e.g. that `remote` reached the local
    /// daemon over TCP).
    pub note: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The failure: step, platform and the last log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the whole build (context upload to image ID).
    pub seconds: Seconds,
    /// The steps' time without `FROM` steps (base image pulls): the build's own work, which the
    /// ratios compare.
    #[serde(default)]
    pub work_seconds: Seconds,
    /// Per stage.
    pub stages: Vec<StageTiming>,
    /// Image ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Manifest digest in the output index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Compressed size of the image's layers + config + manifest.
    pub image_bytes: u64,
}

/// A ratio between two strategies for one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRatio {
    /// Platform of the numerator.
    pub platform: String,
    /// `emulated/native`, `cross/native`, …
    pub label: String,
    /// Numerator time / denominator time.
    pub ratio: f64,
}

/// The `build` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Build context directory.
    pub context: String,
    /// Dockerfile inside it.
    pub dockerfile: String,
    /// Every build, in the order run.
    pub runs: Vec<BuildRun>,
    /// Ratios of work times (steps without base pulls) against the native build of the host.
    pub ratios: Vec<StrategyRatio>,
    /// Where the index went (`oci:DIR:tag` or a registry reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// Whether `verify` passed on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}
