//! What a plan starts from: the user's profile and the six factors, each with where its value
//! came from. Plain data: nothing here prices or decides (see [`crate::model`]).

use serde::{Deserialize, Serialize};

/// The pricing id of the provider's per-minute charge for self-hosted jobs that a profile uses
/// unless told otherwise: GitHub's (pending).
pub const DEFAULT_SELF_HOSTED_CHARGE: &str = "github-self-hosted";

/// Hours in a month (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Prices whose figure is older than this many months are flagged.
pub const STALE_MONTHS: i64 = 12;

/// The user's situation and what they ask of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Multi-arch builds per month.
    pub builds_per_month: f64,
    /// Minutes of one native amd64 build of the project.
    pub minutes_per_build: f64,
    /// Service instance-hours per month on x86 today.
    pub service_hours_per_month: f64,
    /// Hosted x64 runner (pricing id).
    pub x64_runner: String,
    /// Hosted arm64 runner (pricing id).
    pub arm64_runner: String,
    /// Self-hosted arm64 build worker instance (pricing id).
    pub arm64_worker: String,
    /// x86 service instance (pricing id).
    pub x86_instance: String,
    /// arm64 service instance (pricing id).
    pub arm64_instance: String,
    /// Minutes of the job that merges per-platform images into one index (matrix options).
    pub merge_minutes: f64,
    /// The day whose prices apply (`YYYY-MM-DD`); `None`: today.
    pub date: Option<String>,
    /// Included runner minutes per month; `None`: the CI plan's allowance (`ci_plan`), or none.
    pub free_minutes: Option<f64>,
    /// The CI plan (a `[plans.ID]` of the catalog) whose included minutes apply, and which
    /// runners they pay for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_plan: Option<String>,
    /// Price pending changes (announced, no date in force) as if they applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assume_pending: bool,
    /// The provider's per-minute charge for jobs on self-hosted workers (pricing id of a
    /// runner entry); `None`: no such charge.
    pub self_hosted_charge: Option<String>,
    /// A public repository: runners marked `free_for_public` cost nothing.
    pub public_repo: bool,
    /// The project builds for wasm32-wasip1 and can ship as Wasm.
    pub wasm_ready: bool,
    /// Only options whose wall time per build is at most this are recommended.
    pub max_minutes_per_build: Option<f64>,
    /// Options whose monthly cost is within this fraction of the cheapest's (or within
    /// `margin_usd` of it, whichever is more) are even, and the fastest of them is recommended.
    pub margin: f64,
    /// The margin's floor in USD a month, so that $0.00 against $0.50 is even.
    pub margin_usd: f64,
    /// USD per engineer-hour spent waiting for a build; 0: waiting is not priced.
    pub engineer_hourly: f64,
    /// Engineers waiting on each build.
    pub waits_per_build: f64,
    /// The team's CI keeps a build cache: use the build ratios of warm rebuilds (`build
    /// --warm`, a rebuild after a one-line change) instead of cold builds, where there are any.
    pub warm: bool,
    /// Factors the user gives (`--factor NAME=VALUE[:LOW..HIGH]`), used in place of measured or
    /// modelled ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<Given>,
}

/// A factor the user gives, from their own measurements (`--factor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Given {
    /// Which factor.
    pub factor: FactorId,
    /// Its value.
    pub value: f64,
    /// A range the user thinks it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
}

impl Given {
    /// The largest factor a user may give: far past any slowdown seen (QEMU is 5–40×).
    pub const MAX: f64 = 1e3;
    /// The smallest: a thousandth of the native time, far below any build or run seen.
    pub const MIN: f64 = 1e-3;

