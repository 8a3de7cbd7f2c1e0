//! The payload of a `build` results file: per platform × strategy, the time of every Dockerfile
//! step, grouped by stage, and the image it produced.

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// How a platform's image was built. The `remote` worker's address is in [`BuildRun::engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    /// On an engine of the target's own architecture, here.
    Native,
    /// Every stage runs as the target, through QEMU.
    Emulated,
    /// `--platform=$BUILDPLATFORM` stages run natively with a cross toolchain.
    Cross,
    /// On a native worker reached through another `DOCKER_HOST`.
    Remote,
}

impl StrategyKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [StrategyKind; 4] =
        [StrategyKind::Native, StrategyKind::Emulated, StrategyKind::Cross, StrategyKind::Remote];

    /// The lowercase name (`emulated`).
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Native => "native",
            StrategyKind::Emulated => "emulated",
            StrategyKind::Cross => "cross",
            StrategyKind::Remote => "remote",
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Which builder of the engine ran the build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// The engine's classic (pre-BuildKit) builder.
    #[default]
    Classic,
    /// BuildKit, through a session.
    Buildkit,
}

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
    pub runs_as: Platform,
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
    pub platform: Platform,
    /// How it was built.
    pub strategy: StrategyKind,
    /// The builder that ran it.
    #[serde(default)]
    pub builder: Builder,
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

/// The work time of one strategy's build over the native build of the host's platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRatio {
    /// Platform of the numerator.
    pub platform: Platform,
    /// Strategy of the numerator.
    pub strategy: StrategyKind,
    /// Platform of the native build in the denominator.
    pub against: Platform,
    /// Numerator time / denominator time.
    pub ratio: f64,
}

impl StrategyRatio {
    /// In words: `linux/arm64 emulated / native linux/amd64`.
    pub fn label(&self) -> String {
        format!("{} {} / native {}", self.platform, self.strategy, self.against)
    }
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