    /// Parse `NAME=VALUE` or `NAME=VALUE:LOW..HIGH` (`emulated=6.2:5..8`).
    pub fn parse(s: &str) -> std::result::Result<Given, String> {
        let names = FactorId::ALL.map(FactorId::name).join(", ");
        let (name, rest) = s.split_once('=').ok_or_else(|| {
            format!("--factor {s:?}: give NAME=VALUE or NAME=VALUE:LOW..HIGH, NAME one of {names}")
        })?;
        let factor = FactorId::ALL
            .into_iter()
            .find(|f| f.name() == name.trim())
            .ok_or_else(|| format!("--factor {s:?}: no factor {name:?}; factors: {names}"))?;
        let number = |t: &str| -> std::result::Result<f64, String> {
            let v: f64 = t.trim().parse().map_err(|_| {
                format!("--factor {s:?}: {t:?} is not a number; give a ratio such as 1.2")
            })?;
            if v.is_finite() && (Given::MIN..=Given::MAX).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "--factor {s:?}: {t} is not a ratio from {} to {}",
                    Given::MIN,
                    Given::MAX
                ))
            }
        };
        let (value, interval) = match rest.split_once(':') {
            None => (number(rest)?, None),
            Some((v, range)) => {
                let (lo, hi) = range.split_once("..").ok_or_else(|| {
                    format!("--factor {s:?}: give the range as LOW..HIGH, such as 5..8")
                })?;
                let (v, lo, hi) = (number(v)?, number(lo)?, number(hi)?);
                if !(lo <= v && v <= hi) {
                    return Err(format!(
                        "--factor {s:?}: the range {lo}..{hi} must hold the value {v}"
                    ));
                }
                (v, Some((lo, hi)))
            }
        };
        Ok(Given { factor, value, interval })
    }

    /// As the user wrote it, for the factor's label.
    pub fn text(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("--factor {}={}:{lo}..{hi}", self.factor.name(), self.value),
            None => format!("--factor {}={}", self.factor.name(), self.value),
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            builds_per_month: 400.0,
            minutes_per_build: 10.0,
            service_hours_per_month: 4.0 * HOURS_PER_MONTH,
            x64_runner: "github-linux-2core-x64".into(),
            arm64_runner: "github-linux-2core-arm64".into(),
            arm64_worker: "c7g-large".into(),
            x86_instance: "c7i-large".into(),
            arm64_instance: "c7g-large".into(),
            merge_minutes: 0.5,
            date: None,
            free_minutes: None,
            ci_plan: None,
            assume_pending: false,
            self_hosted_charge: Some(DEFAULT_SELF_HOSTED_CHARGE.into()),
            public_repo: false,
            wasm_ready: false,
            max_minutes_per_build: None,
            margin: 0.05,
            margin_usd: 1.0,
            engineer_hourly: 0.0,
            waits_per_build: 1.0,
            warm: false,
            given: Vec::new(),
        }
    }
}

/// Which factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorId {
    /// Emulated arm64 build time / native amd64 build time.
    Emulated,
    /// Cross-compiled arm64 build time / native amd64 build time.
    Cross,
    /// Native arm64 build time / native amd64 build time.
    Arm64Build,
    /// Wasm build time / native build time.
    WasmBuild,
    /// Wasm run time / native run time.
    WasmRuntime,
    /// Service run time on arm64 / on x86.
    Arm64Runtime,
}

impl FactorId {
    /// Every factor, in output order.
    pub const ALL: [FactorId; 6] = [
        FactorId::Emulated,
        FactorId::Cross,
        FactorId::Arm64Build,
        FactorId::WasmBuild,
        FactorId::WasmRuntime,
        FactorId::Arm64Runtime,
    ];

    /// The name `--factor` takes.
    pub fn name(self) -> &'static str {
        match self {
            FactorId::Emulated => "emulated",
            FactorId::Cross => "cross",
            FactorId::Arm64Build => "arm64-build",
            FactorId::WasmBuild => "wasm-build",
            FactorId::WasmRuntime => "wasm-runtime",
            FactorId::Arm64Runtime => "arm64-runtime",
        }
    }

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            FactorId::Emulated => "emulated / native build",
            FactorId::Cross => "cross / native build",
            FactorId::Arm64Build => "arm64 / amd64 build",
            FactorId::WasmBuild => "wasm / native build",
            FactorId::WasmRuntime => "wasm / native runtime",
            FactorId::Arm64Runtime => "arm64 / x86 runtime",
        }
    }
}

/// Where a factor comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum Basis {
    /// Measured on this or a merged host.
    Measured {
        /// From what.
        from: String,
    },
    /// Not measurable here; the value and why.
    Modelled {
        /// Why this value.
        why: String,
    },
    /// Given by the user (`--factor`), from their own figures.
    Given {
        /// The flag as given.
        from: String,
    },
}

/// A workload a factor left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    /// The workload.
    pub workload: String,
    /// Why it is not comparable.
    pub why: String,
}

/// A ratio the model uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The ratio.
    pub value: f64,
    /// Measured or modelled.
    #[serde(flatten)]
    pub basis: Basis,
    /// A range the true value is likely in (from the cells' 95% CIs), when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
    /// The workloads it combines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    /// The workloads it left out, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Excluded>,
}

impl Factor {
    /// A measured factor.
    pub fn measured(value: f64, from: impl Into<String>) -> Self {
        Self {
            value,
            basis: Basis::Measured { from: from.into() },
            interval: None,
            workloads: Vec::new(),
            excluded: Vec::new(),
        }
    }
    /// A modelled factor.
    pub fn modelled(value: f64, why: impl Into<String>) -> Self {
        Self {
            value,
            basis: Basis::Modelled { why: why.into() },
            interval: None,
            workloads: Vec::new(),
            excluded: Vec::new(),
        }
    }
    /// With a likely range.
    pub fn with_interval(mut self, lo: f64, hi: f64) -> Self {
        self.interval = Some((lo, hi));
        self
    }
    /// Whether modelled.
    pub fn is_modelled(&self) -> bool {
        matches!(self.basis, Basis::Modelled { .. })
    }
    /// ` (measured)`, ` (modelled)` or ` (given)`, for sentences.
    pub fn label(&self) -> &'static str {
        match self.basis {
            Basis::Measured { .. } => " (measured)",
            Basis::Modelled { .. } => " (modelled)",
            Basis::Given { .. } => " (given)",
        }
    }
    /// `measured`, `modelled` or `given`, as a word.
    pub fn basis_word(&self) -> &'static str {
        match self.basis {
            Basis::Measured { .. } => "measured",
            Basis::Modelled { .. } => "modelled",
            Basis::Given { .. } => "given",
        }
    }
}

/// The ratios that turn an amd64 build into each option's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    /// Emulated arm64 build time / native amd64 build time.
    pub emulated: Factor,
    /// Cross-compiled arm64 build time / native amd64 build time.
    pub cross: Factor,
    /// Native arm64 build time / native amd64 build time.
    pub arm64_build: Factor,
    /// Wasm build time / native build time.
    pub wasm_build: Factor,
    /// Wasm (Cranelift) run time / native run time of the service.
    pub wasm_runtime: Factor,
    /// Service run time on arm64 / on x86 (instance-hours needed).
    pub arm64_runtime: Factor,
}

impl Factors {
    /// One factor.
    pub fn get(&self, id: FactorId) -> &Factor {
        match id {
            FactorId::Emulated => &self.emulated,
            FactorId::Cross => &self.cross,
            FactorId::Arm64Build => &self.arm64_build,
            FactorId::WasmBuild => &self.wasm_build,
            FactorId::WasmRuntime => &self.wasm_runtime,
            FactorId::Arm64Runtime => &self.arm64_runtime,
        }
    }

    fn slot(&mut self, id: FactorId) -> &mut Factor {
        match id {
            FactorId::Emulated => &mut self.emulated,
            FactorId::Cross => &mut self.cross,
            FactorId::Arm64Build => &mut self.arm64_build,
            FactorId::WasmBuild => &mut self.wasm_build,
            FactorId::WasmRuntime => &mut self.wasm_runtime,
            FactorId::Arm64Runtime => &mut self.arm64_runtime,
        }
    }

    /// A copy with one factor's value replaced.
    pub fn with_value(&self, id: FactorId, value: f64) -> Factors {
        let mut f = self.clone();
        f.slot(id).value = value;
        f
    }

    /// A copy with the user's factors in place of the measured or modelled ones; each is
    /// labelled given, with the flag.
    pub fn with_given(&self, given: &[Given]) -> Factors {
        let mut f = self.clone();
        for g in given {
            *f.slot(g.factor) = Factor {
                value: g.value,
                basis: Basis::Given { from: g.text() },
                interval: g.interval,
                workloads: Vec::new(),
                excluded: Vec::new(),
            };
        }
        f
    }

    /// Each factor with a name for people, in a fixed order.
    pub fn named(&self) -> [(&'static str, &Factor); 6] {
        FactorId::ALL.map(|id| (id.label(), self.get(id)))
    }
}
